//! The relay's state behind its lock: the event log, the streams and their indexes, the ready list, and
//! the streams waiting for their snapshot with the snapshots they may share.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::admission::{Slots, SnapshotLimits};
use super::event::Event;
use super::ids::{snapshot_started_k, IdPosition, ResyncReason};
use super::log::EventLog;
use super::positions::Positions;
use super::shared::{SharedSnapshots, SnapshotCounters, SnapshotRows};
use super::stream::Stream;
use super::tables::{RelayTables, TenantScope};
use super::watch::{self, Watch};
use super::Selector;
use crate::projection::Projection;

pub(super) struct State {
    /// `None` entries are barriers (see [`snapshot_position`]).
    pub log: EventLog<Option<Arc<Event>>>,
    /// The committed transactions of the log, by key (database ids).
    pub positions: Positions,
    pub streams: HashMap<u32, Stream>,
    /// Tenant streams by each encoding of their tenant (see [`super::selection::Selection::tenant_encodings`]).
    by_tenant: HashMap<Box<[u8]>, Vec<u32>>,
    all_tenants: Vec<u32>,
    /// Streams with output to take, in order; entries of streams closed since are skipped.
    pub ready: VecDeque<u32>,
    /// Streams owed a snapshot, in the order they asked; entries no longer owed are skipped.
    waiting: VecDeque<u32>,
    /// Some waiting stream may be able to start (one was queued or resumed): look at the next chance.
    admission_due: bool,
    pub slots: Slots,
    pub shared: SharedSnapshots,
    /// The `revokeOn` watches of open streams, by stream.
    pub watches: HashMap<u32, Vec<Watch>>,
    pub next_id: u32,
    pub closed: bool,
}

/// The position for a new snapshot of a stream whose client may have seen position `last_k`: the head,
/// unless the client already has an id of a snapshot at the head; then a barrier (an event no stream
/// receives) is logged first, so the new snapshot's ids are above every id it saw.
pub(super) fn snapshot_position(log: &mut EventLog<Option<Arc<Event>>>, last_k: u64) -> u64 {
    if snapshot_started_k(log.head()) <= last_k {
        log.push(None);
    }
    log.head()
}

impl State {
    /// The local position of an id's position: database ids through the keys of the log.
    pub fn local_k(&self, position: IdPosition) -> Result<u64, ResyncReason> {
        match position {
            IdPosition::Local(k) => Ok(k),
            IdPosition::Database { key, k } => {
                let (first, last) = self.positions.resolve(key)?;
                let n = first.checked_add(k / 3).filter(|&n| n <= last).ok_or(ResyncReason::UnknownEventId)?;
                Ok(3 * n + k % 3)
            }
        }
    }

    pub fn new(log_capacity: usize) -> State {
        State {
            log: EventLog::new(log_capacity),
            positions: Positions::default(),
            streams: HashMap::new(),
            by_tenant: HashMap::new(),
            all_tenants: Vec::new(),
            ready: VecDeque::new(),
            waiting: VecDeque::new(),
            admission_due: false,
            slots: Slots::default(),
            shared: SharedSnapshots::default(),
            watches: HashMap::new(),
            next_id: 1,
            closed: false,
        }
    }

    /// Lists a stream as ready if it wants a take; returns whether it was newly listed.
    pub fn mark_ready(&mut self, id: u32) -> bool {
        match self.streams.get_mut(&id) {
            Some(stream) if !stream.listed && stream.wants_take() => {
                stream.listed = true;
                self.ready.push_back(id);
                true
            }
            _ => false,
        }
    }

    pub fn insert(&mut self, stream: Stream) {
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

    pub fn remove(&mut self, id: u32) -> Option<Stream> {
        let stream = self.streams.remove(&id)?;
        self.watches.remove(&id);
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

    /// Ends every stream `selector` matches with a `revoked` frame; returns how many.
    pub fn revoke_matching(&mut self, selector: &Selector, reason: &str) -> usize {
        let ids = self.matching(selector);
        for &id in &ids {
            self.end_revoked(id, reason);
        }
        ids.len()
    }

    /// Ends stream `id` with a `revoked` frame (its backlog is dropped: the client may no longer see it).
    fn end_revoked(&mut self, id: u32, reason: &str) {
        let stream = self.streams.get_mut(&id).expect("revoked streams exist");
        let frame = stream.voice().reason("revoked", None, reason);
        stream.end_with(Some(frame));
        self.mark_ready(id);
    }

    /// Ends, before any change of `events` is offered, every stream whose `revokeOn` one of them fires,
    /// with a farewell its client reconnects after (to the selection the new authorization gives); returns
    /// whether any was ended.
    pub fn fire_watches(&mut self, events: &[Arc<Event>]) -> bool {
        if self.watches.is_empty() {
            return false;
        }
        let fired: Vec<u32> = self
            .watches
            .iter()
            .filter(|(_, watches)| watches.iter().any(|w| events.iter().any(|e| w.fires(e))))
            .map(|(&id, _)| id)
            .collect();
        for &id in &fired {
            if let Some(stream) = self.streams.get_mut(&id).filter(|s| !s.is_ending()) {
                let farewell = stream.farewell(watch::REASON, stream.settings.retry_ms);
                stream.end_with(Some(farewell));
                self.mark_ready(id);
            }
            self.watches.remove(&id);
        }
        !fired.is_empty()
    }

    /// The streams that may see `event`: a superset, each is checked with `Selection::view`.
    pub fn candidates(&self, event: &Event) -> Vec<u32> {
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

    pub fn matching(&self, selector: &Selector) -> Vec<u32> {
        let mut ids: Vec<u32> = match selector.stream_id {
            Some(id) => self.streams.get(&id).map(|s| s.id).into_iter().collect(),
            None => self.streams.keys().copied().collect(),
        };
        ids.retain(|id| self.streams.get(id).is_some_and(|s| !s.is_ending() && selector.matches(s)));
        ids.sort_unstable();
        ids
    }

    /// Owes stream `id` a fresh snapshot (dropping its backlog) and queues it for its turn.
    pub fn owe(&mut self, id: u32, reason: Option<ResyncReason>) {
        self.streams.get_mut(&id).expect("an open stream").owe(reason);
        self.enqueue(id);
    }

    /// Queues stream `id`, which is owed a snapshot, for its turn (once).
    pub fn enqueue(&mut self, id: u32) {
        let stream = self.streams.get_mut(&id).expect("an open stream");
        if !stream.waiting {
            stream.waiting = true;
            self.waiting.push_back(id);
        }
        self.admission_due = true;
    }

    /// The consumer of stream `id` reads again: a stream owed a snapshot may start it now.
    pub fn resumed(&mut self, id: u32) {
        if self.streams.get(&id).is_some_and(|s| s.owes_snapshot()) {
            self.admission_due = true;
        }
    }

    /// Whether some waiting stream can start its snapshot now. Only looks when something changed since it
    /// last found none (a stream was queued or resumed, a snapshot ended), so a long queue behind one
    /// principal's limit costs nothing per call.
    pub fn admission_possible(&mut self, limits: &SnapshotLimits) -> bool {
        self.admission_due |= self.slots.take_released();
        if self.admission_due {
            self.admission_due = self.waiting.iter().any(|id| {
                self.streams.get(id).is_some_and(|s| {
                    s.owes_snapshot()
                        && !s.paused
                        && self.slots.available(s.settings.principal.sub.as_deref(), limits.per_principal)
                })
            });
        }
        self.admission_due
    }

    /// Starts the snapshots of waiting streams whose consumers read, in the order they were owed, as far
    /// as their principals' limits allow: each joins the snapshot of its view if that still holds the
    /// view's rows, or reads a new one (call with the projection read-locked).
    pub fn admit(
        &mut self,
        projection: &Projection,
        tables: &RelayTables,
        limits: &SnapshotLimits,
        counters: &Arc<SnapshotCounters>,
    ) {
        self.admission_due = false;
        self.slots.take_released();
        for id in std::mem::take(&mut self.waiting) {
            let Some(stream) = self.streams.get_mut(&id) else { continue };
            if !stream.owes_snapshot() {
                stream.waiting = false;
                continue;
            }
            let sub = stream.settings.principal.sub.as_deref();
            let Some(slot) = (!stream.paused).then(|| self.slots.take(sub, limits.per_principal)).flatten() else {
                self.waiting.push_back(id);
                continue;
            };
            let (selection, version, last_k) = (stream.selection(), stream.settings.schema_version, stream.last_k);
            let rows = match self.shared.join(&self.log, (selection, version, stream.act_json()), last_k) {
                Some(rows) => rows,
                None => {
                    let position = snapshot_position(&mut self.log, last_k);
                    let view = (selection.clone(), version, stream.act_json());
                    let anchor = self.positions.anchor_of(position);
                    let rows = SnapshotRows::collect(projection, tables, view, position, anchor, counters.clone());
                    let rows = Arc::new(rows);
                    self.shared.insert(rows.clone());
                    rows
                }
            };
            stream.waiting = false;
            stream.start_snapshot(rows, slot);
            self.mark_ready(id);
        }
    }

    /// Streams owed a snapshot and waiting for their turn.
    pub fn waiting_count(&self) -> usize {
        self.waiting.iter().filter(|id| self.streams.get(id).is_some_and(|s| s.owes_snapshot())).count()
    }
}
