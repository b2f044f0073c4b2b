//! `NativeGateway`: the binding of `client::Session` (wrapped by `lib/gateway.js`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::to_napi_error;
use crate::client::connection::ConnectParams;
use crate::client::http;
use crate::client::json_io::{encode_call_args, rows_json, transaction_json};
use crate::client::schema::Schema;
use crate::client::session::{ChangeSink, Session, SessionOptions, Transaction};
use crate::client::uri::{Compression, ServerAddress};
use crate::client::value::format_timestamp;
use crate::error::{ErrorCode, GatewayError};

/// Options of `connectGateway` (validated again here: the JS layer is not the only possible caller).
#[napi(object)]
pub struct NativeConnectOptions {
    pub uri: String,
    pub database: String,
    pub token: Option<String>,
    /// 'none' | 'gzip' | 'brotli'
    pub compression: Option<String>,
    pub timeout_ms: f64,
}

/// The result of a committed reducer call.
#[napi(object)]
pub struct CallResult {
    /// Always 'committed' (failures reject).
    pub status: String,
    /// When the reducer started (RFC 3339, microseconds).
    pub timestamp: String,
    /// The request id the call used on the connection.
    pub request_id: u32,
    /// Energy used, as a decimal string (a u128).
    pub energy_used: String,
    /// How long the reducer ran, in microseconds.
    pub duration_micros: f64,
}

/// The JS `onChange` listener: receives one JSON string per transaction.
type ChangeListener = ThreadsafeFunction<String, (), String, Status, false>;

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

/// Connects to a database and returns the native gateway handle.
#[napi]
pub async fn connect_gateway(options: NativeConnectOptions) -> Result<NativeGateway> {
    let timeout = duration_from_ms(options.timeout_ms, "timeoutMs")?;
    let address = ServerAddress::parse(&options.uri).map_err(to_napi_error)?;
    let compression = Compression::parse(options.compression.as_deref().unwrap_or("none")).map_err(to_napi_error)?;
    if options.database.is_empty() {
        return Err(to_napi_error(GatewayError::invalid_argument("database must not be empty")));
    }
    let schema_json = http::fetch_schema(&address, &options.database, options.token.as_deref(), timeout)
        .await
        .map_err(to_napi_error)?;
    let schema = Arc::new(Schema::from_json(&schema_json).map_err(to_napi_error)?);
    let connect =
        ConnectParams { address, database: options.database, token: options.token, compression, light: false, timeout };
    let session = Session::open(SessionOptions { connect }, schema).await.map_err(to_napi_error)?;
    Ok(NativeGateway { session, change_sink: Mutex::new(None) })
}

/// A connection to one database, with its projection. Use `Gateway` from the package instead.
#[napi]
pub struct NativeGateway {
    session: Session,
    change_sink: Mutex<Option<Arc<dyn ChangeSink>>>,
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

    /// Calls a reducer with JSON arguments (array or object); resolves once committed.
    #[napi]
    pub async fn call_reducer(&self, name: String, args_json: String, timeout_ms: f64) -> Result<CallResult> {
        let timeout = duration_from_ms(timeout_ms, "timeoutMs")?;
        let args = encode_call_args(self.session.schema(), &name, &args_json).map_err(to_napi_error)?;
        let outcome = self.session.call_reducer(&name, args, timeout).await.map_err(to_napi_error)?;
        Ok(CallResult {
            status: "committed".to_string(),
            timestamp: format_timestamp(outcome.timestamp_micros),
            request_id: outcome.request_id,
            energy_used: outcome.energy_quanta_used.to_string(),
            duration_micros: outcome.duration_micros as f64,
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

    /// Closes the connection; pending requests reject with CLOSED.
    #[napi]
    pub async fn close(&self) -> Result<()> {
        self.change_sink.lock().unwrap().take();
        self.session.close().await;
        Ok(())
    }
}
