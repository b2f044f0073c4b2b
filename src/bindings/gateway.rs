//! `NativeGateway`: the binding of `gateway::Gateway` (wrapped by `lib/gateway.js`). Options cross as
//! JSON text (parsed, defaulted and checked by `gateway::options`); a token function and listeners cross
//! as threadsafe functions.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::to_napi_error;
use super::user_calls::CallResult;
use crate::diagnostics::{LogBuffer, LogOutput};
use crate::error::{ErrorCode, GatewayError};
use crate::gateway::json::transaction_json;
use crate::gateway::{CallOptions, ConnectOptions, Gateway};
use crate::projection::{ChangeSink, Transaction};
use crate::session::state::{SessionState, StateSink};
use crate::session::token::TokenProvider;
use futures_util::future::BoxFuture;

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

/// A batch of log records, taken when it reaches the JS thread: it holds everything logged until then.
pub struct LogBatch(Arc<LogBuffer>);

impl ToNapiValue for LogBatch {
    unsafe fn to_napi_value(env: napi::sys::napi_env, batch: Self) -> Result<napi::sys::napi_value> {
        String::to_napi_value(env, batch.0.take())
    }
}

/// The JS log function (`onLog`): receives batches as JSON arrays; weak (it does not keep Node alive).
type LogFunction = ThreadsafeFunction<LogBatch, (), LogBatch, Status, false, true>;

struct JsLog(LogFunction);

impl LogOutput for JsLog {
    fn ready(&self, buffer: Arc<LogBuffer>) {
        // NonBlocking: no task of the core waits for the JS thread.
        self.0.call(LogBatch(buffer), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Connects to a database and returns the native gateway handle. `optionsJson` is `Gateway.connect`'s
/// options without a token function; `tokenFunction`, when given, is called (it returns a promise of a
/// token) before every connect, and ahead of each token's expiry; `logFunction`, when given, receives the
/// gateway's log records in batches (a JSON array per call).
#[napi(
    ts_args_type = "optionsJson: string, tokenFunction?: () => Promise<string>, logFunction?: (batchJson: string) => void"
)]
pub async fn connect_gateway(
    options_json: String,
    token_function: Option<TokenFunction>,
    log_function: Option<LogFunction>,
) -> Result<NativeGateway> {
    let options = ConnectOptions::parse(&options_json).map_err(to_napi_error)?;
    let provider =
        token_function.map(|f| Arc::new(JsTokenProvider { function: Arc::new(f) }) as Arc<dyn TokenProvider>);
    let log = log_function.map(|f| Arc::new(JsLog(f)) as Arc<dyn LogOutput>);
    let gateway = Gateway::connect(options, provider, log).await.map_err(to_napi_error)?;
    Ok(NativeGateway { gateway: Arc::new(gateway), change_sink: Mutex::new(None), state_sink: Mutex::new(None) })
}

/// A connection to one database, with its projection. Use `Gateway` from the package instead.
#[napi]
pub struct NativeGateway {
    gateway: Arc<Gateway>,
    change_sink: Mutex<Option<Arc<dyn ChangeSink>>>,
    state_sink: Mutex<Option<Arc<dyn StateSink>>>,
}

impl NativeGateway {
    pub(crate) fn gateway(&self) -> &Gateway {
        &self.gateway
    }
}

#[napi]
impl NativeGateway {
    /// This connection's identity (64 hex characters).
    #[napi(getter)]
    pub fn identity(&self) -> String {
        self.gateway.session().identity().to_hex().to_string()
    }

    /// This connection's id (32 hex characters).
    #[napi(getter)]
    pub fn connection_id(&self) -> String {
        self.gateway.session().connection_id().to_hex().to_string()
    }

    /// The websocket protocol the server chose for the connection that carries requests now: `v1`, `v2`
    /// or `v3` (`null` while there is none).
    #[napi(getter, ts_return_type = "'v1' | 'v2' | 'v3' | null")]
    pub fn protocol(&self) -> Option<&'static str> {
        self.gateway.session().protocol().map(|p| p.name())
    }

    /// The module schema as JSON text.
    #[napi]
    pub fn schema_json(&self) -> String {
        self.gateway.session().schema().describe().to_string()
    }

    /// Adds a query set; resolves once its rows are in the projection.
    #[napi]
    pub async fn subscribe(&self, queries: Vec<String>) -> Result<()> {
        self.gateway.subscribe(queries).await.map_err(to_napi_error)
    }

    /// The rows of a subscribed table as a JSON array, filtered by `whereJson` (an object of column
    /// equalities) when given.
    #[napi]
    pub fn rows_json(&self, table: String, where_json: Option<String>) -> Result<String> {
        self.gateway.rows_json(&table, where_json.as_deref()).map_err(to_napi_error)
    }

    /// Calls a reducer with JSON arguments (array or object); resolves once committed. `optionsJson` is
    /// `callReducer`'s options (`actor`, `token`, `via`, `timeoutMs`; see `gateway::options`). A service
    /// call is validated and sent (or queued while reconnecting) before this returns.
    #[napi(ts_return_type = "Promise<CallResult>")]
    pub fn call_reducer<'env>(
        &self,
        env: &'env Env,
        name: String,
        args_json: String,
        options_json: Option<String>,
    ) -> Result<PromiseRaw<'env, CallResult>> {
        let options = options_json.as_deref().map(CallOptions::parse).transpose().map_err(to_napi_error)?;
        let call = self.gateway.start_call(&name, &args_json, options.unwrap_or_default()).map_err(to_napi_error)?;
        env.spawn_future(async move { call.finish().await.map(CallResult::from).map_err(to_napi_error) })
    }

    /// Calls a procedure (SpacetimeDB 2.x, over a v2/v3 connection) with JSON arguments (array or
    /// object); resolves with its return value as JSON text. `optionsJson` may carry `timeoutMs`. Validated
    /// and sent (or queued while reconnecting) before this returns.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn call_procedure<'env>(
        &self,
        env: &'env Env,
        name: String,
        args_json: String,
        options_json: Option<String>,
    ) -> Result<PromiseRaw<'env, String>> {
        let options = options_json.as_deref().map(CallOptions::parse).transpose().map_err(to_napi_error)?;
        let call =
            self.gateway.start_procedure(&name, &args_json, options.unwrap_or_default()).map_err(to_napi_error)?;
        env.spawn_future(async move { call.finish().await.map_err(to_napi_error) })
    }

    /// Installs the one JS function that receives change batches (replacing any previous one).
    #[napi(ts_args_type = "listener: (json: string) => void")]
    pub fn set_change_listener(&self, listener: ChangeListener) -> Result<()> {
        if self.gateway.session().is_closed() {
            return Err(to_napi_error(GatewayError::new(ErrorCode::Closed, "the gateway is closed")));
        }
        let sink: Arc<dyn ChangeSink> = Arc::new(JsChangeSink { listener });
        let previous = self.change_sink.lock().unwrap().replace(sink.clone());
        if let Some(previous) = previous {
            self.gateway.session().remove_sink(&previous);
        }
        self.gateway.session().add_sink(sink);
        Ok(())
    }

    /// Removes the change listener, releasing its hold on the Node event loop.
    #[napi]
    pub fn clear_change_listener(&self) {
        if let Some(previous) = self.change_sink.lock().unwrap().take() {
            self.gateway.session().remove_sink(&previous);
        }
    }

    /// Starts the SSE relay with the relay options given to `Gateway.connect`.
    #[napi]
    pub fn start_relay(&self) -> Result<super::relay::NativeRelay> {
        super::relay::start(&self.gateway)
    }

    /// Drops the current SpacetimeDB connection as a network failure would; the gateway reconnects.
    #[napi]
    pub fn drop_connection(&self, reason: String) -> Result<()> {
        self.gateway.drop_connection(&reason).map_err(to_napi_error)
    }

    /// The connection state as JSON: `{"status","reason"?,"attempt","since"}`.
    #[napi]
    pub fn state_json(&self) -> String {
        self.gateway.session().state().to_json()
    }

    /// Installs the one JS function that receives state changes (replacing any previous one).
    #[napi(ts_args_type = "listener: (json: string) => void")]
    pub fn set_state_listener(&self, listener: StateListener) {
        let sink: Arc<dyn StateSink> = Arc::new(JsStateSink { listener });
        if let Some(previous) = self.state_sink.lock().unwrap().replace(sink.clone()) {
            self.gateway.session().remove_state_sink(&previous);
        }
        self.gateway.session().add_state_sink(sink);
    }

    /// Removes the state listener.
    #[napi]
    pub fn clear_state_listener(&self) {
        if let Some(previous) = self.state_sink.lock().unwrap().take() {
            self.gateway.session().remove_state_sink(&previous);
        }
    }

    /// Closes the gateway: no new calls; calls in flight get up to `drainMs` to settle, then reject with
    /// CLOSED; sockets close.
    #[napi]
    pub async fn close(&self, drain_ms: f64) -> Result<()> {
        let drain = if drain_ms == 0.0 { Duration::ZERO } else { duration_from_ms(drain_ms, "deadlineMs")? };
        self.gateway.close(drain).await;
        self.change_sink.lock().unwrap().take();
        self.state_sink.lock().unwrap().take();
        Ok(())
    }
}
