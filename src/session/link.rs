//! One websocket connection inside a session (a "link"): what the session needs to send on it and to
//! match replies that arrive on it. A session has one active link, and during a reconnect or a token
//! refresh briefly a second one being prepared, plus old ones finishing their calls.

use std::collections::HashMap;
use std::time::Instant;

use futures_util::stream::{Stream, StreamExt};
use spacetimedb_lib::{ConnectionId, Identity};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::calls::CallOutcome;
use super::calls::PendingRequests;
use super::websocket::{FrameReader, OpenConnection};
use crate::codec::protocol::{self, ServerMessage};
use crate::error::{ErrorCode, GatewayError, Result};

/// Identifies a link within its session (increasing: a later link has a larger id).
pub type LinkId = u64;

/// What a link's reader produces.
pub enum LinkEvent {
    Message(Box<ServerMessage>),
    /// A ping or pong: the peer is alive.
    Alive,
    /// The link is gone (the reason says why); nothing follows.
    Closed(String),
}

/// The reader of a link as a stream of `(link id, event)` that ends after `Closed`.
pub fn events(id: LinkId, reader: FrameReader) -> impl Stream<Item = (LinkId, LinkEvent)> + Send + 'static {
    futures_util::stream::unfold(Some(reader), move |reader| async move {
        let mut reader = reader?;
        loop {
            let event = match reader.next().await {
                None => LinkEvent::Closed("the server closed the connection".into()),
                Some(Err(e)) => LinkEvent::Closed(format!("websocket error: {e}")),
                Some(Ok(Message::Binary(frame))) => match protocol::decode_server_frame(&frame) {
                    Ok(message) => LinkEvent::Message(Box::new(message)),
                    Err(e) => LinkEvent::Closed(e.message),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => LinkEvent::Alive,
                Some(Ok(Message::Close(frame))) => LinkEvent::Closed(match frame {
                    Some(f) if !f.reason.is_empty() => {
                        format!("the server closed the connection ({}: {})", f.code, f.reason)
                    }
                    Some(f) => format!("the server closed the connection ({})", f.code),
                    None => "the server closed the connection".into(),
                }),
                Some(Ok(Message::Text(_))) => {
                    LinkEvent::Closed("the server sent a text frame on a binary protocol".into())
                }
                Some(Ok(Message::Frame(_))) => continue,
            };
            let more = !matches!(event, LinkEvent::Closed(_));
            return Some(((id, event), more.then_some(reader)));
        }
    })
}

/// The sending side of a link and the requests waiting for replies on it.
pub struct Link {
    pub id: LinkId,
    pub identity: Identity,
    pub connection_id: ConnectionId,
    /// The token the server associated with this connection.
    pub token: String,
    writer: mpsc::UnboundedSender<Message>,
    /// Reducer calls sent on this link and not answered yet.
    pub calls: PendingRequests<Result<CallOutcome>>,
    /// Subscribe requests sent on this link: request id → query set id.
    pub subscribes: HashMap<u32, u32>,
    next_request_id: u32,
    /// When a message or ping last arrived (a silent link is dead).
    pub last_seen: Instant,
}

impl Link {
    pub fn new(id: LinkId, open: &OpenConnection) -> Link {
        Link {
            id,
            identity: open.identity,
            connection_id: open.connection_id,
            token: open.token.clone(),
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
            .send(Message::Binary(frame.into()))
            .map_err(|_| GatewayError::new(ErrorCode::Disconnected, "the connection to SpacetimeDB is lost"))
    }

    /// Sends `SubscribeMulti` for query set `query_id` and remembers it.
    pub fn subscribe(&mut self, query_id: u32, queries: &[String]) -> Result<()> {
        let request_id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1).max(1 << 31);
        self.send(protocol::encode_subscribe_multi(queries, request_id, query_id))?;
        self.subscribes.insert(request_id, query_id);
        Ok(())
    }

    /// Asks the server to close the connection (the writer task ends after sending it).
    pub fn close(&self, reason: &str) {
        let _ = self
            .writer
            .send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: reason.to_string().into() })));
    }
}
