//! The relay: the event log, the streams, and the fan-out between them.
//!
//! It is a [`ChangeSink`] of the session: every row change becomes one numbered [`Event`] in the log and
//! is offered to the streams that may see it (found through an index of streams by tenant, so the cost
//! is per receiving stream, not per stream). The consumer side (JS) is told that output is ready through
//! one coalesced [`Wake`] per batch, and takes the output of every ready stream in one call
//! ([`Relay::take`]): JS is entered a bounded number of times per batch, not once per client per event.
//!
//! Snapshots are owed, then started when the stream's turn comes (see [`super::admission`]), sharing
//! their rows frames with other streams of the same view (see [`super::shared`]).
//!
//! Lock order: the projection (read or write) before the relay's state, never the other way round.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::admission::SnapshotLimits;
use super::ids::{event_k, read_id, resume_point, ResumePoint, ResyncReason};
use super::ids::{snapshot_complete_k, Epoch};
use super::revocations::{sid_sha256, RevocationOptions, Revocations};
use super::selection::{Selection, SelectionRequest};
use super::shared::SnapshotCounters;
use super::snapshot::collect_rows;
use super::source::ProjectionSource;
use super::state::State;
use super::stream::{prefix_of, Offered, Principal, QueueLimits, Stream, StreamSettings};
use super::tables::{RelayTable, RelayTables, TenantColumns, TenantScope};
use super::take::{self, TakeBuffer};
use super::transactions::log_transaction;
use super::watch;
use crate::codec::schema::Schema;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::Row;
use crate::projection::{ChangeSink, Transaction};

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
    pub snapshots: SnapshotLimits,
    /// A table of revoke requests every replica applies (see [`super::revocations`]).
    pub revocations: Option<RevocationOptions>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            tenant_columns: TenantColumns::default(),
            shared_tables: Vec::new(),
            log_capacity: 10_000,
            defaults: StreamDefaults::default(),
            snapshots: SnapshotLimits::default(),
            revocations: None,
        }
    }
}

/// Which streams `revoke` and `narrow` apply to: every field given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub stream_id: Option<u32>,
    pub sub: Option<String>,
    pub sid: Option<String>,
    /// The lowercase hex SHA-256 of a session id (revocation rows: [`super::revocations`]).
    pub sid_sha256: Option<String>,
    /// A tenant as [`super::selection::Tenant::key`].
    pub tenant: Option<String>,
}

impl Selector {
    fn is_empty(&self) -> bool {
        self == &Selector::default()
    }

    pub(super) fn matches(&self, stream: &Stream) -> bool {
        let principal = &stream.settings.principal;
        self.stream_id.is_none_or(|id| id == stream.id)
            && self.sub.as_ref().is_none_or(|sub| principal.sub.as_ref() == Some(sub))
            && self.sid.as_ref().is_none_or(|sid| principal.sid.as_ref() == Some(sid))
            && self
                .sid_sha256
                .as_ref()
                .is_none_or(|digest| principal.sid.as_deref().map(sid_sha256).as_ref() == Some(digest))
            && self.tenant.as_ref().is_none_or(|key| stream.selection().tenant().is_some_and(|t| &t.key == key))
    }
}

/// The output of one [`Relay::take`]: the bytes of every stream that had some, laid out as
/// [`super::take`] defines (the buffer `lib/stream.js` reads).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output(pub Vec<u8>);

impl Output {
    /// Each stream's part, in order, and whether some stream has more (take again soon, after letting
    /// the sockets drain).
    pub fn read(&self) -> (Vec<take::Entry<'_>>, bool) {
        take::read(&self.0)
    }
}

/// Counters of a relay (`relayStats()`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    pub streams: usize,
    /// Snapshots being sent, and streams waiting for their turn to start one.
    pub snapshots_in_progress: usize,
    pub snapshots_waiting: usize,
    /// Rows frames encoded, and handed out again from another stream's encoding.
    pub snapshot_frames_encoded: u64,
    pub snapshot_bytes_encoded: u64,
    pub snapshot_frames_shared: u64,
    pub snapshot_bytes_shared: u64,
}

/// What `read` returns: the rows of a view and the id after which its stream continues.
pub struct ViewRows {
    pub tables: Vec<(Arc<RelayTable>, Vec<Row>)>,
    pub selection: Selection,
    pub last_event_id: String,
}

pub struct Relay {
    epoch: Epoch,
    tables: RelayTables,
    revocations: Option<Revocations>,
    defaults: StreamDefaults,
    limits: SnapshotLimits,
    source: Arc<dyn ProjectionSource>,
    counters: Arc<SnapshotCounters>,
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
        let revocations = config.revocations.as_ref().map(|r| Revocations::resolve(&tables, r)).transpose()?;
        Ok(Relay {
            epoch: Epoch::random(),
            tables,
            revocations,
            defaults: config.defaults,
            limits: config.snapshots,
            source,
            counters: Arc::default(),
            state: Mutex::new(State::new(config.log_capacity)),
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

    /// Opens a stream, paused until its consumer calls [`Relay::resume`]. Its first output is a snapshot
    /// of what it may see (started when its turn comes), or, for a `last_event_id` still covered by the
    /// log, the events after it; any other `last_event_id` gives `resync` and a fresh snapshot.
    pub fn open(
        &self,
        request: &SelectionRequest,
        settings: StreamSettings,
        last_event_id: Option<&str>,
    ) -> Result<u32> {
        let selection = Selection::new(&self.tables, request)?;
        let watches = watch::parse(&self.tables, request.revoke_on)?;
        let mut st = self.state.lock().unwrap();
        if st.closed {
            return Err(self.closed_error());
        }
        let id = st.next_id;
        st.next_id += 1;
        let mut stream = Stream::new(id, selection, settings, &self.epoch, Instant::now());
        let resume = last_event_id.map(|text| match read_id(text, &self.epoch) {
            None => ResumePoint::Resync(ResyncReason::UnknownEventId),
            Some((position, fingerprint)) => {
                let local_k = st.local_k(position);
                // Positions up to the head were really issued: the stream continues above them.
                if let Some(&k) = local_k.as_ref().ok().filter(|k| **k / 3 <= st.log.head()) {
                    stream.last_k = k;
                }
                resume_point(fingerprint, stream.prefix(), local_k)
            }
        });
        // In a block: the replay iterator borrows the log until it is dropped.
        let owed = {
            let replay = match resume {
                None => Err(None),
                Some(ResumePoint::Resync(reason)) => Err(Some(reason)),
                Some(ResumePoint::After(n)) => st.log.after(n).map_err(Some),
            };
            match replay {
                Ok(events) => {
                    for event in events.flatten() {
                        if let Some(view) = stream.selection().view(event) {
                            let frame = event.frame(view, &stream.voice());
                            stream.offer(frame, event_k(event.seq));
                        }
                    }
                    None
                }
                Err(reason) => Some(reason),
            }
        };
        // A replay that overflowed the queue left the stream owed a snapshot (`slow_client`) too.
        let overflowed = stream.owes_snapshot();
        st.insert(stream);
        if !watches.is_empty() {
            st.watches.insert(id, watches);
        }
        match owed {
            Some(reason) => st.owe(id, reason),
            None if overflowed => st.enqueue(id),
            None => {}
        }
        Ok(id)
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
        st.resumed(id);
        if st.mark_ready(id) | st.admission_possible(&self.limits) {
            drop(st);
            self.wake();
        }
    }

    /// Forgets stream `id` (its client went away). Returns whether it existed.
    pub fn close_stream(&self, id: u32) -> bool {
        let mut st = self.state.lock().unwrap();
        let existed = st.remove(id).is_some();
        // Its snapshot's slot is free: a waiting stream of its principal may start.
        if st.admission_possible(&self.limits) {
            drop(st);
            self.wake();
        }
        existed
    }

    /// Ends the matching streams with a `revoked` frame (their backlog is dropped: the client may no
    /// longer see it). Returns how many streams were revoked.
    pub fn revoke(&self, selector: &Selector, reason: &str) -> Result<usize> {
        if selector.is_empty() {
            return Err(GatewayError::invalid_argument(
                "revoke needs a selector: { sub }, { sid }, { tenantId } or { streamId }",
            ));
        }
        let revoked = self.state.lock().unwrap().revoke_matching(selector, reason);
        if revoked > 0 {
            self.wake();
        }
        Ok(revoked)
    }

    /// Restricts the matching streams without disconnecting them: each drops its backlog and is owed a
    /// snapshot of what it may still see, after `resync` (`narrowed`). Every stream's new selection is
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
                st.streams.get_mut(&id).expect("matching streams exist").set_selection(selection, &self.epoch);
                st.owe(id, Some(ResyncReason::Narrowed));
            }
            st.admit(projection, &self.tables, &self.limits, &self.counters);
            result = Ok(ids.len());
        });
        if result.as_ref().is_ok_and(|&n| n > 0) {
            self.wake();
        }
        result
    }

    /// The rows `request` selects now and the id a stream of the same selection resumes after: the
    /// events after this read, no snapshot. Rows and position are read under the projection's read lock,
    /// so no change is both in the rows and after the id, or in neither.
    pub fn read(&self, request: &SelectionRequest, principal: &Principal) -> Result<ViewRows> {
        let selection = Selection::new(&self.tables, request)?;
        let mut read = Err(self.closed_error());
        self.source.read(&mut |projection| {
            let st = self.state.lock().unwrap();
            if !st.closed {
                let head = st.log.head();
                read = Ok((head, st.positions.anchor_of(head), collect_rows(projection, &self.tables, &selection)));
            }
        });
        let (position, anchor, tables) = read?;
        let last_event_id = prefix_of(&self.epoch, &selection, principal).id_at(snapshot_complete_k(position), anchor);
        Ok(ViewRows { tables, selection, last_event_id })
    }

    /// Takes the output of every ready stream (see [`Output`]).
    pub fn take(&self) -> Output {
        self.take_with(&[], &[])
    }

    /// Applies the consumers' pauses and resumes collected since the last take (under one lock, instead of
    /// one call and one lock per socket event), starts the snapshots whose turn it is, then takes the
    /// output of every ready stream: snapshot frames within the take's snapshot budget, live frames all.
    pub fn take_with(&self, pauses: &[u32], resumes: &[u32]) -> Output {
        self.wake_pending.store(false, Ordering::Release);
        let mut st = self.state.lock().unwrap();
        for id in pauses {
            if let Some(stream) = st.streams.get_mut(id) {
                stream.paused = true;
            }
        }
        for &id in resumes {
            if let Some(stream) = st.streams.get_mut(&id) {
                stream.paused = false;
                st.resumed(id);
                st.mark_ready(id);
            }
        }
        if st.admission_possible(&self.limits) {
            drop(st);
            self.source.read(&mut |projection| {
                self.state.lock().unwrap().admit(projection, &self.tables, &self.limits, &self.counters)
            });
            st = self.state.lock().unwrap();
        }
        let now = Instant::now();
        st.shared.sweep(now);
        let mut out = TakeBuffer::default();
        let mut snapshot_budget = self.limits.bytes_per_take;
        let rounds = st.ready.len();
        for _ in 0..rounds {
            if out.data_len() >= TAKE_TOTAL {
                break;
            }
            let Some(id) = st.ready.pop_front() else { break };
            let Some(stream) = st.streams.get_mut(&id) else { continue };
            stream.listed = false;
            if !stream.wants_take() {
                continue;
            }
            let start = out.data_len();
            let finished = stream.take(out.data(), TAKE_PER_STREAM, &mut snapshot_budget, now);
            let len = (out.data_len() - start) as u32;
            if len > 0 || finished {
                out.entry(id, len, finished);
            }
            if finished {
                st.remove(id);
            } else {
                // At the back: streams whose snapshot waits for the next take's budget keep their order.
                st.mark_ready(id);
            }
        }
        // Snapshots that ended free their slots: waiting streams start on the next take.
        let more = !st.ready.is_empty() || st.admission_possible(&self.limits);
        Output(out.finish(more))
    }

    /// Queues a heartbeat for every stream idle longer than its heartbeat interval (and lets go of shared
    /// snapshots no stream holds, also when no take happens).
    pub fn heartbeat(&self, now: Instant) {
        let mut st = self.state.lock().unwrap();
        st.shared.sweep(now);
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
            let last = farewell.map(|(reason, retry_ms)| stream.farewell(reason, retry_ms));
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

    /// Counters of streams and snapshot work.
    pub fn stats(&self) -> RelayStats {
        let st = self.state.lock().unwrap();
        let counter = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        RelayStats {
            streams: st.streams.len(),
            snapshots_in_progress: st.slots.in_progress(),
            snapshots_waiting: st.waiting_count(),
            snapshot_frames_encoded: counter(&self.counters.frames_encoded),
            snapshot_bytes_encoded: counter(&self.counters.bytes_encoded),
            snapshot_frames_shared: counter(&self.counters.frames_shared),
            snapshot_bytes_shared: counter(&self.counters.bytes_shared),
        }
    }

    /// Snapshots in progress of principal `sub` (diagnostics and tests).
    pub fn snapshots_in_progress_of(&self, sub: &str) -> usize {
        self.state.lock().unwrap().slots.in_progress_of(sub)
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
    fn on_gap(&self) {
        self.state.lock().unwrap().positions.forget();
    }

    fn on_transaction(&self, tx: &Transaction) {
        if tx.tables.is_empty() && tx.events.is_empty() {
            return;
        }
        let mut st = self.state.lock().unwrap();
        if st.closed {
            return;
        }
        let events = log_transaction(&self.tables, &mut st, tx);
        // Authorization first: a stream revoked, or whose authorization rows changed, by this transaction
        // gets none of it.
        let mut woke = false;
        for (selector, reason) in self.revocations.iter().flat_map(|r| r.requests(&events)) {
            woke |= st.revoke_matching(&selector, &reason) > 0;
        }
        woke |= st.fire_watches(&events);
        for event in events {
            for id in st.candidates(&event) {
                let stream = st.streams.get_mut(&id).expect("candidates are open streams");
                let Some(view) = stream.selection().view(&event) else { continue };
                let frame = event.frame(view, &stream.voice());
                let offered = stream.offer(frame, event_k(event.seq));
                if offered == Offered::Overflowed && stream.owes_snapshot() {
                    st.enqueue(id);
                }
                if offered != Offered::Ignored {
                    woke |= st.mark_ready(id);
                }
            }
        }
        woke |= st.admission_possible(&self.limits);
        drop(st);
        if woke {
            self.wake();
        }
    }
}
