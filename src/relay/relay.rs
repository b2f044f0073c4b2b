//! The relay: the event log, the streams, and the fan-out between them.
//!
//! It is a [`ChangeSink`] of the session: every row change becomes one numbered [`Event`] in the log and
//! is offered to the streams that may see it (found through an index of streams by tenant, so the cost
//! is per receiving stream, not per stream). The consumer side (JS) is told that output is ready through
//! one coalesced [`Wake`] per batch, and takes the output of every ready stream in one call
//! ([`Relay::take`]): JS is entered a bounded number of times per batch, not once per client per event.
//!
//! Lock order: the projection (read or write) before the relay's state, never the other way round.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Map, Value};

use super::event::Event;
use super::frame::retry_frame;
use super::ids::{event_k, id_k, parse_last_event_id, snapshot_started_k, Epoch, ResumePoint, ResyncReason};
use super::log::EventLog;
use super::selection::{Selection, SelectionRequest};
use super::snapshot::Snapshot;
use super::source::ProjectionSource;
use super::stream::{Offered, QueueLimits, Stream, StreamSettings};
use super::tables::{RelayTables, TenantColumns, TenantScope};
use crate::client::schema::Schema;
use crate::client::session::{ChangeSink, Transaction};
use crate::error::{ErrorCode, GatewayError, Result};

/// Output taken per stream per [`Relay::take`], about (fairness between streams).
const TAKE_PER_STREAM: usize = 256 * 1024;
/// Output taken per [`Relay::take`] in total, about.
const TAKE_TOTAL: usize = 4 << 20;

/// Tells the consumer that output is ready. Called at most once until the next [`Relay::take`].
pub trait Wake: Send + Sync {
    fn wake(&self);
}

/// Defaults of every stream, overridable per stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamDefaults {
    pub limits: QueueLimits,
    pub heartbeat: Duration,
    pub retry_ms: u32,
}

impl Default for StreamDefaults {
    fn default() -> Self {
        StreamDefaults { limits: QueueLimits::default(), heartbeat: Duration::from_secs(15), retry_ms: 2000 }
    }
}

/// The relay options of `Gateway.connect`.
#[derive(Clone, Debug, PartialEq)]
pub struct RelayConfig {
    pub tenant_columns: TenantColumns,
    pub shared_tables: Vec<String>,
    /// How many events the log keeps for resuming.
    pub log_capacity: usize,
    pub defaults: StreamDefaults,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            tenant_columns: TenantColumns::default(),
            shared_tables: Vec::new(),
            log_capacity: 10_000,
            defaults: StreamDefaults::default(),
        }
    }
}

/// Which streams `revoke` and `narrow` apply to: every field given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub stream_id: Option<u32>,
    pub sub: Option<String>,
    pub sid: Option<String>,
    /// A tenant as [`super::selection::Tenant::key`].
    pub tenant: Option<String>,
}

impl Selector {
    fn is_empty(&self) -> bool {
        self.stream_id.is_none() && self.sub.is_none() && self.sid.is_none() && self.tenant.is_none()
    }

    fn matches(&self, stream: &Stream) -> bool {
        let principal = &stream.settings.principal;
        self.stream_id.is_none_or(|id| id == stream.id)
            && self.sub.as_ref().is_none_or(|sub| principal.sub.as_ref() == Some(sub))
            && self.sid.as_ref().is_none_or(|sid| principal.sid.as_ref() == Some(sid))
            && self.tenant.as_ref().is_none_or(|key| stream.selection().tenant().is_some_and(|t| &t.key == key))
    }
}

/// The output of one [`Relay::take`]: the bytes of every stream that had some, concatenated.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub data: Vec<u8>,
    /// Triples `(stream id, byte length, flags)` in `data` order; flag [`Output::ENDED`]: the stream ended.
    pub index: Vec<u32>,
    /// Some stream has more output: take again soon (after letting the sockets drain).
    pub more: bool,
}

impl Output {
    pub const ENDED: u32 = 1;
}

struct State {
    /// `None` entries are barriers (see [`State::snapshot_position`]).
    log: EventLog<Option<Arc<Event>>>,
    streams: HashMap<u32, Stream>,
    /// Tenant streams by each encoding of their tenant (see [`Selection::tenant_encodings`]).
    by_tenant: HashMap<Box<[u8]>, Vec<u32>>,
    all_tenants: Vec<u32>,
    /// Streams with output to take, in order; entries of streams closed since are skipped.
    ready: VecDeque<u32>,
    next_id: u32,
    closed: bool,
}

impl State {
    /// The position for a new snapshot of a stream whose client may have seen position `last_k`: the
    /// head, unless the client already has an id of a snapshot at the head; then a barrier (an event no
    /// stream receives) is logged first, so the new snapshot's ids are above every id it saw.
    fn snapshot_position(&mut self, last_k: u64) -> u64 {
        if snapshot_started_k(self.log.head()) <= last_k {
            self.log.push(None);
        }
        self.log.head()
    }

    /// Lists a stream as ready if it wants a take; returns whether it was newly listed.
    fn mark_ready(&mut self, id: u32) -> bool {
        match self.streams.get_mut(&id) {
            Some(stream) if !stream.listed && stream.wants_take() => {
                stream.listed = true;
                self.ready.push_back(id);
                true
            }
            _ => false,
        }
    }

    fn insert(&mut self, stream: Stream) {
        let id = stream.id;
        if stream.selection().tenant().is_none() {
            self.all_tenants.push(id);
        } else {
            for key in stream.selection().tenant_encodings() {
                self.by_tenant.entry(key).or_default().push(id);
            }
        }
        self.streams.insert(id, stream);
    }

    fn remove(&mut self, id: u32) -> Option<Stream> {
        let stream = self.streams.remove(&id)?;
        self.all_tenants.retain(|&s| s != id);
        for key in stream.selection().tenant_encodings() {
            if let Some(ids) = self.by_tenant.get_mut(&key) {
                ids.retain(|&s| s != id);
                if ids.is_empty() {
                    self.by_tenant.remove(&key);
                }
            }
        }
        Some(stream)
    }

    /// The streams that may see `event`: a superset, each is checked with [`Selection::view`].
    fn candidates(&self, event: &Event) -> Vec<u32> {
        match event.table.scope {
            TenantScope::Column(_) => {
                let mut ids = self.all_tenants.clone();
                let [old, new] = event.tenants();
                let mut lists = 0;
                for tenant in [old, if new == old { None } else { new }].into_iter().flatten() {
                    if let Some(streams) = self.by_tenant.get(tenant) {
                        ids.extend_from_slice(streams);
                        lists += 1;
                    }
                }
                if lists > 1 {
                    ids.sort_unstable();
                    ids.dedup();
                }
                ids
            }
            TenantScope::Shared => self.streams.keys().copied().collect(),
            TenantScope::Unscoped => self.all_tenants.clone(),
        }
    }

    fn matching(&self, selector: &Selector) -> Vec<u32> {
        let mut ids: Vec<u32> = match selector.stream_id {
            Some(id) => self.streams.get(&id).map(|s| s.id).into_iter().collect(),
            None => self.streams.keys().copied().collect(),
        };
        ids.retain(|id| self.streams.get(id).is_some_and(|s| !s.is_ending() && selector.matches(s)));
        ids.sort_unstable();
        ids
    }
}

pub struct Relay {
    epoch: Epoch,
    tables: RelayTables,
    defaults: StreamDefaults,
    source: Arc<dyn ProjectionSource>,
    state: Mutex<State>,
    waker: Mutex<Option<Arc<dyn Wake>>>,
    /// A wake was sent and no take has happened since: further wakes are redundant.
    wake_pending: AtomicBool,
}

impl Relay {
    /// A relay over `source`'s projection. Indexes the projection by every tenant column. The caller
    /// registers it as a change sink of the same projection.
    pub fn new(schema: &Schema, config: RelayConfig, source: Arc<dyn ProjectionSource>) -> Result<Relay> {
        let tables = RelayTables::new(schema, &config.tenant_columns, &config.shared_tables)?;
        let mut indexed = Ok(());
        source.read(&mut |projection| {
            for table in tables.all() {
                if let (TenantScope::Column(c), Some(rows)) = (table.scope, projection.table(table.name())) {
                    if let Err(e) = rows.index_column(c) {
                        indexed = Err(e);
                    }
                }
            }
        });
        indexed?;
        Ok(Relay {
            epoch: Epoch::random(),
            tables,
            defaults: config.defaults,
            source,
            state: Mutex::new(State {
                log: EventLog::new(config.log_capacity),
                streams: HashMap::new(),
                by_tenant: HashMap::new(),
                all_tenants: Vec::new(),
                ready: VecDeque::new(),
                next_id: 1,
                closed: false,
            }),
            waker: Mutex::new(None),
            wake_pending: AtomicBool::new(false),
        })
    }

    /// Replaces the epoch (tests that need stable ids).
    pub fn with_epoch(mut self, epoch: Epoch) -> Relay {
        self.epoch = epoch;
        self
    }

    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    pub fn tables(&self) -> &RelayTables {
        &self.tables
    }

    pub fn defaults(&self) -> &StreamDefaults {
        &self.defaults
    }

    /// Installs (or removes) the consumer's waker, and wakes it if output is already waiting.
    pub fn set_waker(&self, waker: Option<Arc<dyn Wake>>) {
        *self.waker.lock().unwrap() = waker;
        self.wake_pending.store(false, Ordering::Release);
        if !self.state.lock().unwrap().ready.is_empty() {
            self.wake();
        }
    }

    fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            let waker = self.waker.lock().unwrap().clone();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Opens a stream, paused until its consumer calls [`Relay::resume`]. Its first output is the
    /// snapshot of what it may see now, or, for a `last_event_id` still covered by the log, the events
    /// after it; any other `last_event_id` gives `resync` and a fresh snapshot.
    pub fn open(
        &self,
        request: &SelectionRequest,
        settings: StreamSettings,
        last_event_id: Option<&str>,
    ) -> Result<u32> {
        let selection = Selection::new(&self.tables, request)?;
        let now = Instant::now();
        let mut opened = Err(self.closed_error());
        self.source.read(&mut |projection| {
            let mut st = self.state.lock().unwrap();
            if st.closed {
                return;
            }
            let id = st.next_id;
            st.next_id += 1;
            let mut stream = Stream::new(id, selection.clone(), settings.clone(), &self.epoch, now);
            let resume = last_event_id.map(|text| parse_last_event_id(text, stream.prefix(), &self.epoch));
            let head = st.log.head();
            // Ids of this epoch up to the head were really issued: the stream continues above them.
            if let Some(k) = last_event_id.and_then(|text| id_k(text, &self.epoch)).filter(|k| k / 3 <= head) {
                stream.last_k = k;
            }
            // In a block: the replay iterator borrows the log until it is dropped.
            let snapshot_reason = {
                let replay = match resume {
                    None => Err(None),
                    Some(ResumePoint::Resync(reason)) => Err(Some(reason)),
                    Some(ResumePoint::After(n)) => st.log.after(n).map_err(Some),
                };
                match replay {
                    Ok(events) => {
                        for event in events.flatten() {
                            if let Some(view) = stream.selection().view(event) {
                                let frame = event.frame(view, stream.settings.schema_version, stream.prefix());
                                stream.offer(frame, event_k(event.seq));
                            }
                        }
                        None
                    }
                    Err(reason) => Some(reason),
                }
            };
            if let Some(reason) = snapshot_reason {
                let position = st.snapshot_position(stream.last_k);
                stream.restart(Snapshot::collect(projection, &self.tables, stream.selection(), position, reason));
            }
            st.insert(stream);
            opened = Ok(id);
        });
        opened
    }

    /// The consumer cannot take output of stream `id` now; its queue keeps filling within its limits.
    pub fn pause(&self, id: u32) {
        if let Some(stream) = self.state.lock().unwrap().streams.get_mut(&id) {
            stream.paused = true;
        }
    }

    /// The consumer can take output of stream `id` again.
    pub fn resume(&self, id: u32) {
        let mut st = self.state.lock().unwrap();
        let Some(stream) = st.streams.get_mut(&id) else { return };
        stream.paused = false;
        if st.mark_ready(id) {
            drop(st);
            self.wake();
        }
    }

    /// Forgets stream `id` (its client went away). Returns whether it existed.
    pub fn close_stream(&self, id: u32) -> bool {
        self.state.lock().unwrap().remove(id).is_some()
    }

    /// Ends the matching streams with a `revoked` frame (their backlog is dropped: the client may no
    /// longer see it). Returns how many streams were revoked.
    pub fn revoke(&self, selector: &Selector, reason: &str) -> Result<usize> {
        if selector.is_empty() {
            return Err(GatewayError::invalid_argument(
                "revoke needs a selector: { sub }, { sid }, { tenantId } or { streamId }",
            ));
        }
        let mut st = self.state.lock().unwrap();
        let ids = st.matching(selector);
        for &id in &ids {
            let stream = st.streams.get_mut(&id).expect("matching streams exist");
            let frame = stream.voice().reason("revoked", None, reason);
            stream.end_with(Some(frame));
            st.mark_ready(id);
        }
        drop(st);
        if !ids.is_empty() {
            self.wake();
        }
        Ok(ids.len())
    }

    /// Restricts the matching streams without disconnecting them: each drops its backlog and gets
    /// `resync` (`narrowed`) with a snapshot of what it may still see. Every stream's new selection is
    /// validated before any changes; a selection that would widen is `INVALID_ARGUMENT`.
    pub fn narrow(
        &self,
        selector: &Selector,
        tables: Option<&[String]>,
        where_: Option<&Map<String, Value>>,
    ) -> Result<usize> {
        if selector.is_empty() {
            return Err(GatewayError::invalid_argument(
                "narrow needs a selector: { sub }, { sid }, { tenantId } or { streamId }",
            ));
        }
        let mut result = Ok(0);
        self.source.read(&mut |projection| {
            let mut st = self.state.lock().unwrap();
            let ids = st.matching(selector);
            let narrowed: Result<Vec<Selection>> =
                ids.iter().map(|id| st.streams[id].selection().narrowed(&self.tables, tables, where_)).collect();
            let narrowed = match narrowed {
                Ok(n) => n,
                Err(e) => return result = Err(e),
            };
            for (&id, selection) in ids.iter().zip(narrowed) {
                let last_k = st.streams[&id].last_k;
                let position = st.snapshot_position(last_k);
                let snapshot =
                    Snapshot::collect(projection, &self.tables, &selection, position, Some(ResyncReason::Narrowed));
                let stream = st.streams.get_mut(&id).expect("matching streams exist");
                stream.set_selection(selection, &self.epoch);
                stream.restart(snapshot);
                st.mark_ready(id);
            }
            result = Ok(ids.len());
        });
        if result.as_ref().is_ok_and(|&n| n > 0) {
            self.wake();
        }
        result
    }

    /// Takes the output of every ready stream (see [`Output`]).
    pub fn take(&self) -> Output {
        self.take_with(&[], &[])
    }

    /// Applies the consumers' pauses and resumes collected since the last take (under one lock, instead of
    /// one call and one lock per socket event), then takes the output of every ready stream.
    pub fn take_with(&self, pauses: &[u32], resumes: &[u32]) -> Output {
        self.wake_pending.store(false, Ordering::Release);
        if !pauses.is_empty() || !resumes.is_empty() {
            let mut st = self.state.lock().unwrap();
            for id in pauses {
                if let Some(stream) = st.streams.get_mut(id) {
                    stream.paused = true;
                }
            }
            for &id in resumes {
                if let Some(stream) = st.streams.get_mut(&id) {
                    stream.paused = false;
                    st.mark_ready(id);
                }
            }
        }
        self.restart_resyncs();
        let now = Instant::now();
        let mut out = Output::default();
        let mut st = self.state.lock().unwrap();
        let rounds = st.ready.len();
        for _ in 0..rounds {
            if out.data.len() >= TAKE_TOTAL {
                break;
            }
            let Some(id) = st.ready.pop_front() else { break };
            let Some(stream) = st.streams.get_mut(&id) else { continue };
            stream.listed = false;
            if !stream.wants_take() {
                continue;
            }
            if stream.resync_pending().is_some() && !stream.is_ending() {
                // Became due after the restart pass: the next take snapshots it.
                st.mark_ready(id);
                continue;
            }
            let start = out.data.len();
            let finished = stream.take(&mut out.data, TAKE_PER_STREAM, now);
            let len = (out.data.len() - start) as u32;
            if len > 0 || finished {
                out.index.extend_from_slice(&[id, len, if finished { Output::ENDED } else { 0 }]);
            }
            if finished {
                st.remove(id);
            } else {
                st.mark_ready(id);
            }
        }
        out.more = !st.ready.is_empty();
        out
    }

    /// Gives every ready stream that awaits a resync its fresh snapshot at the current position.
    fn restart_resyncs(&self) {
        let due = |st: &State| {
            st.ready.iter().any(|id| {
                st.streams.get(id).is_some_and(|s| s.resync_pending().is_some() && !s.paused && !s.is_ending())
            })
        };
        if !due(&self.state.lock().unwrap()) {
            return;
        }
        self.source.read(&mut |projection| {
            let mut st = self.state.lock().unwrap();
            let ids: Vec<u32> = st.ready.iter().copied().collect();
            for id in ids {
                let Some(stream) = st.streams.get(&id) else { continue };
                let (Some(reason), false, false) = (stream.resync_pending(), stream.paused, stream.is_ending()) else {
                    continue;
                };
                let last_k = stream.last_k;
                let position = st.snapshot_position(last_k);
                let stream = st.streams.get_mut(&id).expect("checked above");
                let snapshot = Snapshot::collect(projection, &self.tables, stream.selection(), position, Some(reason));
                stream.restart(snapshot);
            }
        });
    }

    /// Queues a heartbeat for every stream idle longer than its heartbeat interval.
    pub fn heartbeat(&self, now: Instant) {
        let mut st = self.state.lock().unwrap();
        let due: Vec<u32> = st.streams.values().filter(|s| s.heartbeat_due(now)).map(|s| s.id).collect();
        for &id in &due {
            st.streams.get_mut(&id).expect("due streams exist").queue_heartbeat();
            st.mark_ready(id);
        }
        drop(st);
        if !due.is_empty() {
            self.wake();
        }
    }

    /// Ends every stream (their consumers see them end on the next take) and refuses new ones.
    pub fn close(&self) {
        self.close_with(None);
    }

    /// Like [`Relay::close`], but every stream's last output is `retry: <retry_ms>` and a `closed` frame
    /// with `reason` (e.g. `shutdown`): what is still queued is dropped, and the browser's `EventSource`
    /// reconnects after `retry_ms` with its `Last-Event-ID` — to a replica that is still up.
    pub fn close_with_farewell(&self, reason: &str, retry_ms: u32) {
        self.close_with(Some((reason, retry_ms)));
    }

    fn close_with(&self, farewell: Option<(&str, u32)>) {
        let mut st = self.state.lock().unwrap();
        st.closed = true;
        let ids: Vec<u32> = st.streams.keys().copied().collect();
        for id in ids {
            let stream = st.streams.get_mut(&id).expect("listed");
            let last = farewell.map(|(reason, retry_ms)| {
                // No id: the client's Last-Event-ID stays the last event it really received.
                let closed = stream.voice().reason("closed", None, reason);
                Bytes::from([&retry_frame(retry_ms)[..], &closed[..]].concat())
            });
            stream.end_with(last);
            st.mark_ready(id);
        }
        drop(st);
        self.wake();
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().unwrap().closed
    }

    /// How many streams are open.
    pub fn stream_count(&self) -> usize {
        self.state.lock().unwrap().streams.len()
    }

    /// The events and bytes queued for stream `id` (diagnostics and tests).
    pub fn queued(&self, id: u32) -> Option<(usize, usize)> {
        self.state.lock().unwrap().streams.get(&id).map(|s| s.queued())
    }

    /// The log position: the number of the newest event.
    pub fn head(&self) -> u64 {
        self.state.lock().unwrap().log.head()
    }

    fn closed_error(&self) -> GatewayError {
        GatewayError::new(ErrorCode::Closed, "the gateway is closed")
    }
}

impl ChangeSink for Relay {
    fn on_transaction(&self, tx: &Transaction) {
        let mut st = self.state.lock().unwrap();
        if st.closed {
            return;
        }
        let mut woke = false;
        for table_changes in &tx.tables {
            let Some(table) = self.tables.get(&table_changes.table.name) else { continue };
            for change in &table_changes.changes {
                let event = Arc::new(Event::new(st.log.next_seq(), table.clone(), change));
                st.log.push(Some(event.clone()));
                for id in st.candidates(&event) {
                    let stream = st.streams.get_mut(&id).expect("candidates are open streams");
                    let Some(view) = stream.selection().view(&event) else { continue };
                    let frame = event.frame(view, stream.settings.schema_version, stream.prefix());
                    if stream.offer(frame, event_k(event.seq)) != Offered::Ignored {
                        woke |= st.mark_ready(id);
                    }
                }
            }
        }
        drop(st);
        if woke {
            self.wake();
        }
    }
}
