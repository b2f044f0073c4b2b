//! Server frames of any binary protocol version in, one internal shape out: the v1 `ServerMessage`
//! the session already handles, plus variants for what only v2/v3 can say. Which version a connection
//! speaks is fixed by the handshake's `Sec-WebSocket-Protocol`; see `docs/protocol-2x.md`.

use bytes::Bytes;
use spacetimedb_client_api_messages::websocket::common::QuerySetId;
use spacetimedb_client_api_messages::websocket::{v1 as ws1, v2 as ws2, v3 as ws3};
use spacetimedb_lib::bsatn;
use spacetimedb_sats::raw_identifier::RawIdentifier;

use super::protocol::{self, RowList, ServerMessage};
use super::v2::{self, Caller};
use crate::error::{GatewayError, Result};

/// A binary websocket protocol of SpacetimeDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `v1.bsatn.spacetimedb`: the only one 1.x servers speak; 2.x servers still accept it.
    V1,
    /// `v2.bsatn.spacetimedb` (2.x): one message per frame.
    V2,
    /// `v3.bsatn.spacetimedb` (2.x): v2's messages, one or more per frame.
    V3,
}

impl Protocol {
    /// The `Sec-WebSocket-Protocol` token of this version.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Protocol::V1 => ws1::BIN_PROTOCOL,
            Protocol::V2 => ws2::BIN_PROTOCOL,
            Protocol::V3 => ws3::BIN_PROTOCOL,
        }
    }

    /// The short name used in options and reported to JS: `v1`, `v2`, `v3`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V1 => "v1",
            Protocol::V2 => "v2",
            Protocol::V3 => "v3",
        }
    }

    /// The version of a short name ([`Protocol::name`]).
    pub fn from_name(name: &str) -> Option<Protocol> {
        [Protocol::V1, Protocol::V2, Protocol::V3].into_iter().find(|p| p.name() == name)
    }

    /// The version a server chose, from the token it answered with.
    pub fn from_subprotocol(token: &str) -> Option<Protocol> {
        [Protocol::V1, Protocol::V2, Protocol::V3].into_iter().find(|p| p.subprotocol() == token.trim())
    }
}

/// One thing a server frame said, in the shape upper layers handle.
pub enum Inbound {
    /// A message in the v1 shape: v1 messages as they are, v2/v3 messages translated (`codec::v2`).
    Server(Box<ServerMessage>),
    /// Rows of an event table (v2/v3 only): events of one transaction, never stored in the table, so
    /// they must not enter the projection. Follows the message of the same transaction.
    Events(EventRows),
    /// The non-empty return value (BSATN) of this connection's reducer call `request_id` (v2/v3 only;
    /// v1 results have no place for it). Follows the call's `TransactionUpdate`.
    ReducerReturned { request_id: u32, value: Bytes },
}

impl Inbound {
    pub(crate) fn server(message: ServerMessage) -> Inbound {
        Inbound::Server(Box::new(message))
    }
}

/// Event-table rows of one query set in one transaction.
#[derive(Debug, Clone)]
pub struct EventRows {
    pub query_set_id: QuerySetId,
    pub table_name: RawIdentifier,
    pub events: RowList,
}

/// Decodes the server frames of one connection. v2/v3 need state: the connection's own identity,
/// learnt from `InitialConnection`, is the caller of every reducer result it later receives.
#[derive(Debug)]
pub struct FrameDecoder {
    protocol: Protocol,
    caller: Option<Caller>,
}

impl FrameDecoder {
    pub fn new(protocol: Protocol) -> FrameDecoder {
        FrameDecoder { protocol, caller: None }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Everything one binary frame says, in order. A frame that does not decode completely is an error
    /// as a whole (the connection cannot be trusted past it), never a panic.
    pub fn decode(&mut self, frame: &[u8]) -> Result<Vec<Inbound>> {
        if self.protocol == Protocol::V1 {
            return Ok(vec![Inbound::server(protocol::decode_server_frame(frame)?)]);
        }
        let payload = protocol::frame_payload(frame)?;
        let mut reader = &payload[..];
        let mut out = Vec::new();
        loop {
            let message: ws2::ServerMessage = bsatn::from_reader(&mut reader)
                .map_err(|e| GatewayError::protocol(format!("undecodable v2 server message: {e}")))?;
            v2::translate(message, &mut self.caller, &mut out)?;
            match (self.protocol, reader.is_empty()) {
                (_, true) => return Ok(out),
                // v3 concatenates messages in one frame (`websocket/v3.rs` of the messages crate).
                (Protocol::V3, false) => continue,
                _ => {
                    return Err(GatewayError::protocol(format!(
                        "{} bytes after a v2 server message in one frame",
                        reader.len()
                    )))
                }
            }
        }
    }
}
