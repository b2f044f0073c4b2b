//! The per-user pool over real sessions: each pooled connection is a `client::session::Session` opened
//! with the user's token, without subscriptions, reconnects or token refresh (a pooled connection that
//! drops is simply replaced by the next call), and with small websocket buffers.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::pool::{Connector, PooledConnection};
use super::pool_state::Liveness;
use crate::codec::schema::Schema;
use crate::error::Result;
use crate::session::token::TokenSource;
use crate::session::websocket::ConnectParams;
use crate::session::{CallOutcome, Session, SessionOptions};

/// Websocket buffers of a pooled connection: its frames are reducer calls and their results (no
/// subscription rows), so 4 KiB instead of tungstenite's 128 KiB each way: ~28 KiB of RSS per pooled connection
/// instead of ~160 KiB (docs/actors.md).
pub const POOLED_BUFFER_BYTES: usize = 4 * 1024;

/// Opens pooled sessions for one database.
pub struct SessionConnector {
    connect: ConnectParams,
    schema: Arc<Schema>,
}

impl SessionConnector {
    /// `connect`: the gateway's own connection parameters (its token and timeout are replaced per user).
    pub fn new(connect: &ConnectParams, schema: Arc<Schema>) -> Self {
        let connect = ConnectParams {
            token: None,
            // Only the caller's own results arrive (no subscriptions); light mode keeps anything else small.
            light: true,
            buffer_size: Some(POOLED_BUFFER_BYTES),
            ..connect.clone()
        };
        SessionConnector { connect, schema }
    }
}

impl Connector for SessionConnector {
    type Conn = Session;

    fn open(&self, token: &str, timeout: Duration) -> BoxFuture<'static, Result<Session>> {
        let connect = ConnectParams { timeout, ..self.connect.clone() };
        let mut options = SessionOptions::new(connect, TokenSource::Fixed(token.to_string()));
        options.reconnect = None;
        let (schema, token) = (self.schema.clone(), token.to_string());
        Box::pin(async move { Session::open(options, schema, Some(token)).await })
    }
}

impl Liveness for Session {
    fn is_closed(&self) -> bool {
        Session::is_closed(self)
    }
}

impl PooledConnection for Session {
    fn call(&self, reducer: &str, args: Vec<u8>, timeout: Duration) -> BoxFuture<'static, Result<CallOutcome>> {
        // Started (and sent) now; only the wait for the result is deferred.
        let started = self.start_call(reducer, args, timeout);
        Box::pin(async move { started?.finish().await })
    }

    fn close(self, drain: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move { Session::close(&self, drain).await })
    }
}
