//! The seam between a session and its transport: a session opens links through a [`Connector`] and
//! reads each as a stream of [`LinkEvent`]s, writing [`Outgoing`] frames back. The websocket
//! ([`super::websocket`]) is the connector of the product; tests script one (`driver::tests`), so
//! reconnect, rotation and calls are tested without a server and without real time.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use spacetimedb_lib::{ConnectionId, Identity};
use tokio::sync::mpsc;

use super::websocket::ConnectParams;
use crate::codec::inbound::{EventRows, Protocol};
use crate::codec::protocol::ServerMessage;
use crate::error::Result;

/// What a link's reader produces.
pub enum LinkEvent {
    Message(Box<ServerMessage>),
    /// Event-table rows of one transaction (v2/v3), after its message: the tables' events, one entry per
    /// table and query set.
    Events(Vec<EventRows>),
    /// A ping or pong: the peer is alive.
    Alive,
    /// The link is gone (the reason says why); nothing follows.
    Closed(String),
}

/// What the session sends on a link.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// One binary frame (a BSATN `ClientMessage`).
    Frame(Vec<u8>),
    /// Close the connection, with a reason for the server (the writer ends after it).
    Close(Option<String>),
}

/// An open link whose `IdentityToken` has arrived.
pub struct OpenLink {
    pub identity: Identity,
    pub connection_id: ConnectionId,
    /// The token the server associates with this connection (the one sent, or a minted anonymous one).
    pub token: String,
    /// The protocol the server chose: requests on this link are encoded for it.
    pub protocol: Protocol,
    /// Everything the server sends, in order; it ends after [`LinkEvent::Closed`] (a stream that ends
    /// without one counts as closed by the server).
    pub events: BoxStream<'static, LinkEvent>,
    /// Frames to send; the writer ends (and closes the connection) when every sender is dropped or after
    /// an [`Outgoing::Close`].
    pub writer: mpsc::UnboundedSender<Outgoing>,
}

/// Opens links to a database.
pub trait Connector: Send + Sync {
    /// Connects with `params` (its `token`, if any, as the bearer token) and waits for the identity.
    fn open(&self, params: &ConnectParams) -> BoxFuture<'static, Result<OpenLink>>;
}

/// The product's connector: a websocket per link.
pub struct WebSocketConnector;

impl Connector for WebSocketConnector {
    fn open(&self, params: &ConnectParams) -> BoxFuture<'static, Result<OpenLink>> {
        let params = params.clone();
        Box::pin(async move { super::websocket::open(&params).await })
    }
}
