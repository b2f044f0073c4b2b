//! One websocket connection inside a session (a "link"): what the session needs to send on it and to
//! match replies that arrive on it. A session has one active link, and during a reconnect or a token
//! refresh briefly a second one being prepared, plus old ones finishing their calls.

use std::collections::HashMap;

use spacetimedb_lib::{ConnectionId, Identity};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::calls::{CallOutcome, PendingRequests};
use super::connector::{OpenLink, Outgoing};
use crate::codec::inbound::Protocol;
use crate::codec::{protocol, v2_requests};
use crate::error::{ErrorCode, GatewayError, Result};

/// Identifies a link within its session (increasing: a later link has a larger id).
pub type LinkId = u64;

/// The sending side of a link and the requests waiting for replies on it.
pub struct Link {
    pub id: LinkId,
    pub identity: Identity,
    pub connection_id: ConnectionId,
    /// The token the server associated with this connection.
    pub token: String,
    pub protocol: Protocol,
    writer: mpsc::UnboundedSender<Outgoing>,
    /// Reducer calls sent on this link and not answered yet.
    pub calls: PendingRequests<Result<CallOutcome>>,
    /// Subscribe requests sent on this link: request id → query set id.
    pub subscribes: HashMap<u32, u32>,
    next_request_id: u32,
    /// When a message or ping last arrived (a silent link is dead).
    pub last_seen: Instant,
}

impl Link {
    pub fn new(id: LinkId, open: &OpenLink) -> Link {
        Link {
            id,
            identity: open.identity,
            connection_id: open.connection_id,
            token: open.token.clone(),
            protocol: open.protocol,
            writer: open.writer.clone(),
            calls: PendingRequests::default(),
            subscribes: HashMap::new(),
            next_request_id: 1 << 31, // far from the reducer-call ids, for readable logs
            last_seen: Instant::now(),
        }
    }

    /// Sends one frame; fails when the link's writer is gone.
    pub fn send(&self, frame: Vec<u8>) -> Result<()> {
        self.writer
            .send(Outgoing::Frame(frame))
            .map_err(|_| GatewayError::new(ErrorCode::Disconnected, "the connection to SpacetimeDB is lost"))
    }

    /// Sends `SubscribeMulti` (v2/v3: `Subscribe`) for query set `query_id` and remembers it.
    pub fn subscribe(&mut self, query_id: u32, queries: &[String]) -> Result<()> {
        let request_id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1).max(1 << 31);
        self.send(match self.protocol {
            Protocol::V1 => protocol::encode_subscribe_multi(queries, request_id, query_id),
            Protocol::V2 | Protocol::V3 => v2_requests::encode_subscribe(queries, request_id, query_id),
        })?;
        self.subscribes.insert(request_id, query_id);
        Ok(())
    }

    /// A reducer call in this link's protocol (the same length in both: `protocol::call_reducer_len`).
    pub fn encode_call(&self, reducer: &str, args: Vec<u8>, request_id: u32) -> Vec<u8> {
        match self.protocol {
            Protocol::V1 => protocol::encode_call_reducer(reducer, args, request_id),
            Protocol::V2 | Protocol::V3 => v2_requests::encode_call_reducer(reducer, args, request_id),
        }
    }

    /// A procedure call in this link's protocol; `UNSUPPORTED` on a v1 link: SpacetimeDB 1.x has no
    /// procedures and closes the connection on a message it does not know (failing every call in flight),
    /// so the gateway sends procedures only over v2/v3.
    pub fn encode_procedure(&self, procedure: &str, args: Vec<u8>, request_id: u32) -> Result<Vec<u8>> {
        match self.protocol {
            Protocol::V1 => Err(procedures_need_v2(procedure)),
            Protocol::V2 | Protocol::V3 => Ok(v2_requests::encode_call_procedure(procedure, args, request_id)),
        }
    }

    /// Asks the server to close the connection (the writer task ends after sending it).
    pub fn close(&self, reason: &str) {
        let _ = self.writer.send(Outgoing::Close(Some(reason.to_string())));
    }
}

/// `UNSUPPORTED`: procedure `procedure` cannot go over a v1 connection.
pub fn procedures_need_v2(procedure: &str) -> GatewayError {
    GatewayError::new(
        ErrorCode::Unsupported,
        format!(
            "procedure '{procedure}' was not sent: procedures need a v2 or v3 connection (SpacetimeDB 2.x, offered \
             with the `protocols` option), and this connection speaks v1"
        ),
    )
}
