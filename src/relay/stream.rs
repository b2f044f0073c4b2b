//! One SSE stream inside the relay: its selection, its bounded queue, its snapshot in progress, and the
//! state of its consumer (paused, ending).
//!
//! Output order: the `retry:` hint (once), then the snapshot frames (if a snapshot is in progress), then
//! queued live frames. Live frames queued while a snapshot is in progress are the events after the
//! snapshot's position, so nothing is lost or repeated at the seam. A stream *owed* a snapshot (new,
//! resynced or narrowed, waiting for its turn: see [`super::admission`]) queues no live frames: its
//! snapshot, read when its turn comes, will reflect them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::admission::Slot;
use super::frame::{retry_frame, HEARTBEAT};
use super::ids::{snapshot_complete_k, Epoch, IdPrefix, ResyncReason};
use super::selection::Selection;
use super::shared::SnapshotRows;
use super::snapshot::{Snapshot, Voice};
use crate::codec::value::write_json_string;

/// What to do when a stream's queue overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Drop the backlog; when the client is ready again send `resync` and a fresh snapshot.
    Resync,
    /// Drop the backlog, send a `closed` frame (`reason: "slow_client"`) and end the stream.
    Close,
}

/// How much a stream may hold for a client that does not keep up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub overflow: OverflowPolicy,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits { max_events: 1000, max_bytes: 1 << 20, overflow: OverflowPolicy::Resync }
    }
}

/// Who a stream was opened for, so `revoke({ sub })` / `revoke({ sid })` can find it, and who acts for
/// them (`act`: an impersonating admin), which marks every frame of the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    pub sub: Option<String>,
    pub sid: Option<String>,
    /// The `sub` of the party acting for `sub` (the JWT `act.sub`).
    pub act: Option<String>,
}

impl Principal {
    /// `{"sub":"<act>"}`, the envelope's `act` member, for a stream with an acting party.
    fn act_json(&self) -> Option<Box<[u8]>> {
        self.act.as_ref().map(|act| {
            let mut out = b"{\"sub\":".to_vec();
            write_json_string(&mut out, act);
            out.push(b'}');
            out.into_boxed_slice()
        })
    }
}

/// The id prefix of a stream: its selection's fingerprint, mixed with the acting party when there is one,
/// so a `Last-Event-ID` of an impersonated stream never resumes a plain one (or the reverse).
pub(super) fn prefix_of(epoch: &Epoch, selection: &Selection, principal: &Principal) -> IdPrefix {
    let fingerprint = match &principal.act {
        None => selection.fingerprint(),
        Some(act) => super::ids::fingerprint(&(selection.fingerprint(), act)),
    };
    IdPrefix::new(epoch, fingerprint)
}

/// The settings of one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSettings {
    pub limits: QueueLimits,
    pub heartbeat: Duration,
    pub retry_ms: u32,
    pub schema_version: u32,
    pub principal: Principal,
}

/// What became of a live frame offered to a stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Offered {
    Queued,
    /// Nothing is queued for a stream that is owed a snapshot or is ending (O(1) per event).
    Ignored,
    /// The queue overflowed and the backlog was dropped (see [`OverflowPolicy`]).
    Overflowed,
}

/// Where a stream is with snapshots.
enum SnapshotState {
    None,
    /// Owed one, with the reason of its `resync` frame (none for a stream's first snapshot).
    Owed(Option<ResyncReason>),
    Sending(Snapshot),
}

pub struct Stream {
    pub id: u32,
    selection: Selection,
    /// The start of this stream's ids: the epoch and the selection's fingerprint.
    prefix: IdPrefix,
    pub settings: StreamSettings,
    /// The envelope's `act` member (see [`Principal`]).
    act_json: Option<Box<[u8]>>,
    greeted: bool,
    snapshot: SnapshotState,
    queue: VecDeque<Bytes>,
    queued_bytes: usize,
    /// The consumer cannot take output now (its socket is full, or it has not started reading).
    pub paused: bool,
    /// The stream ends once its remaining output is taken (revoked, closed).
    ending: bool,
    /// Whether the stream is in the relay's ready list.
    pub listed: bool,
    /// Whether the stream is in the relay's list of streams waiting for their snapshot.
    pub waiting: bool,
    /// When output was last taken, for heartbeats.
    pub last_output: Instant,
    /// The largest id position (`k`) the client may have seen: a new snapshot must start above it.
    pub last_k: u64,
}

impl Stream {
    pub fn new(id: u32, selection: Selection, settings: StreamSettings, epoch: &Epoch, now: Instant) -> Stream {
        Stream {
            id,
            prefix: prefix_of(epoch, &selection, &settings.principal),
            act_json: settings.principal.act_json(),
            selection,
            settings,
            greeted: false,
            snapshot: SnapshotState::None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            paused: true,
            ending: false,
            listed: false,
            waiting: false,
            last_output: now,
            last_k: 0,
        }
    }

    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn prefix(&self) -> &IdPrefix {
        &self.prefix
    }

    /// Replaces the selection (narrowing): later ids carry the new selection's fingerprint.
    pub fn set_selection(&mut self, selection: Selection, epoch: &Epoch) {
        self.prefix = prefix_of(epoch, &selection, &self.settings.principal);
        self.selection = selection;
    }

    /// Offers the live frame of event position `k`, within the queue limits.
    pub fn offer(&mut self, frame: Bytes, k: u64) -> Offered {
        if self.ending || self.owes_snapshot() {
            return Offered::Ignored;
        }
        let limits = self.settings.limits;
        // A single frame always fits an empty queue, whatever the byte limit.
        let full = !self.queue.is_empty()
            && (self.queue.len() >= limits.max_events || self.queued_bytes + frame.len() > limits.max_bytes);
        if full {
            match limits.overflow {
                OverflowPolicy::Resync => self.owe(Some(ResyncReason::SlowClient)),
                OverflowPolicy::Close => {
                    let frame = self.voice().reason("closed", None, "slow_client");
                    self.end_with(Some(frame));
                }
            }
            return Offered::Overflowed;
        }
        self.queued_bytes += frame.len();
        self.queue.push_back(frame);
        self.last_k = self.last_k.max(k);
        Offered::Queued
    }

    /// Drops the backlog and any snapshot in progress: the stream is owed a fresh snapshot (with a
    /// `resync` frame giving `reason`, if any), which the relay starts when the stream's turn comes.
    pub fn owe(&mut self, reason: Option<ResyncReason>) {
        self.clear();
        self.snapshot = SnapshotState::Owed(reason);
    }

    pub fn owes_snapshot(&self) -> bool {
        matches!(self.snapshot, SnapshotState::Owed(_))
    }

    pub fn sending_snapshot(&self) -> bool {
        matches!(self.snapshot, SnapshotState::Sending(_))
    }

    /// Starts the owed snapshot: `rows`, counted against the stream's principal by `slot`.
    pub fn start_snapshot(&mut self, rows: Arc<SnapshotRows>, slot: Slot) {
        let SnapshotState::Owed(reason) = self.snapshot else { return };
        self.clear();
        self.last_k = self.last_k.max(snapshot_complete_k(rows.position()));
        self.snapshot = SnapshotState::Sending(Snapshot::new(rows, reason, slot));
    }

    /// Drops the backlog, queues `frame` as the last one, and ends the stream once it is taken.
    pub fn end_with(&mut self, frame: Option<Bytes>) {
        self.clear();
        if let Some(frame) = frame {
            self.queued_bytes = frame.len();
            self.queue.push_back(frame);
        }
        self.ending = true;
    }

    fn clear(&mut self) {
        self.snapshot = SnapshotState::None;
        self.queue.clear();
        self.queued_bytes = 0;
    }

    pub fn is_ending(&self) -> bool {
        self.ending
    }

    /// Whether a take would give the consumer something (ending streams are taken even when paused, so a
    /// revoked or closed stream always ends). A stream owed a snapshot has nothing until it starts.
    pub fn wants_take(&self) -> bool {
        (self.ending || !self.paused)
            && (!self.greeted || self.sending_snapshot() || !self.queue.is_empty() || self.ending)
    }

    /// Whether the stream has been idle long enough for a heartbeat (also while it waits for its
    /// snapshot: that may take a while, and idle connections get closed by proxies).
    pub fn heartbeat_due(&self, now: Instant) -> bool {
        !self.paused
            && !self.ending
            && self.greeted
            && !self.sending_snapshot()
            && self.queue.is_empty()
            && now.saturating_duration_since(self.last_output) >= self.settings.heartbeat
    }

    pub fn queue_heartbeat(&mut self) {
        self.queue.push_back(Bytes::from_static(HEARTBEAT));
        self.queued_bytes += HEARTBEAT.len();
    }

    /// The envelope's `act` member of this stream's frames (see [`Principal`]).
    pub fn act_json(&self) -> Option<&[u8]> {
        self.act_json.as_deref()
    }

    /// The last frames of a stream its client should reconnect after: a `retry:` hint (`retry_ms`) and
    /// `closed` (`reason`), with no id, so the client's `Last-Event-ID` stays the last event it received.
    pub fn farewell(&self, reason: &str, retry_ms: u32) -> Bytes {
        let closed = self.voice().reason("closed", None, reason);
        Bytes::from([&retry_frame(retry_ms)[..], &closed[..]].concat())
    }

    pub fn voice(&self) -> Voice<'_> {
        Voice {
            prefix: &self.prefix,
            tenant_json: self.selection.tenant_json(),
            schema_version: self.settings.schema_version,
            act_json: self.act_json.as_deref(),
        }
    }

    /// Appends output to `out` until about `budget` bytes were written or nothing is left; snapshot frames
    /// also count against `snapshot_budget` (shared by the streams of one take), and wait for the next
    /// take once it is spent. Returns whether the stream is finished (ending and fully taken).
    pub fn take(&mut self, out: &mut Vec<u8>, budget: usize, snapshot_budget: &mut usize, now: Instant) -> bool {
        let start = out.len();
        if !self.greeted {
            self.greeted = true;
            out.extend_from_slice(&retry_frame(self.settings.retry_ms));
        }
        while out.len() - start < budget {
            if let SnapshotState::Sending(snapshot) = &mut self.snapshot {
                if *snapshot_budget == 0 {
                    break;
                }
                let voice = Voice {
                    prefix: &self.prefix,
                    tenant_json: self.selection.tenant_json(),
                    schema_version: self.settings.schema_version,
                    act_json: self.act_json.as_deref(),
                };
                match snapshot.next_frame(&voice) {
                    Some(frame) => {
                        *snapshot_budget = snapshot_budget.saturating_sub(frame.len());
                        out.extend_from_slice(&frame);
                    }
                    None => self.snapshot = SnapshotState::None,
                }
                continue;
            }
            match self.queue.pop_front() {
                Some(frame) => {
                    self.queued_bytes -= frame.len();
                    out.extend_from_slice(&frame);
                }
                None => break,
            }
        }
        if out.len() > start {
            self.last_output = now;
        }
        self.ending && !self.sending_snapshot() && self.queue.is_empty()
    }

    /// Events and bytes queued (snapshot frames are not counted).
    pub fn queued(&self) -> (usize, usize) {
        (self.queue.len(), self.queued_bytes)
    }
}
