//! A session with one database: the projection, the subscriptions, pending requests, and the task that
//! keeps a connection live (`driver`): it applies what the server sends in commit order, reconnects with
//! backoff after an outage (rehydrating the projection by diff), and refreshes the token ahead of expiry
//! by switching to a new connection only once it is live (make-before-break).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use spacetimedb_lib::{ConnectionId, Identity};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tracing::instrument::WithSubscriber;

use super::backoff::BackoffPolicy;
use super::calls::CallOutcome;
use super::connector::{Connector, WebSocketConnector};
use super::driver::{self, Command};
use super::link::{Link, LinkId};
use super::query_table::query_table;
use super::state::{SessionState, StateSink, Status};
use super::token::TokenSource;
use super::websocket::ConnectParams;
use crate::codec::inbound::Protocol;
use crate::codec::schema::Schema;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{ChangeSink, Projection};

/// What it takes to open a session.
#[derive(Clone)]
pub struct SessionOptions {
    /// Where to connect (its `token` field is ignored: tokens come from `token`).
    pub connect: ConnectParams,
    pub token: TokenSource,
    /// How to wait between reconnect attempts; `None` disables reconnecting (a lost connection closes
    /// the session).
    pub reconnect: Option<BackoffPolicy>,
    /// How long a reducer call made while disconnected waits for the connection to come back.
    pub call_wait: Duration,
    /// How long a token refresh may take to find the switch point before it falls back to a diff.
    pub align_timeout: Duration,
    /// A connection that sends nothing (not even the server's 15 s pings) for this long is dead.
    pub idle_timeout: Duration,
    /// How links open: a websocket each (tests script their own).
    pub connector: Arc<dyn Connector>,
}

impl SessionOptions {
    pub fn new(connect: ConnectParams, token: TokenSource) -> Self {
        SessionOptions {
            connect,
            token,
            reconnect: Some(BackoffPolicy::default()),
            call_wait: Duration::from_secs(10),
            align_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(45),
            connector: Arc::new(WebSocketConnector),
        }
    }
}

/// One subscribed query set.
pub(crate) struct QuerySet {
    pub queries: Vec<String>,
    /// Callers of `subscribe` waiting for its first application.
    pub waiters: Vec<oneshot::Sender<Result<()>>>,
}

#[derive(Default)]
pub(crate) struct Subscriptions {
    pub sets: BTreeMap<u32, QuerySet>,
    pub next_query_id: u32,
    /// Tables some applied query set covers; `rows()` of other tables is an error.
    pub tables: HashSet<Box<str>>,
}

impl Subscriptions {
    /// Marks a set applied: its tables become readable and its waiters are answered.
    pub fn applied(&mut self, query_id: u32, tables_with_rows: impl Iterator<Item = Box<str>>) {
        self.tables.extend(tables_with_rows);
        if let Some(set) = self.sets.get_mut(&query_id) {
            // The server's reply lists only tables with matching rows; the queries name the others.
            self.tables.extend(set.queries.iter().filter_map(|q| query_table(q)).map(Box::from));
            for waiter in set.waiters.drain(..) {
                let _ = waiter.send(Ok(()));
            }
        }
    }

    /// Drops a set the server rejected, answering its waiters with `error`.
    pub fn rejected(&mut self, query_id: u32, error: GatewayError) {
        if let Some(set) = self.sets.remove(&query_id) {
            for waiter in set.waiters {
                let _ = waiter.send(Err(error.clone()));
            }
        }
    }
}

/// The links of a session: the active one (which carries new requests) and the others.
#[derive(Default)]
pub(crate) struct Links {
    pub active: Option<LinkId>,
    pub all: HashMap<LinkId, Link>,
}

impl Links {
    pub fn active(&self) -> Option<&Link> {
        self.active.and_then(|id| self.all.get(&id))
    }

    fn pending_calls(&self) -> usize {
        self.all.values().map(|l| l.calls.len()).sum()
    }
}

pub(crate) struct Shared {
    pub schema: Arc<Schema>,
    pub options: SessionOptions,
    /// The identity of the session (the same on every connection it opens).
    pub identity: Identity,
    pub projection: RwLock<Projection>,
    pub links: Mutex<Links>,
    pub subscriptions: Mutex<Subscriptions>,
    pub state: Mutex<SessionState>,
    pub status: watch::Sender<Status>,
    pub sinks: RwLock<Vec<Arc<dyn ChangeSink>>>,
    pub state_sinks: RwLock<Vec<Arc<dyn StateSink>>>,
    /// Set by `close`: no new requests.
    pub closing: AtomicBool,
    pub commands: mpsc::UnboundedSender<Command>,
    /// Notified whenever a reducer call settles (for draining on close).
    pub call_settled: Notify,
}

impl Shared {
    /// `CLOSED`: the request was not sent (a request in flight at close gets `DISCONNECTED` instead).
    pub fn closed_error(&self) -> GatewayError {
        GatewayError::new(
            ErrorCode::Closed,
            format!("the gateway for database '{}' is closed; the request was not sent", self.options.connect.database),
        )
    }

    /// `DISCONNECTED`: the gateway closed (after its drain) with a call sent and unanswered. It may have
    /// run, so it must not read as `CLOSED`, which means "not sent": retry logic depends on the difference.
    pub fn closed_in_flight_error(&self) -> GatewayError {
        GatewayError::new(
            ErrorCode::Disconnected,
            "the gateway closed before the call's result arrived; the call was sent, so its outcome is unknown \
             (it may have committed)",
        )
    }

    /// Moves to a new state and tells every observer.
    pub fn set_state(&self, status: Status, reason: Option<String>, attempt: u32) {
        let state = SessionState::new(status, reason, attempt);
        *self.state.lock().unwrap() = state.clone();
        self.status.send_replace(status);
        for sink in self.state_sinks.read().unwrap().iter() {
            sink.on_state(&state);
        }
    }
}

enum CallState {
    /// Not sent yet: the session is reconnecting.
    Waiting(Vec<u8>),
    Sent {
        link: LinkId,
        request_id: u32,
        reply: oneshot::Receiver<Result<CallOutcome>>,
    },
}

/// What a [`PendingCall`] calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Reducer,
    Procedure,
}

/// A reducer or procedure call that has been started (see [`Session::start_call`],
/// [`Session::start_procedure`]).
pub struct PendingCall {
    shared: Arc<Shared>,
    kind: CallKind,
    reducer: String,
    timeout: Duration,
    deadline: tokio::time::Instant,
    wait_until: tokio::time::Instant,
    state: CallState,
}

impl PendingCall {
    /// Sends the call on the active link, if there is one. Register and send under one lock: the send
    /// order must equal the registration order for the 1.3.0 `request_id = 0` rule (see `calls`).
    fn try_send(&mut self) -> Result<()> {
        let CallState::Waiting(args) = &mut self.state else { return Ok(()) };
        let mut links = self.shared.links.lock().unwrap();
        let active = links.active;
        let Some(link) = active.and_then(|id| links.all.get_mut(&id)) else { return Ok(()) };
        let (request_id, reply) = link.calls.register(&self.reducer);
        let args = std::mem::take(args);
        let frame = match self.kind {
            CallKind::Reducer => Ok(link.encode_call(&self.reducer, args, request_id)),
            // A reconnect may have negotiated v1 where the call was started on v2/v3.
            CallKind::Procedure => link.encode_procedure(&self.reducer, args, request_id),
        };
        if let Err(e) = frame.and_then(|frame| link.send(frame)) {
            link.calls.forget(request_id);
            return Err(e);
        }
        self.state = CallState::Sent { link: link.id, request_id, reply };
        Ok(())
    }

    /// `reducer 'name'` or `procedure 'name'`, for messages.
    fn what(&self) -> String {
        match self.kind {
            CallKind::Reducer => format!("reducer '{}'", self.reducer),
            CallKind::Procedure => format!("procedure '{}'", self.reducer),
        }
    }

    /// Waits for the connection if needed, then for the result.
    pub async fn finish(mut self) -> Result<CallOutcome> {
        let mut status = self.shared.status.subscribe();
        while matches!(self.state, CallState::Waiting(_)) {
            if self.shared.closing.load(Ordering::Acquire) {
                return Err(self.shared.closed_error());
            }
            let changed = tokio::time::timeout_at(self.wait_until, status.changed()).await;
            if !matches!(changed, Ok(Ok(()))) {
                let reason = self.shared.state.lock().unwrap().reason.clone().unwrap_or_else(|| "reconnecting".into());
                return Err(GatewayError::new(
                    ErrorCode::Disconnected,
                    format!("not connected to SpacetimeDB ({reason}); {} was not sent", self.what()),
                ));
            }
            self.try_send()?;
        }
        let what = self.what();
        let CallState::Sent { link, request_id, reply } = self.state else { unreachable!("sent above") };
        let result = match tokio::time::timeout_at(self.deadline, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.shared.closed_in_flight_error()),
            Err(_) => {
                if let Some(link) = self.shared.links.lock().unwrap().all.get_mut(&link) {
                    link.calls.forget(request_id);
                }
                Err(GatewayError::new(
                    ErrorCode::Timeout,
                    format!("no result for {what} within {} ms; it may still commit", self.timeout.as_millis()),
                ))
            }
        };
        self.shared.call_settled.notify_waiters();
        result
    }
}

/// A live session; cheap to clone (all clones share it).
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Session {
    /// Connects, waits for the identity, and starts the session task. `schema` is the module schema
    /// fetched beforehand (see `http::fetch_schema`); `first_token`, if given, is the token to connect
    /// with this first time (the caller already fetched one from `options.token`).
    pub async fn open(options: SessionOptions, schema: Arc<Schema>, first_token: Option<String>) -> Result<Session> {
        let open = match first_token {
            Some(token) => {
                options.connector.open(&ConnectParams { token: Some(token), ..options.connect.clone() }).await?
            }
            None => driver::open_link(&*options.connector, &options.connect, &options.token, None).await?,
        };
        let (commands, command_rx) = mpsc::unbounded_channel();
        let link = Link::new(1, &open);
        let shared = Arc::new(Shared {
            projection: RwLock::new(Projection::new(&schema)),
            schema,
            identity: open.identity,
            links: Mutex::new(Links { active: Some(1), all: HashMap::from([(1, link)]) }),
            subscriptions: Mutex::new(Subscriptions::default()),
            state: Mutex::new(SessionState::new(Status::Live, None, 0)),
            status: watch::channel(Status::Live).0,
            sinks: RwLock::new(Vec::new()),
            state_sinks: RwLock::new(Vec::new()),
            closing: AtomicBool::new(false),
            commands,
            call_settled: Notify::new(),
            options,
        });
        // The session task logs where its opener does (a gateway's log function, see `diagnostics`).
        let task = tokio::spawn(driver::run(shared.clone(), 1, open.events, command_rx).with_current_subscriber());
        Ok(Session { shared, task: Arc::new(Mutex::new(Some(task))) })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.shared.schema
    }

    pub fn identity(&self) -> Identity {
        self.shared.identity
    }

    /// The id of the connection that currently carries requests (it changes on reconnect and refresh).
    pub fn connection_id(&self) -> ConnectionId {
        self.shared.links.lock().unwrap().active().map(|l| l.connection_id).unwrap_or(ConnectionId::ZERO)
    }

    /// The protocol of the connection that currently carries requests (`None` while there is none).
    pub fn protocol(&self) -> Option<Protocol> {
        self.shared.links.lock().unwrap().active().map(|l| l.protocol)
    }

    pub fn state(&self) -> SessionState {
        self.shared.state.lock().unwrap().clone()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closing.load(Ordering::Acquire)
    }

    /// Registers an observer of the projection's changes.
    pub fn add_sink(&self, sink: Arc<dyn ChangeSink>) {
        self.shared.sinks.write().unwrap().push(sink);
    }

    /// Removes an observer registered with [`Session::add_sink`] (compared by pointer).
    pub fn remove_sink(&self, sink: &Arc<dyn ChangeSink>) {
        self.shared.sinks.write().unwrap().retain(|s| !Arc::ptr_eq(s, sink));
    }

    /// Registers an observer of state changes.
    pub fn add_state_sink(&self, sink: Arc<dyn StateSink>) {
        self.shared.state_sinks.write().unwrap().push(sink);
    }

    /// Removes an observer registered with [`Session::add_state_sink`].
    pub fn remove_state_sink(&self, sink: &Arc<dyn StateSink>) {
        self.shared.state_sinks.write().unwrap().retain(|s| !Arc::ptr_eq(s, sink));
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
    /// The set is kept: after a reconnect it is subscribed again.
    pub async fn subscribe(&self, queries: Vec<String>, timeout: Duration) -> Result<()> {
        if queries.is_empty() {
            return Err(GatewayError::invalid_argument("subscribe needs at least one query"));
        }
        if self.is_closed() {
            return Err(self.shared.closed_error());
        }
        let (reply, applied) = oneshot::channel();
        let description = queries.join("; ");
        self.shared.commands.send(Command::Subscribe { queries, reply }).map_err(|_| self.shared.closed_error())?;
        match tokio::time::timeout(timeout, applied).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.shared.closed_error()),
            Err(_) => Err(GatewayError::new(
                ErrorCode::Timeout,
                format!("the server did not apply the subscription within {} ms: {description}", timeout.as_millis()),
            )),
        }
    }

    /// Calls a reducer with BSATN-encoded arguments (see `ReducerDef::encode_args`) and resolves when the
    /// transaction committed and is in the projection; `REDUCER_FAILED` carries the module's message.
    /// The same as [`Session::start_call`] followed by [`PendingCall::finish`].
    pub async fn call_reducer(&self, reducer: &str, args: Vec<u8>, timeout: Duration) -> Result<CallOutcome> {
        self.start_call(reducer, args, timeout)?.finish().await
    }

    /// Starts a reducer call now (synchronously): sends it if the session is connected, or prepares to
    /// send it once it is. Calls started before `close` count as in flight and are drained by it.
    ///
    /// At most once: the call is sent on one connection, once. While disconnected it waits up to
    /// `call_wait` for the connection (then `DISCONNECTED`, not sent); if the connection drops after
    /// sending and before the result, it fails with `DISCONNECTED` saying the outcome is unknown.
    pub fn start_call(&self, reducer: &str, args: Vec<u8>, timeout: Duration) -> Result<PendingCall> {
        self.start(CallKind::Reducer, reducer, args, timeout)
    }

    /// Starts a procedure call like [`Session::start_call`] (the same waiting, at-most-once and drain
    /// rules); its outcome carries the return value (`CallOutcome::returned`). `UNSUPPORTED` when it cannot
    /// go over v2/v3: none offered, or the current connection negotiated v1.
    pub fn start_procedure(&self, procedure: &str, args: Vec<u8>, timeout: Duration) -> Result<PendingCall> {
        self.check_procedures(procedure)?;
        self.start(CallKind::Procedure, procedure, args, timeout)
    }

    /// `UNSUPPORTED` when procedure calls cannot be sent: no v2/v3 protocol was offered, or the current
    /// connection speaks v1. (While reconnecting the call waits; a new v1 connection refuses it then.)
    pub fn check_procedures(&self, procedure: &str) -> Result<()> {
        let offered = &self.shared.options.connect.protocols;
        if !offered.iter().any(|p| *p != Protocol::V1) || self.protocol() == Some(Protocol::V1) {
            return Err(super::link::procedures_need_v2(procedure));
        }
        Ok(())
    }

    fn start(&self, kind: CallKind, reducer: &str, args: Vec<u8>, timeout: Duration) -> Result<PendingCall> {
        if self.is_closed() {
            return Err(self.shared.closed_error());
        }
        let (size, limit) = (
            crate::codec::protocol::call_reducer_len(reducer, args.len()),
            self.shared.options.connect.max_message_bytes,
        );
        if size > limit {
            let what = if kind == CallKind::Reducer { "reducer" } else { "procedure" };
            return Err(GatewayError::invalid_argument(format!(
                "{what} '{reducer}': the call is {size} bytes, above the {limit}-byte message limit (maxMessageBytes); \
                 SpacetimeDB closes the connection on a larger message, failing every call in flight on it, so it was not sent"
            )));
        }
        let now = tokio::time::Instant::now();
        let mut call = PendingCall {
            shared: self.shared.clone(),
            kind,
            reducer: reducer.to_string(),
            timeout,
            deadline: now + timeout,
            wait_until: now + self.shared.options.call_wait.min(timeout),
            state: CallState::Waiting(args),
        };
        call.try_send()?;
        Ok(call)
    }
    /// Drops the active connection as a network failure would: calls in flight on it fail with
    /// `DISCONNECTED` (outcome unknown), and the session reconnects through its normal path. For tests and
    /// operational checks (`spacetime-gateway smoke --simulate disconnect`).
    pub fn drop_connection(&self, reason: &str) -> Result<()> {
        if self.is_closed() {
            return Err(self.shared.closed_error());
        }
        self.shared.commands.send(Command::Drop { reason: reason.to_string() }).map_err(|_| self.shared.closed_error())
    }

    /// Closes the session: no new requests; calls in flight get up to `drain` to settle (then `CLOSED`);
    /// observers are dropped, sockets closed, and the session task has ended when this returns.
    pub async fn close(&self, drain: Duration) {
        if !self.shared.closing.swap(true, Ordering::AcqRel) {
            let deadline = tokio::time::Instant::now() + drain;
            loop {
                let settled = self.shared.call_settled.notified();
                if self.shared.links.lock().unwrap().pending_calls() == 0 {
                    break;
                }
                if tokio::time::timeout_at(deadline, settled).await.is_err() {
                    break;
                }
            }
            let _ = self.shared.commands.send(Command::Close);
        }
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
