//! Client messages of `v2.bsatn.spacetimedb`. v3 sends the same messages, one or more per frame; one
//! per frame is valid v3, so these serve both.

use bytes::Bytes;
use spacetimedb_client_api_messages::websocket::common::{CallProcedureFlags, QuerySetId};
use spacetimedb_client_api_messages::websocket::v2 as ws2;
use spacetimedb_lib::bsatn;

fn encode(message: &ws2::ClientMessage) -> Vec<u8> {
    // Encoding our own well-formed message into a Vec cannot fail.
    bsatn::to_vec(message).expect("BSATN encoding of a client message")
}

/// `Subscribe`: adds the query set `query_set_id` (v1's `SubscribeMulti`).
pub fn encode_subscribe(queries: &[String], request_id: u32, query_set_id: u32) -> Vec<u8> {
    encode(&ws2::ClientMessage::Subscribe(ws2::Subscribe {
        request_id,
        query_set_id: QuerySetId::new(query_set_id),
        query_strings: queries.iter().map(|q| q.as_str().into()).collect(),
    }))
}

/// `Unsubscribe` with `SendDroppedRows`: v1's `UnsubscribeMultiApplied` always carries the rows that
/// leave, and the projection deletes them; without the flag a v2 server sends none and they would stay.
pub fn encode_unsubscribe(request_id: u32, query_set_id: u32) -> Vec<u8> {
    encode(&ws2::ClientMessage::Unsubscribe(ws2::Unsubscribe {
        request_id,
        query_set_id: QuerySetId::new(query_set_id),
        flags: ws2::UnsubscribeFlags::SendDroppedRows,
    }))
}

/// `CallReducer` with BSATN-encoded arguments. Same fields as v1's in another order, so the same
/// length (`protocol::call_reducer_len`).
pub fn encode_call_reducer(reducer: &str, args: Vec<u8>, request_id: u32) -> Vec<u8> {
    encode(&ws2::ClientMessage::CallReducer(ws2::CallReducer {
        request_id,
        flags: ws2::CallReducerFlags::Default,
        reducer: reducer.into(),
        args: Bytes::from(args),
    }))
}

/// `CallProcedure`: the server answers with a `ProcedureResult` carrying `request_id`.
pub fn encode_call_procedure(procedure: &str, args: Vec<u8>, request_id: u32) -> Vec<u8> {
    encode(&ws2::ClientMessage::CallProcedure(ws2::CallProcedure {
        request_id,
        flags: CallProcedureFlags::Default,
        procedure: procedure.into(),
        args: Bytes::from(args),
    }))
}
