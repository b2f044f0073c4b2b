//! The session task: it reads every link, applies the active link's messages to the projection in
//! order, prepares new links (after an outage, or before a token expires) and switches to them.
//!
//! Switching (see `alignment`): a new link subscribes every query set into a *staging* projection. For
//! a reconnect there is nothing to align with, so the session replaces its projection with the staging
//! one and reports the difference as one batch (everything that changed while it was away). For a token
//! refresh the old link is still live: the session waits for the point where both links agree, switches
//! without reporting anything twice, and lets the old link finish its calls before closing it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::pending;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::stream::{BoxStream, SelectAll, StreamExt};
use spacetimedb_client_api_messages::websocket::v1 as ws;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::alignment::{Alignment, Decision, TxKey};
use super::calls::CallOutcome;
use super::handle::{QuerySet, Shared};
use super::link::{self, Link, LinkEvent, LinkId};
use super::state::Status;
use super::token::{refresh_after, token_within, TokenSource};
use super::websocket::{self, ConnectParams, FrameReader, OpenConnection};
use crate::codec::protocol::{self, DatabaseUpdate, ServerMessage};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::Projection;
use crate::projection::{TableChanges, Transaction, TransactionMeta};

/// Requests from the session's API to its task.
pub(crate) enum Command {
    Subscribe { queries: Vec<String>, reply: oneshot::Sender<Result<()>> },
    Close,
}

/// Why a link is being opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Reconnect,
    Refresh,
}

/// Opens a connection with a token from `source` (`anonymous` is the token the server minted for an
/// anonymous session on its first connect). A provider's token refused as `UNAUTHORIZED` is fetched
/// again once: it may have expired between minting and connecting.
pub(crate) async fn open_link(
    params: &ConnectParams,
    source: &TokenSource,
    anonymous: Option<&str>,
) -> Result<OpenConnection> {
    let mut params = params.clone();
    params.token = match source {
        TokenSource::Anonymous => anonymous.map(str::to_string),
        TokenSource::Fixed(token) => Some(token.clone()),
        TokenSource::Provider(provider) => Some(token_within(&**provider, params.timeout).await?),
    };
    match websocket::open(&params).await {
        Err(e) if e.code == ErrorCode::Unauthorized => match source {
            TokenSource::Provider(provider) => {
                params.token = Some(token_within(&**provider, params.timeout).await?);
                websocket::open(&params).await
            }
            _ => Err(e),
        },
        other => other,
    }
}

/// A transaction `next` delivered after its snapshot, waiting for the switch.
struct Buffered {
    meta: TransactionMeta,
    update: DatabaseUpdate,
}

/// A link being prepared: subscribing into a staging projection.
struct Preparing {
    link: LinkId,
    purpose: Purpose,
    staging: Projection,
    /// Subscribe requests on the link not applied yet.
    pending: HashSet<u32>,
    /// The query sets subscribed on the link.
    sets: Vec<u32>,
    alignment: Alignment<Buffered>,
    snapshot_at: Option<Instant>,
    last_compare: Option<Instant>,
}

/// A committed call whose result arrived on a link that no longer drives the projection: answered once
/// the driving link applied the same transaction, so callers still read their own writes.
struct HeldCall {
    reply: oneshot::Sender<Result<CallOutcome>>,
    outcome: CallOutcome,
    since: Instant,
}

/// How many applied transaction keys to remember for late results of draining links.
const REMEMBERED_KEYS: usize = 10_000;
/// How often the session task looks at its timers while a link is being prepared or results are held.
const BUSY_TICK: Duration = Duration::from_millis(250);
/// How often it looks for dead links otherwise (at most; and at least four times per idle timeout).
const IDLE_TICK: Duration = Duration::from_secs(5);
/// Content comparisons during alignment are O(rows): at most this often.
const COMPARE_INTERVAL: Duration = Duration::from_millis(25);

struct Driver {
    shared: Arc<Shared>,
    readers: SelectAll<BoxStream<'static, (LinkId, LinkEvent)>>,
    next_link_id: LinkId,
    preparing: Option<Preparing>,
    /// A link is being opened (its result arrives on `opened`).
    opening: bool,
    opened_tx: mpsc::UnboundedSender<(Purpose, Result<OpenConnection>)>,
    /// Failed reconnect (or refresh) attempts in a row.
    attempt: u32,
    retry_at: Option<Instant>,
    refresh_at: Option<Instant>,
    held: HashMap<TxKey, Vec<HeldCall>>,
    applied_keys: VecDeque<TxKey>,
    applied_set: HashSet<TxKey>,
    /// The token the server minted for an anonymous session (reused so the identity stays the same).
    anonymous_token: Option<String>,
}

/// Runs the session task until `Command::Close`.
pub(crate) async fn run(
    shared: Arc<Shared>,
    first: LinkId,
    reader: FrameReader,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
    let first_token = shared.links.lock().unwrap().all.get(&first).map(|l| l.token.clone()).unwrap_or_default();
    let mut d = Driver {
        anonymous_token: matches!(shared.options.token, TokenSource::Anonymous).then(|| first_token.clone()),
        shared,
        readers: SelectAll::new(),
        next_link_id: first + 1,
        preparing: None,
        opening: false,
        opened_tx,
        attempt: 0,
        retry_at: None,
        refresh_at: None,
        held: HashMap::new(),
        applied_keys: VecDeque::new(),
        applied_set: HashSet::new(),
    };
    d.readers.push(link::events(first, reader).boxed());
    d.schedule_refresh(&first_token);
    let mut last_tick = Instant::now();
    loop {
        let tick_at = last_tick + d.tick_interval();
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Subscribe { queries, reply }) => d.subscribe(queries, reply),
                Some(Command::Close) | None => break,
            },
            Some((id, event)) = d.readers.next() => d.on_event(id, event),
            Some((purpose, result)) = opened_rx.recv() => d.on_opened(purpose, result),
            _ = sleep_until(d.retry_at) => {
                d.retry_at = None;
                d.start_open(Purpose::Reconnect);
            }
            _ = sleep_until(d.refresh_at) => {
                d.refresh_at = None;
                d.start_open(Purpose::Refresh);
            }
            // Alignment and held results need a fine clock; otherwise only dead links are looked for, and a
            // coarse one keeps thousands of idle pooled sessions cheap.
            _ = tokio::time::sleep_until(tick_at) => {
                d.on_tick();
                last_tick = Instant::now();
            }
        }
    }
    d.shutdown();
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => pending().await,
    }
}

fn tx_key(tx: &ws::TransactionUpdate<ws::BsatnFormat>) -> TxKey {
    TxKey {
        timestamp_micros: tx.timestamp.to_micros_since_unix_epoch(),
        caller_identity: tx.caller_identity,
        caller_connection_id: tx.caller_connection_id,
        reducer_id: tx.reducer_call.reducer_id,
        request_id: tx.reducer_call.request_id,
    }
}

fn tx_meta(tx: &ws::TransactionUpdate<ws::BsatnFormat>) -> TransactionMeta {
    TransactionMeta {
        timestamp_micros: Some(tx.timestamp.to_micros_since_unix_epoch()),
        reducer: Some((*tx.reducer_call.reducer_name).into()),
        caller_identity: Some(tx.caller_identity),
        caller_connection_id: tx.caller_connection_id.none_if_zero(),
        rehydrated: false,
    }
}

fn outcome_of(tx: &ws::TransactionUpdate<ws::BsatnFormat>) -> Result<CallOutcome> {
    match &tx.status {
        ws::UpdateStatus::Committed(_) => Ok(CallOutcome {
            request_id: tx.reducer_call.request_id,
            timestamp_micros: tx.timestamp.to_micros_since_unix_epoch(),
            energy_quanta_used: tx.energy_quanta_used.quanta,
            duration_micros: tx.total_host_execution_duration.to_micros(),
        }),
        ws::UpdateStatus::Failed(message) => Err(GatewayError::new(ErrorCode::ReducerFailed, message.to_string())),
        ws::UpdateStatus::OutOfEnergy => Err(GatewayError::new(
            ErrorCode::ReducerFailed,
            format!("reducer '{}' ran out of energy", &*tx.reducer_call.reducer_name),
        )),
    }
}

/// Applies a database update to `projection`; returns the changes, table by table.
fn apply_update(projection: &mut Projection, update: &DatabaseUpdate) -> Vec<TableChanges> {
    let mut tables = Vec::with_capacity(update.tables.len());
    for table_update in &update.tables {
        match apply_table(projection, table_update) {
            Ok(Some(changes)) => tables.push(changes),
            Ok(None) => {}
            // A malformed update of one table must not corrupt the others; it is reported, and the
            // projection of that table stays as it was before this transaction.
            Err(e) => eprintln!("spacetime-gateway: ignored an update of table '{}': {e}", &*table_update.table_name),
        }
    }
    tables
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

impl Driver {
    // --- the projection --------------------------------------------------------------------------------

    /// Applies an update to the projection and tells every observer what changed. Observers are told
    /// while the projection is still locked for writing: whoever reads the projection (e.g. the relay
    /// taking a stream's snapshot) sees either the state before this transaction and then its changes, or
    /// the state after it and not its changes — never both, never neither.
    fn apply_and_notify(&self, update: &DatabaseUpdate, meta: TransactionMeta) {
        let mut projection = self.shared.projection.write().unwrap();
        let tables = apply_update(&mut projection, update);
        self.notify(Transaction { meta, tables });
        drop(projection);
    }

    fn notify(&self, tx: Transaction) {
        if tx.tables.is_empty() {
            return;
        }
        for sink in self.shared.sinks.read().unwrap().iter() {
            sink.on_transaction(&tx);
        }
    }

    /// The driving link applied transaction `key`: answer calls held for it, and remember it.
    fn note_applied(&mut self, key: Option<TxKey>) {
        let Some(key) = key else { return };
        for held in self.held.remove(&key).unwrap_or_default() {
            let _ = held.reply.send(Ok(held.outcome));
        }
        if self.applied_keys.len() == REMEMBERED_KEYS {
            if let Some(old) = self.applied_keys.pop_front() {
                self.applied_set.remove(&old);
            }
        }
        self.applied_keys.push_back(key);
        self.applied_set.insert(key);
    }

    // --- events ----------------------------------------------------------------------------------------

    fn on_event(&mut self, id: LinkId, event: LinkEvent) {
        if let Some(link) = self.shared.links.lock().unwrap().all.get_mut(&id) {
            link.last_seen = std::time::Instant::now();
        }
        match event {
            LinkEvent::Alive => {}
            LinkEvent::Closed(reason) => self.on_link_closed(id, &reason),
            LinkEvent::Message(message) => {
                if self.shared.links.lock().unwrap().active == Some(id) {
                    self.on_active_message(id, *message);
                } else if self.preparing.as_ref().is_some_and(|p| p.link == id) {
                    self.on_preparing_message(*message);
                } else {
                    self.on_draining_message(id, *message);
                }
            }
        }
    }

    fn on_active_message(&mut self, id: LinkId, message: ServerMessage) {
        match message {
            ServerMessage::TransactionUpdate(tx) => {
                let key = tx_key(&tx);
                if let ws::UpdateStatus::Committed(update) = &tx.status {
                    // Apply first: when a caller's `callReducer` resolves, the projection already holds its writes.
                    self.apply_and_notify(update, tx_meta(&tx));
                    self.note_applied(Some(key));
                    if let Some(p) = &mut self.preparing {
                        p.alignment.active_applied(Some(key));
                    }
                }
                self.resolve_call(id, &tx);
                self.evaluate();
            }
            ServerMessage::TransactionUpdateLight(tx) => {
                self.apply_and_notify(&tx.update, TransactionMeta::default());
                if let Some(p) = &mut self.preparing {
                    p.alignment.active_applied(None);
                }
                self.evaluate();
            }
            ServerMessage::SubscribeMultiApplied(applied) => {
                self.apply_and_notify(&applied.update, TransactionMeta::default());
                let tables = applied.update.tables.iter().map(|t| Box::<str>::from(&*t.table_name));
                self.shared.subscriptions.lock().unwrap().applied(applied.query_id.id, tables);
            }
            ServerMessage::UnsubscribeMultiApplied(applied) => {
                self.apply_and_notify(&applied.update, TransactionMeta::default())
            }
            ServerMessage::SubscriptionError(err) => match err.query_id {
                Some(query_id) if err.request_id.is_some() => {
                    let error = GatewayError::new(ErrorCode::SubscriptionFailed, err.error.to_string());
                    self.shared.subscriptions.lock().unwrap().rejected(query_id, error);
                }
                // The error arose while evaluating a transaction: the server dropped every subscription of
                // this connection (protocol doc §2.3). A new connection subscribes everything again.
                _ => {
                    let reason = format!("SpacetimeDB dropped all subscriptions of this connection: {}", err.error);
                    self.close_link(id, &reason);
                    self.on_link_closed(id, &reason);
                }
            },
            // Sent only after connecting (handled by `connection::open`), or for requests we never send.
            ServerMessage::IdentityToken(_)
            | ServerMessage::InitialSubscription(_)
            | ServerMessage::SubscribeApplied(_)
            | ServerMessage::UnsubscribeApplied(_)
            | ServerMessage::OneOffQueryResponse(_)
            | ServerMessage::ProcedureResult(_) => {}
        }
    }

    fn on_preparing_message(&mut self, message: ServerMessage) {
        let Some(p) = &mut self.preparing else { return };
        let link = p.link;
        let snapshot_complete = p.alignment.is_snapshot_complete();
        match message {
            ServerMessage::SubscribeMultiApplied(applied) => {
                apply_update(&mut p.staging, &applied.update);
                self.subscribe_settled(applied.request_id);
            }
            ServerMessage::SubscriptionError(err) => match err.request_id {
                Some(request_id) => {
                    eprintln!("spacetime-gateway: a subscription failed on the new connection: {}", err.error);
                    self.subscribe_settled(request_id);
                }
                None => {
                    let reason = format!("SpacetimeDB dropped the subscriptions of the new connection: {}", err.error);
                    self.close_link(link, &reason);
                    self.on_link_closed(link, &reason);
                }
            },
            ServerMessage::TransactionUpdate(tx) => {
                let (key, meta) = (tx_key(&tx), tx_meta(&tx));
                if let ws::UpdateStatus::Committed(update) = tx.status {
                    if snapshot_complete {
                        p.alignment.buffer(Some(key), Buffered { meta, update });
                    } else {
                        apply_update(&mut p.staging, &update);
                    }
                    self.evaluate();
                }
            }
            ServerMessage::TransactionUpdateLight(tx) => {
                if snapshot_complete {
                    p.alignment.buffer(None, Buffered { meta: TransactionMeta::default(), update: tx.update });
                } else {
                    apply_update(&mut p.staging, &tx.update);
                }
                self.evaluate();
            }
            _ => {}
        }
    }

    /// A subscribe request of the preparing link settled; the snapshot is complete when all have.
    fn subscribe_settled(&mut self, request_id: u32) {
        let Some(p) = &mut self.preparing else { return };
        p.pending.remove(&request_id);
        if p.pending.is_empty() && !p.alignment.is_snapshot_complete() {
            p.alignment.snapshot_complete();
            p.snapshot_at = Some(Instant::now());
            self.evaluate();
        }
    }

    /// A message on a link that no longer drives the projection: only its own calls' results matter.
    fn on_draining_message(&mut self, id: LinkId, message: ServerMessage) {
        if let ServerMessage::TransactionUpdate(tx) = message {
            self.resolve_call(id, &tx);
        }
        self.close_if_drained(id);
    }

    /// Answers the call `tx` is the result of, if it was made on link `id`.
    fn resolve_call(&mut self, id: LinkId, tx: &ws::TransactionUpdate<ws::BsatnFormat>) {
        let mut links = self.shared.links.lock().unwrap();
        let driving = links.active == Some(id);
        let Some(link) = links.all.get_mut(&id) else { return };
        if tx.caller_connection_id != link.connection_id || tx.caller_identity != link.identity {
            return;
        }
        let Some(reply) = link.calls.take(tx.reducer_call.request_id, &tx.reducer_call.reducer_name) else { return };
        drop(links);
        let outcome = outcome_of(tx);
        let key = tx_key(tx);
        let touches_projection = matches!(&tx.status, ws::UpdateStatus::Committed(u) if !u.tables.is_empty());
        match outcome {
            Ok(outcome) if !driving && touches_projection && !self.applied_set.contains(&key) => {
                self.held.entry(key).or_default().push(HeldCall { reply, outcome, since: Instant::now() });
            }
            outcome => {
                let _ = reply.send(outcome);
            }
        }
    }

    // --- switching links -------------------------------------------------------------------------------

    fn evaluate(&mut self) {
        let Some(p) = &mut self.preparing else { return };
        let has_active = self.shared.links.lock().unwrap().active.is_some();
        match p.alignment.decide() {
            Decision::Wait => {}
            Decision::SwitchAfter { skip } => self.switch(skip, false),
            Decision::CompareContent if !has_active => self.switch(0, true),
            Decision::CompareContent => {
                let now = Instant::now();
                if p.last_compare.is_some_and(|t| now - t < COMPARE_INTERVAL) {
                    return;
                }
                p.last_compare = Some(now);
                let same = self.shared.projection.read().unwrap().same_rows(&p.staging);
                if same {
                    self.switch(0, false);
                }
            }
        }
    }

    /// Makes the preparing link the active one. With `rehydrate`, the projection becomes the staging one
    /// and the difference is reported as one batch; then the buffered transactions after the first `skip`
    /// are applied in order.
    fn switch(&mut self, skip: usize, rehydrate: bool) {
        let Some(p) = self.preparing.take() else { return };
        let purpose = p.purpose;
        {
            let mut projection = self.shared.projection.write().unwrap();
            if rehydrate {
                p.staging.copy_indexes_from(&projection);
                let tables = projection
                    .changes_to(&p.staging)
                    .into_iter()
                    .map(|(table, changes)| TableChanges { table, changes })
                    .collect();
                *projection = p.staging;
                self.notify(Transaction { meta: TransactionMeta { rehydrated: true, ..Default::default() }, tables });
            }
        }
        for (key, buffered) in p.alignment.into_remaining(skip) {
            self.apply_and_notify(&buffered.update, buffered.meta);
            self.note_applied(key);
        }
        let (old, token) = {
            let mut links = self.shared.links.lock().unwrap();
            let old = links.active.replace(p.link);
            (old, links.all.get(&p.link).map(|l| l.token.clone()).unwrap_or_default())
        };
        {
            let mut subscriptions = self.shared.subscriptions.lock().unwrap();
            for query_id in &p.sets {
                subscriptions.applied(*query_id, std::iter::empty());
            }
        }
        if let Some(old) = old {
            self.close_if_drained(old);
        }
        self.attempt = 0;
        let reason = match purpose {
            Purpose::Reconnect => "reconnected",
            Purpose::Refresh => "token refreshed",
        };
        self.shared.set_state(Status::Live, Some(reason.into()), 0);
        self.schedule_refresh(&token);
    }

    /// Closes a non-active link once it has no calls in flight.
    fn close_if_drained(&mut self, id: LinkId) {
        let mut links = self.shared.links.lock().unwrap();
        if links.active == Some(id) || self.preparing.as_ref().is_some_and(|p| p.link == id) {
            return;
        }
        if links.all.get(&id).is_some_and(|l| l.calls.is_empty()) {
            if let Some(link) = links.all.remove(&id) {
                link.close("replaced by a new connection");
            }
        }
    }

    fn close_link(&self, id: LinkId, reason: &str) {
        if let Some(link) = self.shared.links.lock().unwrap().all.get(&id) {
            link.close(reason);
        }
    }

    fn on_link_closed(&mut self, id: LinkId, reason: &str) {
        let (was_active, link) = {
            let mut links = self.shared.links.lock().unwrap();
            let was_active = links.active == Some(id);
            if was_active {
                links.active = None;
            }
            (was_active, links.all.remove(&id))
        };
        let Some(mut link) = link else { return };
        link.calls.fail_all(|| {
            Err(GatewayError::new(
                ErrorCode::Disconnected,
                format!("the connection to SpacetimeDB was lost ({reason}); the outcome of this call is unknown"),
            ))
        });
        self.shared.call_settled.notify_waiters();
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        if was_active {
            self.refresh_at = None;
            match &mut self.preparing {
                // A refresh in progress becomes the reconnect.
                Some(p) => {
                    p.purpose = Purpose::Reconnect;
                    self.shared.set_state(Status::Reconnecting, Some(reason.to_string()), self.attempt);
                    self.evaluate();
                }
                None => self.schedule_reconnect(reason),
            }
        } else if self.preparing.as_ref().is_some_and(|p| p.link == id) {
            let purpose = self.preparing.take().map(|p| p.purpose);
            if purpose == Some(Purpose::Reconnect) || !self.has_active() {
                self.schedule_reconnect(reason);
            } else {
                self.attempt += 1;
                self.refresh_at = Some(Instant::now() + self.backoff(self.attempt));
            }
        }
    }

    fn has_active(&self) -> bool {
        self.shared.links.lock().unwrap().active.is_some()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let policy = self.shared.options.reconnect.clone().unwrap_or_default();
        policy.delay(attempt, rand::random::<f64>())
    }

    /// Waits (with backoff) before the next reconnect attempt, or closes the session if reconnecting is off.
    fn schedule_reconnect(&mut self, reason: &str) {
        if self.shared.options.reconnect.is_none() {
            self.shared.set_state(Status::Closed, Some(reason.to_string()), self.attempt);
            self.shared.closing.store(true, std::sync::atomic::Ordering::Release);
            self.fail_subscription_waiters(|| {
                GatewayError::new(ErrorCode::Disconnected, format!("the connection was lost: {reason}"))
            });
            return;
        }
        self.attempt += 1;
        self.shared.set_state(Status::Reconnecting, Some(reason.to_string()), self.attempt);
        self.retry_at = Some(Instant::now() + self.backoff(self.attempt));
    }

    fn schedule_refresh(&mut self, token: &str) {
        if !matches!(self.shared.options.token, TokenSource::Provider(_)) {
            return;
        }
        self.refresh_at = refresh_after(token, SystemTime::now()).map(|d| Instant::now() + d);
    }

    fn start_open(&mut self, purpose: Purpose) {
        if self.opening || self.preparing.is_some() {
            return;
        }
        self.opening = true;
        let shared = self.shared.clone();
        let anonymous = self.anonymous_token.clone();
        let tx = self.opened_tx.clone();
        tokio::spawn(async move {
            let result = open_link(&shared.options.connect, &shared.options.token, anonymous.as_deref()).await;
            let _ = tx.send((purpose, result));
        });
    }

    fn on_opened(&mut self, purpose: Purpose, result: Result<OpenConnection>) {
        self.opening = false;
        let purpose = if self.has_active() { purpose } else { Purpose::Reconnect };
        let open = match result {
            Ok(open) if open.identity != self.shared.identity => Err(GatewayError::new(
                ErrorCode::Unauthorized,
                format!(
                    "the new token is for identity {}, not this session's {}: a session keeps one identity",
                    open.identity.to_hex(),
                    self.shared.identity.to_hex()
                ),
            )),
            other => other,
        };
        let open = match open {
            Ok(open) => open,
            Err(e) => {
                if purpose == Purpose::Reconnect {
                    self.schedule_reconnect(&e.message);
                } else {
                    eprintln!("spacetime-gateway: token refresh failed, retrying: {e}");
                    self.attempt += 1;
                    self.refresh_at = Some(Instant::now() + self.backoff(self.attempt));
                }
                return;
            }
        };
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            let _ = open.writer.send(tokio_tungstenite::tungstenite::Message::Close(None));
            return;
        }
        let id = self.next_link_id;
        self.next_link_id += 1;
        let mut link = Link::new(id, &open);
        let mut pending = HashSet::new();
        let mut sets = Vec::new();
        for (query_id, set) in self.shared.subscriptions.lock().unwrap().sets.iter() {
            if link.subscribe(*query_id, &set.queries).is_ok() {
                sets.push(*query_id);
            }
        }
        pending.extend(link.subscribes.keys().copied());
        self.shared.links.lock().unwrap().all.insert(id, link);
        self.readers.push(link::events(id, open.reader).boxed());
        let mut alignment = Alignment::default();
        let snapshot_at = pending.is_empty().then(|| {
            alignment.snapshot_complete();
            Instant::now()
        });
        self.preparing = Some(Preparing {
            link: id,
            purpose,
            staging: Projection::new(&self.shared.schema),
            pending,
            sets,
            alignment,
            snapshot_at,
            last_compare: None,
        });
        self.evaluate();
    }

    fn tick_interval(&self) -> Duration {
        if self.preparing.is_some() || !self.held.is_empty() {
            BUSY_TICK
        } else {
            IDLE_TICK.min(self.shared.options.idle_timeout / 4)
        }
    }

    fn on_tick(&mut self) {
        let now = std::time::Instant::now();
        let idle_timeout = self.shared.options.idle_timeout;
        let silent: Vec<LinkId> = {
            let links = self.shared.links.lock().unwrap();
            links.all.values().filter(|l| now.duration_since(l.last_seen) > idle_timeout).map(|l| l.id).collect()
        };
        for id in silent {
            let reason = format!("no message from the server for {} s", idle_timeout.as_secs());
            self.close_link(id, &reason);
            self.on_link_closed(id, &reason);
        }
        let align_timeout = self.shared.options.align_timeout;
        if let Some(p) = &self.preparing {
            if p.snapshot_at.is_some_and(|t| t.elapsed() > align_timeout) {
                // No switch point found (e.g. light updates without transaction identity): fall back to a diff.
                self.switch(0, true);
            } else {
                self.evaluate();
            }
        }
        // Held results whose transaction did not reach the driving link in time (it did not touch our
        // rows after all, or that link was replaced): they committed, so answer them rather than wait.
        let expired: Vec<TxKey> = self
            .held
            .iter()
            .filter(|(_, calls)| calls.iter().all(|c| c.since.elapsed() > align_timeout))
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            for held in self.held.remove(&key).unwrap_or_default() {
                let _ = held.reply.send(Ok(held.outcome));
            }
        }
    }

    // --- requests ----------------------------------------------------------------------------------------

    fn subscribe(&mut self, queries: Vec<String>, reply: oneshot::Sender<Result<()>>) {
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            let _ = reply.send(Err(self.shared.closed_error()));
            return;
        }
        let query_id = {
            let mut subs = self.shared.subscriptions.lock().unwrap();
            subs.next_query_id += 1;
            let query_id = subs.next_query_id;
            subs.sets.insert(query_id, QuerySet { queries: queries.clone(), waiters: vec![reply] });
            query_id
        };
        let sent_on_active = {
            let mut links = self.shared.links.lock().unwrap();
            let active = links.active;
            match active.and_then(|id| links.all.get_mut(&id)) {
                Some(link) => link.subscribe(query_id, &queries).is_ok(),
                None => false,
            }
        };
        // A link being prepared must end up with every set: start its preparation over (rare: a
        // subscription added during a reconnect or a token refresh).
        if let Some(p) = self.preparing.take() {
            self.close_link(p.link, "restarting the preparation with a new subscription");
            self.shared.links.lock().unwrap().all.remove(&p.link);
            if sent_on_active {
                self.refresh_at = Some(Instant::now() + Duration::from_secs(1));
            } else {
                self.start_open(Purpose::Reconnect);
            }
        }
        // Without any link the set waits for the reconnect, which subscribes every recorded set.
    }

    fn fail_subscription_waiters(&self, make: impl Fn() -> GatewayError) {
        let mut subs = self.shared.subscriptions.lock().unwrap();
        for set in subs.sets.values_mut() {
            for waiter in set.waiters.drain(..) {
                let _ = waiter.send(Err(make()));
            }
        }
    }

    fn shutdown(&mut self) {
        self.shared.closing.store(true, std::sync::atomic::Ordering::Release);
        let closed = || self.shared.closed_error();
        {
            let mut links = self.shared.links.lock().unwrap();
            links.active = None;
            for (_, mut link) in links.all.drain() {
                link.calls.fail_all(|| Err(self.shared.closed_in_flight_error()));
                link.close("gateway closed");
            }
        }
        // Committed calls held for read-your-writes did commit: say so.
        for (_, calls) in self.held.drain() {
            for held in calls {
                let _ = held.reply.send(Ok(held.outcome));
            }
        }
        self.fail_subscription_waiters(closed);
        self.shared.set_state(Status::Closed, Some("closed".into()), 0);
        self.shared.sinks.write().unwrap().clear();
        self.shared.state_sinks.write().unwrap().clear();
        self.shared.call_settled.notify_waiters();
    }
}
