//! v2/v3 server frames built with the official crate's types and BSATN encoder, decoded by
//! [`FrameDecoder`] into the v1 shape. The same messages through a live session's projection:
//! `session::driver::tests::v2_frames`.

use std::io::Write;

use bytes::Bytes;
use spacetimedb_client_api_messages::websocket::common::{QuerySetId, RowSizeHint};
use spacetimedb_client_api_messages::websocket::{v1 as ws1, v2 as ws2};
use spacetimedb_lib::{bsatn, ConnectionId, Identity, TimeDuration, Timestamp};
use spacetimedb_sats::raw_identifier::RawIdentifier;

use super::row_list;
use crate::codec::inbound::{FrameDecoder, Inbound, Protocol};
use crate::codec::protocol::{self, ServerMessage};
use crate::codec::{v2::Caller, v2_requests};
use crate::error::ErrorCode;

pub(crate) fn me() -> Caller {
    Caller {
        identity: Identity::from_claims("https://issuer.example", "gateway"),
        connection_id: ConnectionId::from_u128(7),
    }
}

/// The BSATN of v2 messages, concatenated (one message: a v2 payload; several: a v3 one).
pub(crate) fn v2_bsatn(messages: &[ws2::ServerMessage]) -> Vec<u8> {
    messages.iter().flat_map(|m| bsatn::to_vec(m).unwrap()).collect()
}

/// An uncompressed server frame: tag byte 0, then the payload.
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    [&[0u8][..], payload].concat()
}

fn gzip_frame(payload: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(vec![2u8], flate2::Compression::fast());
    gz.write_all(payload).unwrap();
    gz.finish().unwrap()
}

pub(crate) fn initial_connection(caller: Caller) -> ws2::ServerMessage {
    ws2::ServerMessage::InitialConnection(ws2::InitialConnection {
        identity: caller.identity,
        connection_id: caller.connection_id,
        token: "token".into(),
    })
}

pub(crate) fn persistent(table: &str, inserts: &[Vec<u8>], deletes: &[Vec<u8>]) -> ws2::TableUpdate {
    ws2::TableUpdate {
        table_name: RawIdentifier::new(table),
        rows: [ws2::TableUpdateRows::PersistentTable(ws2::PersistentTableRows {
            inserts: row_list(inserts),
            deletes: row_list(deletes),
        })]
        .into(),
    }
}

pub(crate) fn query_set(id: u32, tables: Vec<ws2::TableUpdate>) -> ws2::QuerySetUpdate {
    ws2::QuerySetUpdate { query_set_id: QuerySetId::new(id), tables: tables.into() }
}

pub(crate) fn query_rows(table: &str, rows: &[Vec<u8>]) -> ws2::QueryRows {
    ws2::QueryRows { tables: [ws2::SingleTableRows { table: RawIdentifier::new(table), rows: row_list(rows) }].into() }
}

pub(crate) fn reducer_result(request_id: u32, result: ws2::ReducerOutcome) -> ws2::ServerMessage {
    ws2::ServerMessage::ReducerResult(ws2::ReducerResult {
        request_id,
        timestamp: Timestamp::from_micros_since_unix_epoch(1_700_000_000_000_000),
        result,
    })
}

fn decode(protocol: Protocol, messages: &[ws2::ServerMessage]) -> Vec<Inbound> {
    FrameDecoder::new(protocol).decode(&frame(&v2_bsatn(messages))).unwrap_or_else(|e| panic!("{e}"))
}

fn server(inbound: Inbound) -> ServerMessage {
    match inbound {
        Inbound::Server(m) => *m,
        _ => panic!("expected a v1-shaped message"),
    }
}

/// `(table, deletes, inserts)` of a v1 update, rows as bytes, in order.
type Rows = Vec<(String, Vec<Bytes>, Vec<Bytes>)>;

fn rows_of(update: &protocol::DatabaseUpdate) -> Rows {
    let mut out = Vec::new();
    for table in &update.tables {
        for q in protocol::query_updates(table).unwrap() {
            out.push((
                table.table_name.to_string(),
                protocol::rows(&q.deletes).unwrap(),
                protocol::rows(&q.inserts).unwrap(),
            ));
        }
    }
    out
}

fn b(rows: &[&'static [u8]]) -> Vec<Bytes> {
    rows.iter().map(|r| Bytes::from_static(r)).collect()
}

fn v(rows: &[&[u8]]) -> Vec<Vec<u8>> {
    rows.iter().map(|r| r.to_vec()).collect()
}

#[test]
fn protocol_tokens_are_the_crates() {
    assert_eq!(Protocol::V1.subprotocol(), "v1.bsatn.spacetimedb");
    assert_eq!(Protocol::V2.subprotocol(), "v2.bsatn.spacetimedb");
    assert_eq!(Protocol::V3.subprotocol(), "v3.bsatn.spacetimedb");
    for p in [Protocol::V1, Protocol::V2, Protocol::V3] {
        assert_eq!(Protocol::from_subprotocol(p.subprotocol()), Some(p));
    }
    assert_eq!(Protocol::from_subprotocol("v1.json.spacetimedb"), None);
}

#[test]
fn initial_connection_becomes_the_identity_token() {
    let caller = me();
    let [msg] = <[Inbound; 1]>::try_from(decode(Protocol::V2, &[initial_connection(caller)])).ok().unwrap();
    let ServerMessage::IdentityToken(t) = server(msg) else { panic!("expected IdentityToken") };
    assert_eq!((t.identity, t.connection_id, &*t.token), (caller.identity, caller.connection_id, "token"));
}

#[test]
fn subscribe_applied_inserts_its_rows() {
    let applied = ws2::ServerMessage::SubscribeApplied(ws2::SubscribeApplied {
        request_id: 3,
        query_set_id: QuerySetId::new(9),
        rows: query_rows("document", &v(&[b"r1", b"row2"])),
    });
    let ServerMessage::SubscribeMultiApplied(a) = server(decode(Protocol::V2, &[applied]).remove(0)) else {
        panic!("expected SubscribeMultiApplied")
    };
    assert_eq!((a.request_id, a.query_id.id), (3, 9));
    assert_eq!(rows_of(&a.update), vec![("document".into(), vec![], b(&[b"r1", b"row2"]))]);
    assert_eq!(a.update.tables[0].num_rows, 2);
}

#[test]
fn unsubscribe_applied_deletes_the_dropped_rows_or_nothing() {
    let with_rows = ws2::ServerMessage::UnsubscribeApplied(ws2::UnsubscribeApplied {
        request_id: 4,
        query_set_id: QuerySetId::new(9),
        rows: Some(query_rows("document", &v(&[b"r1"]))),
    });
    let without = ws2::ServerMessage::UnsubscribeApplied(ws2::UnsubscribeApplied {
        request_id: 5,
        query_set_id: QuerySetId::new(9),
        rows: None,
    });
    let mut out = decode(Protocol::V3, &[with_rows, without]).into_iter().map(server);
    let Some(ServerMessage::UnsubscribeMultiApplied(a)) = out.next() else {
        panic!("expected UnsubscribeMultiApplied")
    };
    assert_eq!(rows_of(&a.update), vec![("document".into(), b(&[b"r1"]), vec![])]);
    let Some(ServerMessage::UnsubscribeMultiApplied(a)) = out.next() else {
        panic!("expected UnsubscribeMultiApplied")
    };
    assert_eq!((a.request_id, a.update.tables.len()), (5, 0));
}

#[test]
fn transaction_updates_merge_query_sets_and_keep_event_rows_apart() {
    let tx = ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate {
        query_sets: [
            query_set(
                1,
                vec![persistent("document", &v(&[b"new"]), &v(&[b"old"])), persistent("member", &v(&[b"m"]), &[])],
            ),
            query_set(
                2,
                vec![
                    persistent("document", &v(&[b"new"]), &[]),
                    ws2::TableUpdate {
                        table_name: "audit_event".into(),
                        rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows {
                            events: row_list(&v(&[b"e1", b"e2"])),
                        })]
                        .into(),
                    },
                ],
            ),
        ]
        .into(),
    });
    let mut out = decode(Protocol::V2, &[tx]).into_iter();
    let Some(Inbound::Server(light)) = out.next() else { panic!("expected the update first") };
    let ServerMessage::TransactionUpdateLight(light) = *light else { panic!("expected TransactionUpdateLight") };
    // One v1 table entry per table, one query update per query set that touched it (as v1 servers send).
    assert_eq!(
        rows_of(&light.update),
        vec![
            ("document".into(), b(&[b"old"]), b(&[b"new"])),
            ("document".into(), vec![], b(&[b"new"])),
            ("member".into(), vec![], b(&[b"m"])),
        ]
    );
    assert_eq!(light.update.tables.len(), 2);
    let Some(Inbound::Events(events)) = out.next() else { panic!("expected the event rows after the update") };
    assert_eq!((events.query_set_id.id, &*events.table_name), (2, "audit_event"));
    assert_eq!(protocol::rows(&events.events).unwrap(), b(&[b"e1", b"e2"]));
    assert!(out.next().is_none());
}

fn decode_result(outcome: ws2::ReducerOutcome) -> Vec<Inbound> {
    decode(Protocol::V3, &[initial_connection(me()), reducer_result(42, outcome)]).into_iter().skip(1).collect()
}

fn tx_of(inbound: Inbound) -> ws1::TransactionUpdate<ws1::BsatnFormat> {
    match server(inbound) {
        ServerMessage::TransactionUpdate(tx) => tx,
        _ => panic!("expected TransactionUpdate"),
    }
}

#[test]
fn a_committed_reducer_result_is_the_callers_transaction_update() {
    let ok = ws2::ReducerOutcome::Ok(ws2::ReducerOk {
        ret_value: Bytes::from_static(&[1, 2]),
        transaction_update: ws2::TransactionUpdate {
            query_sets: [query_set(1, vec![persistent("document", &v(&[b"mine"]), &[])])].into(),
        },
    });
    let mut out = decode_result(ok).into_iter();
    let tx = tx_of(out.next().unwrap());
    assert_eq!((tx.caller_identity, tx.caller_connection_id), (me().identity, me().connection_id));
    assert_eq!((tx.reducer_call.request_id, tx.timestamp.to_micros_since_unix_epoch()), (42, 1_700_000_000_000_000));
    let ws1::UpdateStatus::Committed(update) = &tx.status else { panic!("expected Committed") };
    assert_eq!(rows_of(update), vec![("document".into(), vec![], b(&[b"mine"]))]);
    let Some(Inbound::ReducerReturned { request_id: 42, value }) = out.next() else {
        panic!("expected the return value")
    };
    assert_eq!(&value[..], &[1, 2]);

    let tx = tx_of(decode_result(ws2::ReducerOutcome::OkEmpty).remove(0));
    assert!(matches!(&tx.status, ws1::UpdateStatus::Committed(u) if u.tables.is_empty()));
}

#[test]
fn failed_reducer_results_carry_their_message() {
    let failed = |outcome| match tx_of(decode_result(outcome).remove(0)).status {
        ws1::UpdateStatus::Failed(message) => message.to_string(),
        _ => panic!("expected Failed"),
    };
    let string_error = Bytes::from(bsatn::to_vec(&"title must not be empty".to_string()).unwrap());
    assert_eq!(failed(ws2::ReducerOutcome::Err(string_error)), "title must not be empty");
    let other_error = Bytes::from(bsatn::to_vec(&7u32).unwrap());
    assert!(failed(ws2::ReducerOutcome::Err(other_error)).ends_with("4 bytes: 07000000"));
    assert_eq!(failed(ws2::ReducerOutcome::InternalError("panicked".into())), "panicked");
}

#[test]
fn a_reducer_result_before_initial_connection_is_a_protocol_error() {
    let e = FrameDecoder::new(Protocol::V2)
        .decode(&frame(&v2_bsatn(&[reducer_result(1, ws2::ReducerOutcome::OkEmpty)])))
        .err()
        .expect("decoded without a caller");
    assert_eq!(e.code, ErrorCode::Protocol);
}

#[test]
fn procedure_results_keep_value_or_error() {
    let procedure = |status| {
        ws2::ServerMessage::ProcedureResult(ws2::ProcedureResult {
            status,
            timestamp: Timestamp::from_micros_since_unix_epoch(5),
            total_host_execution_duration: TimeDuration::from_micros(9),
            request_id: 11,
        })
    };
    let out = decode(
        Protocol::V3,
        &[
            procedure(ws2::ProcedureStatus::Returned(Bytes::from_static(b"ret"))),
            procedure(ws2::ProcedureStatus::InternalError("no such procedure".into())),
        ],
    );
    let statuses: Vec<_> = out
        .into_iter()
        .map(|m| match server(m) {
            ServerMessage::ProcedureResult(p) => {
                assert_eq!((p.request_id, p.total_host_execution_duration.to_micros()), (11, 9));
                match p.status {
                    ws1::ProcedureStatus::Returned(v) => Ok(v.to_vec()),
                    ws1::ProcedureStatus::InternalError(e) => Err(e),
                    ws1::ProcedureStatus::OutOfEnergy => panic!("v2 has no OutOfEnergy"),
                }
            }
            _ => panic!("expected ProcedureResult"),
        })
        .collect();
    assert_eq!(statuses, vec![Ok(b"ret".to_vec()), Err("no such procedure".to_string())]);
}

#[test]
fn subscription_errors_always_name_their_query_set() {
    let error = |request_id| {
        ws2::ServerMessage::SubscriptionError(ws2::SubscriptionError {
            request_id,
            query_set_id: QuerySetId::new(9),
            error: "bad".into(),
        })
    };
    for (request_id, m) in [Some(3), None].into_iter().zip(decode(Protocol::V3, &[error(Some(3)), error(None)])) {
        let ServerMessage::SubscriptionError(e) = server(m) else { panic!("expected SubscriptionError") };
        assert_eq!((e.request_id, e.query_id, &*e.error), (request_id, Some(9), "bad"));
    }
}

#[test]
fn one_off_results_keep_rows_or_error() {
    let result = |result| ws2::ServerMessage::OneOffQueryResult(ws2::OneOffQueryResult { request_id: 6, result });
    let out = decode(Protocol::V3, &[result(Ok(query_rows("document", &v(&[b"x"])))), result(Err("nope".into()))]);
    let [ok, err] = <[Inbound; 2]>::try_from(out).ok().unwrap();
    let ServerMessage::OneOffQueryResponse(ok) = server(ok) else { panic!("expected OneOffQueryResponse") };
    assert_eq!((&ok.message_id[..], ok.error.is_none()), (&6u32.to_le_bytes()[..], true));
    assert_eq!(protocol::rows(&ok.tables[0].rows).unwrap(), b(&[b"x"]));
    let ServerMessage::OneOffQueryResponse(err) = server(err) else { panic!("expected OneOffQueryResponse") };
    assert_eq!(err.error.as_deref(), Some("nope"));
}

/// v3 batches: one (here gzip-compressed) frame, several messages, decoded in order.
#[test]
fn a_v3_frame_carries_several_messages_in_order() {
    let payload = v2_bsatn(&[
        initial_connection(me()),
        ws2::ServerMessage::SubscribeApplied(ws2::SubscribeApplied {
            request_id: 1,
            query_set_id: QuerySetId::new(1),
            rows: query_rows("document", &v(&[b"a"])),
        }),
        ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate {
            query_sets: [query_set(1, vec![persistent("document", &v(&[b"b"]), &v(&[b"a"]))])].into(),
        }),
        reducer_result(2, ws2::ReducerOutcome::OkEmpty),
    ]);
    let out = FrameDecoder::new(Protocol::V3).decode(&gzip_frame(&payload)).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<_> = out
        .into_iter()
        .map(|m| match server(m) {
            ServerMessage::IdentityToken(_) => "identity",
            ServerMessage::SubscribeMultiApplied(_) => "applied",
            ServerMessage::TransactionUpdateLight(_) => "update",
            ServerMessage::TransactionUpdate(_) => "result",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["identity", "applied", "update", "result"]);
}

#[test]
fn malformed_frames_are_protocol_errors() {
    let one = v2_bsatn(&[initial_connection(me())]);
    let two = v2_bsatn(&[initial_connection(me()), initial_connection(me())]);
    let cases: Vec<(Protocol, Vec<u8>)> = vec![
        (Protocol::V2, vec![]),
        (Protocol::V3, vec![0]),
        (Protocol::V3, vec![7, 0]),
        (Protocol::V2, frame(&[8])), // no ServerMessage variant 8
        (Protocol::V3, frame(&[200, 0, 0])),
        (Protocol::V2, frame(&two)),                       // v2 is one message per frame
        (Protocol::V3, frame(&[&one[..], &[4]].concat())), // a truncated second message
    ];
    for (protocol, bad) in cases {
        let e =
            FrameDecoder::new(protocol).decode(&bad).err().unwrap_or_else(|| panic!("{protocol:?} {bad:?} decoded"));
        assert_eq!(e.code, ErrorCode::Protocol, "{bad:?}: {e}");
    }
}

#[test]
fn never_panics_on_truncations_of_real_frames() {
    let tx = ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate {
        query_sets: [query_set(1, vec![persistent("document", &v(&[b"b"]), &v(&[b"a"]))])].into(),
    });
    let messages =
        [initial_connection(me()), tx, reducer_result(2, ws2::ReducerOutcome::Err(Bytes::from_static(b"x")))];
    // A v3 frame cut exactly after a message is a valid shorter frame; every other cut is not.
    let mut boundaries = vec![1];
    for m in &messages {
        boundaries.push(boundaries.last().unwrap() + bsatn::to_vec(m).unwrap().len());
    }
    let full = frame(&v2_bsatn(&messages));
    for cut in (0..full.len()).filter(|cut| !boundaries[1..].contains(cut)) {
        let decoded = FrameDecoder::new(Protocol::V3).decode(&full[..cut]);
        assert!(decoded.is_err(), "v3: prefix of {cut} bytes decoded");
    }
    // v2: each message alone, cut anywhere.
    for m in &messages {
        let whole = frame(&v2_bsatn(std::slice::from_ref(m)));
        for cut in 0..whole.len() {
            assert!(
                FrameDecoder::new(Protocol::V2).decode(&whole[..cut]).is_err(),
                "v2: prefix of {cut} bytes decoded"
            );
        }
    }
}

/// A hostile row size hint of 0 with data: the translation must not divide by it (the crate's own row
/// count would); walking the rows reports it.
#[test]
fn a_zero_row_size_is_reported_when_walked_not_a_panic() {
    let bad = protocol::RowList::new(RowSizeHint::FixedSize(0), Bytes::from_static(b"data"));
    let tx = ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate {
        query_sets: [query_set(
            1,
            vec![ws2::TableUpdate {
                table_name: "document".into(),
                rows: [ws2::TableUpdateRows::PersistentTable(ws2::PersistentTableRows {
                    inserts: bad,
                    deletes: Default::default(),
                })]
                .into(),
            }],
        )]
        .into(),
    });
    let ServerMessage::TransactionUpdateLight(light) = server(decode(Protocol::V2, &[tx]).remove(0)) else {
        panic!("expected TransactionUpdateLight")
    };
    let q = protocol::query_updates(&light.update.tables[0]).unwrap();
    assert_eq!(protocol::rows(&q[0].inserts).unwrap_err().code, ErrorCode::Protocol);
}

#[test]
fn v2_client_messages_round_trip_through_the_crate_types() {
    let decode = |bytes: Vec<u8>| bsatn::from_slice::<ws2::ClientMessage>(&bytes).unwrap();
    let ws2::ClientMessage::Subscribe(s) = decode(v2_requests::encode_subscribe(&["SELECT * FROM t".into()], 5, 9))
    else {
        panic!("expected Subscribe")
    };
    assert_eq!((s.request_id, s.query_set_id.id, &*s.query_strings[0]), (5, 9, "SELECT * FROM t"));
    let ws2::ClientMessage::Unsubscribe(u) = decode(v2_requests::encode_unsubscribe(6, 9)) else {
        panic!("expected Unsubscribe")
    };
    assert!((u.request_id, u.query_set_id.id) == (6, 9) && u.flags == ws2::UnsubscribeFlags::SendDroppedRows);
    let encoded = v2_requests::encode_call_reducer("create_document", vec![1, 2, 3], 77);
    assert_eq!(encoded.len(), protocol::call_reducer_len("create_document", 3), "same length as v1's");
    let ws2::ClientMessage::CallReducer(c) = decode(encoded) else { panic!("expected CallReducer") };
    assert_eq!((&*c.reducer, &c.args[..], c.request_id), ("create_document", &[1u8, 2, 3][..], 77));
    let ws2::ClientMessage::CallProcedure(p) = decode(v2_requests::encode_call_procedure("fetch", vec![4], 78)) else {
        panic!("expected CallProcedure")
    };
    assert_eq!((&*p.procedure, &p.args[..], p.request_id), ("fetch", &[4u8][..], 78));
}
