//! A session with one database: the connection, the projection, pending requests, and the task that
//! applies what the server sends, in order.
//!
//! One task per session reads the socket and handles every message to completion before the next
//! (transactions arrive in commit order, §3 of the protocol doc, and must be applied in that order).
//! Requests (reducer calls, subscriptions) are registered in their pending lists and written to the
//! socket directly by the caller; the task resolves them when their replies arrive.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use spacetimedb_client_api_messages::websocket::v1 as ws;
use spacetimedb_lib::{ConnectionId, Identity};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::calls::PendingRequests;
use super::connection::{self, ConnectParams, FrameReader};
use super::protocol::{self, DatabaseUpdate, ServerMessage};
use super::query_table::query_table;
use super::schema::{Schema, TableDef};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{Projection, RowChange};

/// What the server reported for a committed reducer call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    pub request_id: u32,
    /// When the reducer started, µs since the Unix epoch.
    pub timestamp_micros: i64,
    pub energy_quanta_used: u128,
    pub duration_micros: i64,
}

/// Facts about the transaction behind a batch of changes, when the server sent them (full updates; a
/// light update or a subscription change carries none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionMeta {
    pub timestamp_micros: Option<i64>,
    pub reducer: Option<Box<str>>,
    pub caller_identity: Option<Identity>,
    pub caller_connection_id: Option<ConnectionId>,
}

/// The changes one table saw in one transaction.
pub struct TableChanges {
    pub table: Arc<TableDef>,
    pub changes: Vec<RowChange>,
}

/// Everything the projection saw change in one transaction (or one subscription change).
pub struct Transaction {
    pub meta: TransactionMeta,
    pub tables: Vec<TableChanges>,
}

/// An observer of the projection (the JS `onChange` listeners, the SSE relay). Called on the session
/// task, in commit order, once per transaction that changed something, while the projection is locked
/// for writing: it must not block, and must not read the projection through the session.
pub trait ChangeSink: Send + Sync {
    fn on_transaction(&self, tx: &Transaction);
}

/// What it takes to open a session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    pub connect: ConnectParams,
}

/// The subscription bookkeeping.
#[derive(Default)]
struct Subscriptions {
    pending: PendingRequests<Result<()>>,
    next_query_id: u32,
    /// Tables some applied query set covers; `rows()` of other tables is an error.
    tables: HashSet<Box<str>>,
    /// The tables each pending subscribe request's queries read (see `query_table`), by request id.
    awaiting_tables: HashMap<u32, Vec<Box<str>>>,
}

struct Shared {
    schema: Arc<Schema>,
    database: String,
    identity: Identity,
    connection_id: ConnectionId,
    projection: RwLock<Projection>,
    calls: Mutex<PendingRequests<Result<CallOutcome>>>,
    subscriptions: Mutex<Subscriptions>,
    writer: Mutex<Option<mpsc::UnboundedSender<Message>>>,
    sinks: RwLock<Vec<Arc<dyn ChangeSink>>>,
    closed: AtomicBool,
    shutdown: Notify,
}

/// A live session; cheap to clone (all clones share it).
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Session {
    /// Connects, waits for the identity, and starts the session task. `schema` is the module schema
    /// fetched beforehand (see `http::fetch_schema`).
    pub async fn open(options: SessionOptions, schema: Arc<Schema>) -> Result<Session> {
        let open = connection::open(&options.connect).await?;
        let shared = Arc::new(Shared {
            projection: RwLock::new(Projection::new(&schema)),
            schema,
            database: options.connect.database.clone(),
            identity: open.identity,
            connection_id: open.connection_id,
            calls: Mutex::new(PendingRequests::default()),
            subscriptions: Mutex::new(Subscriptions::default()),
            writer: Mutex::new(Some(open.writer)),
            sinks: RwLock::new(Vec::new()),
            closed: AtomicBool::new(false),
            shutdown: Notify::new(),
        });
        let task = tokio::spawn(run(shared.clone(), open.reader));
        Ok(Session { shared, task: Arc::new(Mutex::new(Some(task))) })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.shared.schema
    }

    pub fn identity(&self) -> Identity {
        self.shared.identity
    }

    pub fn connection_id(&self) -> ConnectionId {
        self.shared.connection_id
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Registers an observer of the projection's changes.
    pub fn add_sink(&self, sink: Arc<dyn ChangeSink>) {
        self.shared.sinks.write().unwrap().push(sink);
    }

    /// Removes an observer registered with [`Session::add_sink`] (compared by pointer).
    pub fn remove_sink(&self, sink: &Arc<dyn ChangeSink>) {
        self.shared.sinks.write().unwrap().retain(|s| !Arc::ptr_eq(s, sink));
    }

    /// Reads the projection.
    pub fn with_projection<R>(&self, f: impl FnOnce(&Projection) -> R) -> R {
        f(&self.shared.projection.read().unwrap())
    }

    /// Whether some applied subscription covers `table`.
    pub fn is_subscribed(&self, table: &str) -> bool {
        self.shared.subscriptions.lock().unwrap().tables.contains(table)
    }

    /// Adds a query set and resolves once the server applied it and its rows are in the projection.
    pub async fn subscribe(&self, queries: Vec<String>, timeout: Duration) -> Result<()> {
        if queries.is_empty() {
            return Err(GatewayError::invalid_argument("subscribe needs at least one query"));
        }
        let (request_id, reply) = {
            let mut subs = self.shared.subscriptions.lock().unwrap();
            subs.next_query_id += 1;
            let query_id = subs.next_query_id;
            let (request_id, reply) = subs.pending.register("");
            if let Err(e) = self.send(protocol::encode_subscribe_multi(&queries, request_id, query_id)) {
                subs.pending.forget(request_id);
                return Err(e);
            }
            let tables = queries.iter().filter_map(|q| query_table(q)).map(Box::from).collect();
            subs.awaiting_tables.insert(request_id, tables);
            (request_id, reply)
        };
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                let mut subs = self.shared.subscriptions.lock().unwrap();
                subs.pending.forget(request_id);
                subs.awaiting_tables.remove(&request_id);
                Err(GatewayError::new(
                    ErrorCode::Timeout,
                    format!(
                        "the server did not apply the subscription within {} ms: {}",
                        timeout.as_millis(),
                        queries.join("; ")
                    ),
                ))
            }
        }
    }

    /// Calls a reducer with BSATN-encoded arguments (see `ReducerDef::encode_args`) and resolves when the
    /// transaction committed; `REDUCER_FAILED` carries the module's error message.
    pub async fn call_reducer(&self, reducer: &str, args: Vec<u8>, timeout: Duration) -> Result<CallOutcome> {
        let (request_id, reply) = {
            // Register and send under one lock: the send order must equal the registration order for the
            // 1.3.0 `request_id = 0` rule (see `calls`).
            let mut calls = self.shared.calls.lock().unwrap();
            let (request_id, reply) = calls.register(reducer);
            if let Err(e) = self.send(protocol::encode_call_reducer(reducer, args, request_id)) {
                calls.forget(request_id);
                return Err(e);
            }
            (request_id, reply)
        };
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.shared.calls.lock().unwrap().forget(request_id);
                Err(GatewayError::new(
                    ErrorCode::Timeout,
                    format!("no result for reducer '{reducer}' within {} ms; it may still commit", timeout.as_millis()),
                ))
            }
        }
    }

    fn send(&self, frame: Vec<u8>) -> Result<()> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        let writer = self.shared.writer.lock().unwrap();
        match writer.as_ref() {
            Some(w) if w.send(Message::Binary(frame.into())).is_ok() => Ok(()),
            _ => Err(GatewayError::new(ErrorCode::Disconnected, "the connection to SpacetimeDB is lost")),
        }
    }

    fn closed_error(&self) -> GatewayError {
        GatewayError::new(ErrorCode::Closed, format!("the gateway for database '{}' is closed", self.shared.database))
    }

    /// Closes the session: pending requests fail with `CLOSED`, observers are dropped, the socket is
    /// closed, and the session task has ended when this returns.
    pub async fn close(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return self.join().await;
        }
        if let Some(writer) = self.shared.writer.lock().unwrap().take() {
            let _ = writer
                .send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "gateway closed".into() })));
        }
        self.shared.shutdown.notify_one();
        fail_pending(&self.shared, || self.closed_error());
        self.shared.sinks.write().unwrap().clear();
        self.join().await;
    }

    async fn join(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn fail_pending(shared: &Shared, make: impl Fn() -> GatewayError) {
    shared.calls.lock().unwrap().fail_all(|| Err(make()));
    shared.subscriptions.lock().unwrap().pending.fail_all(|| Err(make()));
}

/// The session task: reads messages and handles each one completely, until closed or disconnected.
async fn run(shared: Arc<Shared>, mut reader: FrameReader) {
    loop {
        let next = tokio::select! {
            _ = shared.shutdown.notified() => return,
            next = connection::next_message(&mut reader) => next,
        };
        match next {
            Ok(Some(message)) => handle(&shared, message),
            Ok(None) => return connection_lost(&shared, "the server closed the connection"),
            Err(e) => return connection_lost(&shared, &e.message),
        }
    }
}

fn connection_lost(shared: &Shared, why: &str) {
    shared.writer.lock().unwrap().take();
    if shared.closed.load(Ordering::Acquire) {
        return;
    }
    fail_pending(shared, || {
        GatewayError::new(
            ErrorCode::Disconnected,
            format!("the connection to SpacetimeDB was lost ({why}); the outcome of this request is unknown"),
        )
    });
}

fn handle(shared: &Shared, message: ServerMessage) {
    match message {
        ServerMessage::TransactionUpdate(tx) => on_transaction_update(shared, tx),
        ServerMessage::TransactionUpdateLight(tx) => apply_and_notify(shared, &tx.update, TransactionMeta::default()),
        ServerMessage::SubscribeMultiApplied(applied) => {
            apply_and_notify(shared, &applied.update, TransactionMeta::default());
            let mut subs = shared.subscriptions.lock().unwrap();
            // The reply lists only tables with matching rows; the queries name the others.
            let named = subs.awaiting_tables.remove(&applied.request_id).unwrap_or_default();
            subs.tables.extend(named);
            subs.tables.extend(applied.update.tables.iter().map(|t| Box::<str>::from(&*t.table_name)));
            subs.pending.resolve(applied.request_id, "", Ok(()));
        }
        ServerMessage::UnsubscribeMultiApplied(applied) => {
            apply_and_notify(shared, &applied.update, TransactionMeta::default())
        }
        ServerMessage::SubscriptionError(err) => {
            let error = GatewayError::new(ErrorCode::SubscriptionFailed, err.error.to_string());
            match err.request_id {
                Some(request_id) => {
                    let mut subs = shared.subscriptions.lock().unwrap();
                    subs.awaiting_tables.remove(&request_id);
                    subs.pending.resolve(request_id, "", Err(error));
                }
                // Without a request id the error arose while evaluating a transaction: the server dropped
                // every subscription of this connection (protocol doc §2.3). Until resubscription exists
                // (connection manager), the projection stops changing; say so loudly.
                None => eprintln!(
                    "spacetime-gateway: SpacetimeDB dropped all subscriptions of this connection: {}",
                    err.error
                ),
            }
        }
        // Only sent after connecting (handled by `connection::open`), or for request kinds we do not send.
        ServerMessage::IdentityToken(_)
        | ServerMessage::InitialSubscription(_)
        | ServerMessage::SubscribeApplied(_)
        | ServerMessage::UnsubscribeApplied(_)
        | ServerMessage::OneOffQueryResponse(_)
        | ServerMessage::ProcedureResult(_) => {}
    }
}

fn on_transaction_update(shared: &Shared, tx: ws::TransactionUpdate<ws::BsatnFormat>) {
    let mine = tx.caller_connection_id == shared.connection_id && tx.caller_identity == shared.identity;
    let meta = TransactionMeta {
        timestamp_micros: Some(tx.timestamp.to_micros_since_unix_epoch()),
        reducer: Some((*tx.reducer_call.reducer_name).into()),
        caller_identity: Some(tx.caller_identity),
        caller_connection_id: tx.caller_connection_id.none_if_zero(),
    };
    let outcome = match &tx.status {
        ws::UpdateStatus::Committed(update) => {
            // Apply first: when a caller's `callReducer` resolves, the projection already holds its writes.
            apply_and_notify(shared, update, meta);
            Ok(CallOutcome {
                request_id: tx.reducer_call.request_id,
                timestamp_micros: tx.timestamp.to_micros_since_unix_epoch(),
                energy_quanta_used: tx.energy_quanta_used.quanta,
                duration_micros: tx.total_host_execution_duration.to_micros(),
            })
        }
        ws::UpdateStatus::Failed(message) => Err(GatewayError::new(ErrorCode::ReducerFailed, message.to_string())),
        ws::UpdateStatus::OutOfEnergy => Err(GatewayError::new(
            ErrorCode::ReducerFailed,
            format!("reducer '{}' ran out of energy", &*tx.reducer_call.reducer_name),
        )),
    };
    if mine {
        shared.calls.lock().unwrap().resolve(tx.reducer_call.request_id, &tx.reducer_call.reducer_name, outcome);
    }
}

/// Applies a database update to the projection and tells every observer what changed.
fn apply_and_notify(shared: &Shared, update: &DatabaseUpdate, meta: TransactionMeta) {
    let mut projection = shared.projection.write().unwrap();
    let mut tables = Vec::with_capacity(update.tables.len());
    for table_update in &update.tables {
        match apply_table(&mut projection, table_update) {
            Ok(Some(changes)) => tables.push(changes),
            Ok(None) => {}
            // A malformed update of one table must not corrupt the others; it is reported, and the
            // projection of that table stays as it was before this transaction.
            Err(e) => eprintln!("spacetime-gateway: ignored an update of table '{}': {e}", &*table_update.table_name),
        }
    }
    if tables.is_empty() {
        return;
    }
    // Observers are told while the projection is still locked for writing: whoever reads the projection
    // (e.g. the relay taking a stream's snapshot) sees either the state before this transaction and
    // then its changes, or the state after it and not its changes — never both, never neither.
    let tx = Transaction { meta, tables };
    for sink in shared.sinks.read().unwrap().iter() {
        sink.on_transaction(&tx);
    }
    drop(projection);
}

fn apply_table(projection: &mut Projection, table_update: &protocol::TableUpdate) -> Result<Option<TableChanges>> {
    let name = &*table_update.table_name;
    let mut deletes = Vec::new();
    let mut inserts = Vec::new();
    for query_update in protocol::query_updates(table_update)? {
        deletes.extend(protocol::rows(&query_update.deletes)?);
        inserts.extend(protocol::rows(&query_update.inserts)?);
    }
    let changes = projection.apply(name, &deletes, &inserts)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let table = projection.table(name).expect("apply succeeded, so the table exists").def().clone();
    Ok(Some(TableChanges { table, changes }))
}
