//! [`Gateway`]: one database held open — its session, its per-user calls and its relay options — and
//! the connect sequence that makes one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tracing::instrument::WithSubscriber;
use tracing::Dispatch;

use super::options::ConnectOptions;
use crate::actors::token_check::CallVerifier;
use crate::actors::{PoolStats, UserCalls};
use crate::diagnostics::{Collector, LogOutput};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::relay::tables::RelayTables;
use crate::relay::RelayConfig;
use crate::session::http::fetch_schema;
use crate::session::token::{token_within, TokenProvider, TokenSource};
use crate::session::websocket::ConnectParams;
use crate::session::{Session, SessionOptions};

/// A connection to one database, with its projection, its per-user calls and its relay options.
pub struct Gateway {
    pub(super) session: Session,
    pub(super) user_calls: Arc<UserCalls>,
    /// Each `subscribe` waits this long (the connect timeout).
    pub(super) subscribe_timeout: Duration,
    /// A call without its own timeout waits this long.
    pub(super) call_timeout: Duration,
    /// Checked against the schema at connect; used when the relay starts.
    pub(super) relay_config: RelayConfig,
    /// The runtime the gateway was made on: the relay's heartbeat task runs there (its starter may be a
    /// thread without one, such as the JS thread).
    pub(super) runtime: tokio::runtime::Handle,
    /// Where its log records go (see `diagnostics`): the connect, the session task and the tasks it
    /// starts, calls and relay work run with it; none without a log function.
    pub(super) log: Dispatch,
}

impl Gateway {
    /// Connects: reads the token (from `token_function` when given, else `options.token`, else none),
    /// fetches the module schema, checks the relay options against it, opens the websocket and waits for
    /// the identity, then subscribes `options.subscriptions`. `options.timeout` bounds all of it. Must run
    /// inside a tokio runtime. With `log`, the gateway's records at `options.log_level` or more severe go
    /// there in batches.
    pub async fn connect(
        options: ConnectOptions,
        token_function: Option<Arc<dyn TokenProvider>>,
        log: Option<Arc<dyn LogOutput>>,
    ) -> Result<Gateway> {
        let log = log.map_or_else(Dispatch::none, |output| Collector::dispatch(options.log_level, output));
        let mut gateway = Self::connect_logged(options, token_function).with_subscriber(log.clone()).await?;
        gateway.log = log;
        Ok(gateway)
    }

    async fn connect_logged(
        options: ConnectOptions,
        token_function: Option<Arc<dyn TokenProvider>>,
    ) -> Result<Gateway> {
        let timeout = options.timeout;
        let started = Instant::now();
        let database = options.database.clone();
        let subscriptions = options.subscriptions.clone();
        let stage = Mutex::new("starting");
        let gateway = match tokio::time::timeout(timeout, open(options, token_function, &stage)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(GatewayError::new(
                    ErrorCode::Timeout,
                    format!(
                        "connecting to database '{database}' took longer than timeoutMs ({} ms), while {}",
                        timeout.as_millis(),
                        stage.lock().unwrap()
                    ),
                ))
            }
        };
        if subscriptions.is_empty() {
            return Ok(gateway);
        }
        // What is left of the connect deadline (the timeout covers everything connect does).
        let left = timeout.saturating_sub(started.elapsed());
        let subscribed = if left.is_zero() {
            Err(GatewayError::new(
                ErrorCode::Timeout,
                format!(
                    "connecting took longer than timeoutMs ({} ms) before the subscriptions were applied",
                    timeout.as_millis()
                ),
            ))
        } else {
            gateway.session.subscribe(subscriptions, left).await
        };
        match subscribed {
            Ok(()) => Ok(gateway),
            Err(e) => {
                gateway.close(Duration::ZERO).await;
                Err(e)
            }
        }
    }

    /// The session (identity, state, projection, listeners).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Adds a query set; resolves once its rows are in the projection (within the connect timeout).
    pub async fn subscribe(&self, queries: Vec<String>) -> Result<()> {
        self.session.subscribe(queries, self.subscribe_timeout).await
    }

    /// The rows of a subscribed table as a JSON array, filtered by `where_json` when given.
    pub fn rows_json(&self, table: &str, where_json: Option<&str>) -> Result<String> {
        self.logged(|| super::json::rows_json(&self.session, table, where_json))
    }

    /// Runs `f` with this gateway's log (for work on a thread of the caller, such as the JS thread).
    pub fn logged<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.log, f)
    }

    /// From now on, per-user tokens must verify with `verifier` before they are used.
    pub fn set_user_call_verifier(&self, verifier: CallVerifier) {
        self.user_calls.set_verifier(verifier);
    }

    /// Drops the SpacetimeDB connection as a network failure would; the session reconnects, resubscribes
    /// and catches up (`gateway.dropConnection()`, for `smoke --simulate disconnect` and tests).
    pub fn drop_connection(&self, reason: &str) -> Result<()> {
        self.logged(|| self.session.drop_connection(reason))
    }

    /// The per-user pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.user_calls.pool_stats()
    }

    /// Closes the gateway: no new calls; calls in flight get up to `drain` to settle; sockets close.
    pub async fn close(&self, drain: Duration) {
        tokio::join!(self.session.close(drain), self.user_calls.close(drain));
    }
}

/// The steps of [`Gateway::connect`] up to the open session; `stage` says which one is under way, for
/// the timeout's message.
async fn open(
    options: ConnectOptions,
    token_function: Option<Arc<dyn TokenProvider>>,
    stage: &Mutex<&'static str>,
) -> Result<Gateway> {
    let at = |what| *stage.lock().unwrap() = what;
    let token = match (token_function, options.token) {
        (Some(provider), _) => TokenSource::Provider(provider),
        (None, Some(token)) => TokenSource::Fixed(token),
        (None, None) => TokenSource::Anonymous,
    };
    at("waiting for the token function");
    let schema_token = match &token {
        TokenSource::Provider(provider) => Some(token_within(&**provider, options.timeout).await?),
        TokenSource::Fixed(token) => Some(token.clone()),
        TokenSource::Anonymous => None,
    };
    at("fetching the module schema");
    let (schema_json, schema) =
        fetch_schema(&options.address, &options.database, schema_token.as_deref(), options.timeout).await?;
    let schema = Arc::new(schema);
    // Before the websocket opens: relay options that do not fit the schema fail the connect.
    RelayTables::new(&schema, &options.relay.tenant_columns, &options.relay.shared_tables)?;
    let connect = ConnectParams {
        address: options.address,
        database: options.database,
        token: None,
        compression: options.compression,
        light: false,
        timeout: options.timeout,
        buffer_size: None,
        max_message_bytes: options.max_message_bytes,
        protocols: options.protocols,
    };
    let user_calls = UserCalls::new(options.user_calls, &connect, schema.clone(), &schema_json)?;
    let database = connect.database.clone();
    let mut session_options = SessionOptions::new(connect, token);
    session_options.reconnect = options.reconnect.backoff;
    session_options.call_wait = options.reconnect.call_wait;
    session_options.idle_timeout = options.reconnect.idle_timeout;
    session_options.align_timeout = options.reconnect.align_timeout;
    at("opening the websocket");
    let session = Session::open(session_options, schema, schema_token).await?;
    tracing::info!(
        database,
        identity = %session.identity().to_hex(),
        connection_id = %session.connection_id().to_hex(),
        "connected"
    );
    Ok(Gateway {
        session,
        user_calls: Arc::new(user_calls),
        subscribe_timeout: options.timeout,
        call_timeout: options.call_timeout,
        relay_config: options.relay,
        runtime: tokio::runtime::Handle::current(),
        log: Dispatch::none(),
    })
}
