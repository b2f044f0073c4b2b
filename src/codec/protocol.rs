//! The `v1.bsatn.spacetimedb` websocket protocol: frames in, messages out.
//!
//! Message types come from `spacetimedb-client-api-messages` (the crate SpacetimeDB's own SDKs use).
//! What is ours: the frame envelope (a compression tag byte, protocol doc §1.4), decompression, and a
//! bounds-checked walk over row lists — the crate's own row accessor slices without checking offsets,
//! and a server message must never be able to panic the gateway.

use std::borrow::Cow;
use std::io::Read;

use bytes::Bytes;
use spacetimedb_client_api_messages::websocket::common::{QuerySetId, RowSizeHint};
use spacetimedb_client_api_messages::websocket::v1 as ws;
use spacetimedb_lib::bsatn;
use spacetimedb_sats::raw_identifier::RawIdentifier;

use crate::error::{GatewayError, Result};

pub type ServerMessage = ws::ServerMessage<ws::BsatnFormat>;
pub type DatabaseUpdate = ws::DatabaseUpdate<ws::BsatnFormat>;
pub type TableUpdate = ws::TableUpdate<ws::BsatnFormat>;
pub type QueryUpdate = ws::QueryUpdate<ws::BsatnFormat>;
pub type RowList = ws::BsatnRowList;

const TAG_NONE: u8 = 0;
const TAG_BROTLI: u8 = 1;
const TAG_GZIP: u8 = 2;

fn protocol_error(what: impl Into<String>) -> GatewayError {
    GatewayError::protocol(what)
}

/// Decodes one binary frame from the server: a compression tag byte, then the (compressed) BSATN
/// `ServerMessage`.
pub fn decode_server_frame(frame: &[u8]) -> Result<ServerMessage> {
    bsatn::from_slice(&frame_payload(frame)?).map_err(|e| protocol_error(format!("undecodable server message: {e}")))
}

/// The BSATN payload of a binary server frame: the compression tag byte stripped, the rest decompressed.
/// Every binary protocol (v1, v2, v3) frames server messages this way (protocol doc §1.4).
pub(crate) fn frame_payload(frame: &[u8]) -> Result<Cow<'_, [u8]>> {
    let (&tag, payload) = frame.split_first().ok_or_else(|| protocol_error("the server sent an empty frame"))?;
    match tag {
        TAG_NONE => Ok(Cow::Borrowed(payload)),
        TAG_BROTLI => decompress(brotli_decompressor::Decompressor::new(payload, 64 * 1024), "brotli").map(Cow::Owned),
        TAG_GZIP => decompress(flate2::read::GzDecoder::new(payload), "gzip").map(Cow::Owned),
        other => Err(protocol_error(format!("unknown compression tag {other} in a server frame"))),
    }
}

fn decompress(mut reader: impl Read, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).map_err(|e| protocol_error(format!("corrupt {what} data from the server: {e}")))?;
    Ok(out)
}

fn encode(message: &ws::ClientMessage<Bytes>) -> Vec<u8> {
    // Encoding our own well-formed message into a Vec cannot fail.
    bsatn::to_vec(message).expect("BSATN encoding of a client message")
}

/// The largest message a SpacetimeDB 1.3 server reads from a client: `max_message_size(Some(0x2000000))`
/// in `spacetimedb-client-api` 1.3.0 `routes/subscribe.rs`. On a larger one it closes the websocket, and
/// every request in flight on that connection fails with an unknown outcome.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 0x200_0000;

/// The length of [`encode_call_reducer`]'s message, without encoding it: the variant tag, the
/// length-prefixed reducer name and arguments, the request id and the flags byte.
pub fn call_reducer_len(reducer: &str, args_len: usize) -> usize {
    1 + (4 + reducer.len()) + (4 + args_len) + 4 + 1
}

/// `CallReducer` with BSATN-encoded arguments; the server echoes `request_id` in its reply.
pub fn encode_call_reducer(reducer: &str, args: Vec<u8>, request_id: u32) -> Vec<u8> {
    encode(&ws::ClientMessage::CallReducer(ws::CallReducer {
        reducer: RawIdentifier::new(reducer),
        args: Bytes::from(args),
        request_id,
        flags: ws::CallReducerFlags::FullUpdate,
    }))
}

/// `SubscribeMulti`: adds a set of queries identified by `query_id`, leaving other sets untouched.
pub fn encode_subscribe_multi(queries: &[String], request_id: u32, query_id: u32) -> Vec<u8> {
    encode(&ws::ClientMessage::SubscribeMulti(ws::SubscribeMulti {
        query_strings: queries.iter().map(|q| q.as_str().into()).collect(),
        request_id,
        query_id: QuerySetId::new(query_id),
    }))
}

/// `UnsubscribeMulti`: drops the query set `query_id`.
pub fn encode_unsubscribe_multi(request_id: u32, query_id: u32) -> Vec<u8> {
    encode(&ws::ClientMessage::UnsubscribeMulti(ws::UnsubscribeMulti {
        request_id,
        query_id: QuerySetId::new(query_id),
    }))
}

/// The query updates of one table update, decompressed (servers currently never compress them, but the
/// format allows it).
pub fn query_updates(table: &TableUpdate) -> Result<Vec<QueryUpdate>> {
    table
        .updates
        .iter()
        .map(|u| match u {
            ws::CompressableQueryUpdate::Uncompressed(q) => Ok(q.clone()),
            ws::CompressableQueryUpdate::Brotli(b) => {
                decode_query_update(&decompress(brotli_decompressor::Decompressor::new(&b[..], 64 * 1024), "brotli")?)
            }
            ws::CompressableQueryUpdate::Gzip(b) => {
                decode_query_update(&decompress(flate2::read::GzDecoder::new(&b[..]), "gzip")?)
            }
        })
        .collect()
}

fn decode_query_update(bytes: &[u8]) -> Result<QueryUpdate> {
    bsatn::from_slice(bytes).map_err(|e| protocol_error(format!("undecodable compressed query update: {e}")))
}

/// The rows of a row list as byte slices of its buffer, with every offset checked.
pub fn rows(list: &RowList) -> Result<Vec<Bytes>> {
    let (hint, data) = list.clone().into_inner();
    let len = data.len();
    match hint {
        RowSizeHint::FixedSize(0) => {
            if len == 0 {
                Ok(Vec::new())
            } else {
                Err(protocol_error("a row list declares rows of size 0 but carries data"))
            }
        }
        RowSizeHint::FixedSize(size) => {
            let size = size as usize;
            if len % size != 0 {
                return Err(protocol_error(format!(
                    "a row list of {len} bytes is not a multiple of its row size {size}"
                )));
            }
            Ok((0..len / size).map(|i| data.slice(i * size..(i + 1) * size)).collect())
        }
        RowSizeHint::RowOffsets(offsets) => {
            let mut out = Vec::with_capacity(offsets.len());
            for (i, &start) in offsets.iter().enumerate() {
                let end = offsets.get(i + 1).copied().unwrap_or(len as u64);
                if start > end || end > len as u64 {
                    return Err(protocol_error(format!(
                        "a row list has an invalid row offset {start}..{end} (data: {len} bytes)"
                    )));
                }
                out.push(data.slice(start as usize..end as usize));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    #[test]
    fn call_reducer_len_is_the_encoded_length() {
        for (reducer, args) in [("a", 0), ("create_document", 17), ("x".repeat(300).as_str(), 70_000)] {
            let encoded = encode_call_reducer(reducer, vec![7; args], u32::MAX);
            assert_eq!(call_reducer_len(reducer, args), encoded.len(), "{reducer} with {args} bytes");
        }
    }

    fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![tag];
        f.extend_from_slice(body);
        f
    }

    fn identity_message() -> Vec<u8> {
        let msg: ServerMessage = ws::ServerMessage::IdentityToken(ws::IdentityToken {
            identity: spacetimedb_lib::Identity::ZERO,
            token: "t".repeat(2000).into(),
            connection_id: spacetimedb_lib::ConnectionId::from_u128(7),
        });
        bsatn::to_vec(&msg).unwrap()
    }

    fn assert_identity(msg: ServerMessage) {
        match msg {
            ws::ServerMessage::IdentityToken(t) => {
                assert_eq!(t.connection_id.to_u128(), 7);
                assert_eq!(t.token.len(), 2000);
            }
            other => panic!("unexpected {other:?}", other = std::mem::discriminant(&other)),
        }
    }

    #[test]
    fn decodes_uncompressed_gzip_and_brotli_frames() {
        let body = identity_message();
        assert_identity(decode_server_frame(&frame(TAG_NONE, &body)).unwrap());

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        assert_identity(decode_server_frame(&frame(TAG_GZIP, &gz.finish().unwrap())).unwrap());

        let mut br = Vec::new();
        brotli_reference_compress(&body, &mut br);
        assert_identity(decode_server_frame(&frame(TAG_BROTLI, &br)).unwrap());
    }

    /// A brotli stream made of one uncompressed meta-block (RFC 7932 §9.2), so the test needs no encoder.
    fn brotli_reference_compress(data: &[u8], out: &mut Vec<u8>) {
        // WBITS=16 (one 0 bit), then ISLAST=0, MNIBBLES=4, MLEN-1 in 16 bits, ISUNCOMPRESSED=1, pad to byte,
        // the raw bytes, then an empty last meta-block (ISLAST=1, ISLASTEMPTY=1).
        assert!(!data.is_empty() && data.len() <= 1 << 16);
        let mut bits: u64 = 0;
        let mut n = 0;
        let push = |v: u64, count: u32, bits: &mut u64, n: &mut u32| {
            *bits |= v << *n;
            *n += count;
        };
        push(0, 1, &mut bits, &mut n); // WBITS = 16
        push(0, 1, &mut bits, &mut n); // ISLAST = 0
        push(0, 2, &mut bits, &mut n); // MNIBBLES = 4
        push((data.len() - 1) as u64, 16, &mut bits, &mut n);
        push(1, 1, &mut bits, &mut n); // ISUNCOMPRESSED
        let bytes = n.div_ceil(8);
        out.extend_from_slice(&bits.to_le_bytes()[..bytes as usize]);
        out.extend_from_slice(data);
        out.push(0b11); // ISLAST=1, ISLASTEMPTY=1
    }

    #[test]
    fn rejects_bad_frames_with_protocol_errors() {
        for bad in [
            vec![],
            vec![9, 1, 2],
            frame(TAG_NONE, &[200, 1, 2]),
            frame(TAG_GZIP, b"not gzip"),
            frame(TAG_BROTLI, &[0xff; 8]),
        ] {
            let e = decode_server_frame(&bad).err().expect("a bad frame decoded");
            assert_eq!(e.code, crate::error::ErrorCode::Protocol, "{bad:?}: {e}");
        }
    }

    #[test]
    fn never_panics_on_truncations_of_a_real_message() {
        let body = frame(TAG_NONE, &identity_message());
        for cut in 0..body.len() {
            assert!(decode_server_frame(&body[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
    }

    #[test]
    fn walks_row_lists_and_rejects_bad_offsets() {
        let data = Bytes::from_static(b"aabbbc");
        let list = RowList::new(RowSizeHint::RowOffsets(Arc::from([0u64, 2, 5])), data.clone());
        assert_eq!(
            rows(&list).unwrap(),
            vec![Bytes::from_static(b"aa"), Bytes::from_static(b"bbb"), Bytes::from_static(b"c")]
        );

        let fixed = RowList::new(RowSizeHint::FixedSize(2), Bytes::from_static(b"aabbcc"));
        assert_eq!(rows(&fixed).unwrap().len(), 3);

        for bad in [
            RowList::new(RowSizeHint::RowOffsets(Arc::from([0u64, 9])), data.clone()),
            RowList::new(RowSizeHint::RowOffsets(Arc::from([3u64, 1])), data.clone()),
            RowList::new(RowSizeHint::FixedSize(4), data.clone()),
            RowList::new(RowSizeHint::FixedSize(0), data.clone()),
        ] {
            assert_eq!(rows(&bad).unwrap_err().code, crate::error::ErrorCode::Protocol);
        }
        assert!(rows(&RowList::default()).unwrap().is_empty());
    }

    #[test]
    fn client_messages_round_trip_through_the_crate_types() {
        let bytes = encode_subscribe_multi(&["SELECT * FROM t".to_string()], 5, 9);
        let msg: ws::ClientMessage<Bytes> = bsatn::from_slice(&bytes).unwrap();
        match msg {
            ws::ClientMessage::SubscribeMulti(s) => {
                assert_eq!((s.request_id, s.query_id.id), (5, 9));
                assert_eq!(&*s.query_strings[0], "SELECT * FROM t");
            }
            _ => panic!("wrong variant"),
        }
        let bytes = encode_call_reducer("create_document", vec![1, 2, 3], 77);
        match bsatn::from_slice::<ws::ClientMessage<Bytes>>(&bytes).unwrap() {
            ws::ClientMessage::CallReducer(c) => {
                assert_eq!((&*c.reducer, &c.args[..], c.request_id), ("create_document", &[1u8, 2, 3][..], 77));
            }
            _ => panic!("wrong variant"),
        }
    }
}
