//! `NativeGateway`: the binding of `client::Session` (wrapped by `lib/gateway.js`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::to_napi_error;
use super::user_calls::{check_route, user_call_options, CallResult, NativeCallRoute, NativeUserCallsOptions};
use crate::actors::actor::encode_call;
use crate::actors::UserCalls;
use crate::codec::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::codec::schema::Schema;
use crate::error::{ErrorCode, GatewayError};
use crate::gateway::json::{rows_json, transaction_json};
use crate::projection::{ChangeSink, Transaction};
use crate::session::backoff::BackoffPolicy;
use crate::session::http;
use crate::session::state::{SessionState, StateSink};
use crate::session::token::{token_within, TokenProvider, TokenSource};
use crate::session::uri::{Compression, ServerAddress};
use crate::session::websocket::ConnectParams;
use crate::session::{Session, SessionOptions};
use futures_util::future::BoxFuture;

/// Options of `connectGateway` (validated again here: the JS layer is not the only possible caller).
#[napi(object)]
pub struct NativeConnectOptions {
    pub uri: String,
    pub database: String,
    /// A fixed token (a token function is passed to `connectGateway` separately).
    pub token: Option<String>,
    /// 'none' | 'gzip' | 'brotli'
    pub compression: Option<String>,
    pub timeout_ms: f64,
    /// Reconnect settings; `enabled: false` turns reconnecting off.
    pub reconnect: Option<NativeReconnectOptions>,
    /// How calls with a user's token reach SpacetimeDB (the per-user pool or the HTTP route).
    pub user_calls: Option<NativeUserCallsOptions>,
    /// The largest websocket message the gateway sends; larger calls are refused before sending.
    pub max_message_bytes: Option<f64>,
}

/// How the gateway reconnects (all durations in ms).
#[napi(object)]
pub struct NativeReconnectOptions {
    pub enabled: bool,
    pub initial_delay_ms: f64,
    pub max_delay_ms: f64,
    pub multiplier: f64,
    pub jitter: f64,
    /// How long a reducer call made while disconnected waits for the connection.
    pub call_wait_ms: f64,
    /// A connection silent for this long (the server pings every 15 s) is considered dead.
    pub idle_timeout_ms: f64,
    /// How long a token refresh may search for its switch point before falling back to a diff.
    pub align_timeout_ms: f64,
}

/// The JS `onChange` listener: receives one JSON string per transaction.
type ChangeListener = ThreadsafeFunction<String, (), String, Status, false>;
/// The JS `onState` listener: receives the state as JSON. Like the change listener it keeps Node alive
/// while registered (a script waiting for a reconnect must not exit); `close` releases both.
type StateListener = ThreadsafeFunction<String, (), String, Status, false>;
/// The JS token function: returns a promise of a token; weak.
type TokenFunction = ThreadsafeFunction<(), Promise<String>, (), Status, false, true>;

struct JsTokenProvider {
    function: Arc<TokenFunction>,
}

impl TokenProvider for JsTokenProvider {
    fn token(&self) -> BoxFuture<'static, crate::error::Result<String>> {
        let function = self.function.clone();
        Box::pin(async move {
            let failed = |e: napi::Error| {
                GatewayError::new(ErrorCode::Unauthorized, format!("the token function failed: {}", e.reason))
            };
            let token = function.call_async(()).await.map_err(failed)?.await.map_err(failed)?;
            if token.is_empty() {
                return Err(GatewayError::new(ErrorCode::Unauthorized, "the token function returned an empty token"));
            }
            Ok(token)
        })
    }
}

struct JsStateSink {
    listener: StateListener,
}

impl StateSink for JsStateSink {
    fn on_state(&self, state: &SessionState) {
        self.listener.call(state.to_json(), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

struct JsChangeSink {
    listener: ChangeListener,
}

impl ChangeSink for JsChangeSink {
    fn on_transaction(&self, tx: &Transaction) {
        // NonBlocking: the session task must never wait for the JS thread.
        self.listener.call(transaction_json(tx), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

fn duration_from_ms(ms: f64, what: &str) -> Result<Duration> {
    if !ms.is_finite() || ms <= 0.0 || ms > 2_147_483_647.0 {
        return Err(to_napi_error(GatewayError::invalid_argument(format!(
            "{what} must be a positive number of milliseconds, got {ms}"
        ))));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

fn reconnect_options(options: &mut SessionOptions, reconnect: Option<NativeReconnectOptions>) -> Result<()> {
    let Some(r) = reconnect else { return Ok(()) };
    if !r.enabled {
        options.reconnect = None;
        return Ok(());
    }
    let (initial, max) = (
        duration_from_ms(r.initial_delay_ms, "reconnect.initialDelayMs")?,
        duration_from_ms(r.max_delay_ms, "reconnect.maxDelayMs")?,
    );
    if !(r.multiplier.is_finite() && r.multiplier >= 1.0 && (0.0..=1.0).contains(&r.jitter)) {
        return Err(to_napi_error(GatewayError::invalid_argument(
            "reconnect.multiplier must be ≥ 1 and reconnect.jitter in [0, 1]",
        )));
    }
    options.reconnect =
        Some(BackoffPolicy { initial, max: max.max(initial), multiplier: r.multiplier, jitter: r.jitter });
    options.call_wait = duration_from_ms(r.call_wait_ms, "reconnect.callWaitMs")?;
    options.idle_timeout = duration_from_ms(r.idle_timeout_ms, "reconnect.idleTimeoutMs")?;
    options.align_timeout = duration_from_ms(r.align_timeout_ms, "reconnect.alignTimeoutMs")?;
    Ok(())
}

/// Connects to a database and returns the native gateway handle. `tokenFunction`, when given, is
/// called (it returns a promise of a token) before every connect, and ahead of each token's expiry.
/// `timeoutMs` bounds the whole connect: the token function, the schema fetch and the websocket.
#[napi(ts_args_type = "options: NativeConnectOptions, tokenFunction?: () => Promise<string>")]
pub async fn connect_gateway(
    options: NativeConnectOptions,
    token_function: Option<TokenFunction>,
) -> Result<NativeGateway> {
    let timeout = duration_from_ms(options.timeout_ms, "timeoutMs")?;
    let database = options.database.clone();
    let stage = Mutex::new("starting");
    match tokio::time::timeout(timeout, open_gateway(options, token_function, timeout, &stage)).await {
        Ok(result) => result,
        Err(_) => Err(to_napi_error(GatewayError::new(
            ErrorCode::Timeout,
            format!(
                "connecting to database '{database}' took longer than timeoutMs ({} ms), while {}",
                timeout.as_millis(),
                stage.lock().unwrap()
            ),
        ))),
    }
}

/// The steps of `connect_gateway`; `stage` says which one is under way, for the timeout's message.
async fn open_gateway(
    options: NativeConnectOptions,
    token_function: Option<TokenFunction>,
    timeout: Duration,
    stage: &Mutex<&'static str>,
) -> Result<NativeGateway> {
    let at = |what| *stage.lock().unwrap() = what;
    let address = ServerAddress::parse(&options.uri).map_err(to_napi_error)?;
    let compression = Compression::parse(options.compression.as_deref().unwrap_or("none")).map_err(to_napi_error)?;
    if options.database.is_empty() {
        return Err(to_napi_error(GatewayError::invalid_argument("database must not be empty")));
    }
    let max_message_bytes = message_limit(options.max_message_bytes)?;
    let token = match (token_function, options.token) {
        (Some(function), _) => TokenSource::Provider(Arc::new(JsTokenProvider { function: Arc::new(function) })),
        (None, Some(token)) => TokenSource::Fixed(token),
        (None, None) => TokenSource::Anonymous,
    };
    at("waiting for the token function");
    let schema_token = match &token {
        TokenSource::Provider(provider) => Some(token_within(&**provider, timeout).await.map_err(to_napi_error)?),
        TokenSource::Fixed(token) => Some(token.clone()),
        TokenSource::Anonymous => None,
    };
    at("fetching the module schema");
    let schema_json = http::fetch_schema(&address, &options.database, schema_token.as_deref(), timeout)
        .await
        .map_err(to_napi_error)?;
    let schema = Arc::new(Schema::from_json(&schema_json).map_err(to_napi_error)?);
    let user_call_options = user_call_options(options.user_calls)?;
    let connect = ConnectParams {
        address,
        database: options.database,
        token: None,
        compression,
        light: false,
        timeout,
        buffer_size: None,
        max_message_bytes,
    };
    let user_calls =
        UserCalls::new(user_call_options, &connect, schema.clone(), &schema_json).map_err(to_napi_error)?;
    let mut session_options = SessionOptions::new(connect, token);
    reconnect_options(&mut session_options, options.reconnect)?;
    at("opening the websocket");
    let session = Session::open(session_options, schema, schema_token).await.map_err(to_napi_error)?;
    Ok(NativeGateway {
        session,
        user_calls: Arc::new(user_calls),
        change_sink: Mutex::new(None),
        state_sink: Mutex::new(None),
    })
}

/// `maxMessageBytes`: the largest message the gateway sends (default: SpacetimeDB 1.3's limit).
fn message_limit(value: Option<f64>) -> Result<usize> {
    match value {
        None => Ok(DEFAULT_MAX_MESSAGE_BYTES),
        Some(n) if n.fract() == 0.0 && (1024.0..=4_294_967_295.0).contains(&n) => Ok(n as usize),
        Some(n) => Err(to_napi_error(GatewayError::invalid_argument(format!(
            "maxMessageBytes must be a whole number of bytes from 1024 to 4294967295, got {n}"
        )))),
    }
}

/// A connection to one database, with its projection. Use `Gateway` from the package instead.
#[napi]
pub struct NativeGateway {
    session: Session,
    /// Calls made with a user's token (the per-user pool, the HTTP route).
    user_calls: Arc<UserCalls>,
    change_sink: Mutex<Option<Arc<dyn ChangeSink>>>,
    state_sink: Mutex<Option<Arc<dyn StateSink>>>,
}

impl NativeGateway {
    pub(crate) fn user_calls(&self) -> &UserCalls {
        &self.user_calls
    }
}

#[napi]
impl NativeGateway {
    /// This connection's identity (64 hex characters).
    #[napi(getter)]
    pub fn identity(&self) -> String {
        self.session.identity().to_hex().to_string()
    }

    /// This connection's id (32 hex characters).
    #[napi(getter)]
    pub fn connection_id(&self) -> String {
        self.session.connection_id().to_hex().to_string()
    }

    /// The module schema as JSON text.
    #[napi]
    pub fn schema_json(&self) -> String {
        self.session.schema().describe().to_string()
    }

    /// Adds a query set; resolves once its rows are in the projection.
    #[napi]
    pub async fn subscribe(&self, queries: Vec<String>, timeout_ms: f64) -> Result<()> {
        let timeout = duration_from_ms(timeout_ms, "timeoutMs")?;
        self.session.subscribe(queries, timeout).await.map_err(to_napi_error)
    }

    /// The rows of a subscribed table as a JSON array, filtered by `whereJson` (an object of column
    /// equalities) when given.
    #[napi]
    pub fn rows_json(&self, table: String, where_json: Option<String>) -> Result<String> {
        rows_json(&self.session, &table, where_json.as_deref()).map_err(to_napi_error)
    }

    /// Calls a reducer with JSON arguments (array or object); resolves once committed. `route.actor` fills
    /// the reducer's `actor` parameter; with `route.token` the call runs as the token's holder (per-user),
    /// otherwise on the gateway's own connection. A service call is validated and sent (or queued while
    /// reconnecting) before this returns.
    #[napi(ts_return_type = "Promise<CallResult>")]
    pub fn call_reducer<'env>(
        &self,
        env: &'env Env,
        name: String,
        args_json: String,
        timeout_ms: f64,
        route: Option<NativeCallRoute>,
    ) -> Result<PromiseRaw<'env, CallResult>> {
        let timeout = duration_from_ms(timeout_ms, "timeoutMs")?;
        let route = check_route(route)?;
        let args =
            encode_call(self.session.schema(), &name, &args_json, route.actor.as_deref()).map_err(to_napi_error)?;
        if let Some((token, via)) = route.user {
            let user_calls = self.user_calls.clone();
            return env.spawn_future(async move {
                let outcome = user_calls.call(&token, via, &name, args, timeout).await.map_err(to_napi_error)?;
                Ok(CallResult::of_user_call(outcome))
            });
        }
        let call = self.session.start_call(&name, args, timeout).map_err(to_napi_error)?;
        env.spawn_future(async move {
            let outcome = call.finish().await.map_err(to_napi_error)?;
            Ok(CallResult::of_connection("service", outcome))
        })
    }

    /// Installs the one JS function that receives change batches (replacing any previous one).
    #[napi(ts_args_type = "listener: (json: string) => void")]
    pub fn set_change_listener(&self, listener: ChangeListener) -> Result<()> {
        if self.session.is_closed() {
            return Err(to_napi_error(GatewayError::new(ErrorCode::Closed, "the gateway is closed")));
        }
        let sink: Arc<dyn ChangeSink> = Arc::new(JsChangeSink { listener });
        let previous = self.change_sink.lock().unwrap().replace(sink.clone());
        if let Some(previous) = previous {
            self.session.remove_sink(&previous);
        }
        self.session.add_sink(sink);
        Ok(())
    }

    /// Removes the change listener, releasing its hold on the Node event loop.
    #[napi]
    pub fn clear_change_listener(&self) {
        if let Some(previous) = self.change_sink.lock().unwrap().take() {
            self.session.remove_sink(&previous);
        }
    }

    /// Checks the relay options of `Gateway.connect` (JSON) against the schema.
    #[napi]
    pub fn check_relay_config(&self, config_json: String) -> Result<()> {
        super::relay::check_config(&self.session, &config_json)
    }

    /// Starts the SSE relay with the relay options of `Gateway.connect` (JSON).
    #[napi]
    pub fn start_relay(&self, config_json: String) -> Result<super::relay::NativeRelay> {
        super::relay::start(&self.session, &config_json)
    }

    /// The connection state as JSON: `{"status","reason"?,"attempt","since"}`.
    #[napi]
    pub fn state_json(&self) -> String {
        self.session.state().to_json()
    }

    /// Installs the one JS function that receives state changes (replacing any previous one).
    #[napi(ts_args_type = "listener: (json: string) => void")]
    pub fn set_state_listener(&self, listener: StateListener) {
        let sink: Arc<dyn StateSink> = Arc::new(JsStateSink { listener });
        if let Some(previous) = self.state_sink.lock().unwrap().replace(sink.clone()) {
            self.session.remove_state_sink(&previous);
        }
        self.session.add_state_sink(sink);
    }

    /// Removes the state listener.
    #[napi]
    pub fn clear_state_listener(&self) {
        if let Some(previous) = self.state_sink.lock().unwrap().take() {
            self.session.remove_state_sink(&previous);
        }
    }

    /// Closes the gateway: no new calls; calls in flight get up to `drainMs` to settle, then reject with
    /// CLOSED; sockets close.
    #[napi]
    pub async fn close(&self, drain_ms: f64) -> Result<()> {
        let drain = if drain_ms == 0.0 { Duration::ZERO } else { duration_from_ms(drain_ms, "deadlineMs")? };
        tokio::join!(self.session.close(drain), self.user_calls.close(drain));
        self.change_sink.lock().unwrap().take();
        self.state_sink.lock().unwrap().take();
        Ok(())
    }
}
