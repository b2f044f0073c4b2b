//! Snapshots shared between streams: the rows one view (a selection and a schema version) sees at one
//! log position, and their `snapshot` rows frames, encoded once and handed to every stream of that view
//! as [`Bytes`] clones.
//!
//! Rows frames carry no id and depend only on the view and the rows, so every stream of one view at one
//! position gets byte-identical rows frames (a view includes the acting party of `principal.act`, which
//! every envelope of such a stream names); the frames with ids (resync, begin, end) stay per stream
//! ([`super::snapshot::Snapshot`]). Frames are still encoded lazily, one chunk at a time, when the first
//! reader needs one, and kept only within a budget: [`KEEP_PER_SNAPSHOT`] bytes per snapshot (the oldest
//! go first, so readers that move together keep sharing) and [`KEEP_TOTAL`] in the relay. A reader behind
//! what is kept encodes its frames itself, and gets the same bytes: where a chunk ends is a function of
//! the rows, so sharing changes costs, never output.
//!
//! A stream that needs a snapshot later, when the log has moved on, may still join an existing one if
//! no event since that snapshot's position is visible to the view: its rows are then exactly the view's
//! rows now, and the older position is a valid resume point for the stream ([`SharedSnapshots::join`]).
//! So a storm of streams on one tenant shares one encoding even while other tenants keep writing.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::event::Event;
use super::frame::{write_frame, Envelope};
use super::ids::{snapshot_started_k, Anchor};
use super::log::EventLog;
use super::selection::Selection;
use super::snapshot::{collect_rows, write_rows, CHUNK_BYTES, CHUNK_ROWS};
use super::tables::{RelayTable, RelayTables};
use crate::codec::value::write_json_string;
use crate::projection::{Projection, Row};

/// Encoded rows frames kept for sharing, per snapshot, at most.
pub const KEEP_PER_SNAPSHOT: usize = 8 << 20;
/// Encoded rows frames kept for sharing, in the whole relay, at most.
pub const KEEP_TOTAL: usize = 64 << 20;
/// How long a snapshot no stream holds stays joinable: the streams of one principal that wait for their
/// turn start right after the previous ones finish, and should still share their frames.
pub const KEEP_UNHELD: Duration = Duration::from_secs(1);

/// Where a rows frame starts: a table of the snapshot and a row of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    table: usize,
    row: usize,
}

impl Cursor {
    pub const START: Cursor = Cursor { table: 0, row: 0 };
}

/// Snapshot work of a relay, for `relayStats()` and tests.
#[derive(Debug, Default)]
pub struct SnapshotCounters {
    pub frames_encoded: AtomicU64,
    pub bytes_encoded: AtomicU64,
    /// Rows frames handed out from another stream's encoding.
    pub frames_shared: AtomicU64,
    pub bytes_shared: AtomicU64,
    /// Bytes of encoded frames kept for sharing now (within [`KEEP_TOTAL`]).
    pub bytes_kept: AtomicUsize,
}

impl SnapshotCounters {
    fn count(frames: &AtomicU64, bytes: &AtomicU64, len: usize) {
        frames.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Reserves `len` bytes of the relay-wide budget, if they fit.
    fn reserve(&self, len: usize) -> bool {
        self.bytes_kept
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| (kept + len <= KEEP_TOTAL).then_some(kept + len))
            .is_ok()
    }
}

/// Frames `first..first + frames.len()` of a snapshot, each with where the next one starts.
#[derive(Default)]
struct Kept {
    first: usize,
    frames: VecDeque<(Bytes, Cursor)>,
    bytes: usize,
}

/// The rows of one view at one log position, and their rows frames as far as they are kept.
pub struct SnapshotRows {
    position: u64,
    /// The committed transaction that ends at `position`, if any: the `end` frame's id names it.
    anchor: Option<Anchor>,
    selection: Selection,
    schema_version: u32,
    /// The envelope's `act` member of the streams of this view (`principal.act`).
    act_json: Option<Box<[u8]>>,
    tables: Vec<(Arc<RelayTable>, Vec<Row>)>,
    kept: Mutex<Kept>,
    counters: Arc<SnapshotCounters>,
}

impl SnapshotRows {
    /// The rows `selection` sees now, at log position `position` (call with the projection read-locked
    /// and the position read under that lock).
    pub fn collect(
        projection: &Projection,
        tables: &RelayTables,
        view: (Selection, u32, Option<&[u8]>),
        position: u64,
        anchor: Option<Anchor>,
        counters: Arc<SnapshotCounters>,
    ) -> SnapshotRows {
        let (selection, schema_version, act_json) = view;
        let tables = collect_rows(projection, tables, &selection);
        let act_json = act_json.map(Box::from);
        SnapshotRows { position, anchor, selection, schema_version, act_json, tables, kept: Mutex::default(), counters }
    }

    /// Whether this is the snapshot of the view of `selection` written with `act_json`.
    fn is_view(&self, selection: &Selection, act_json: Option<&[u8]>) -> bool {
        self.selection == *selection && self.act_json.as_deref() == act_json
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn anchor(&self) -> Option<Anchor> {
        self.anchor
    }

    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.iter().map(|(t, _)| t.name())
    }

    /// Rows frame number `n`, which starts at `at`, and where the next one starts; `None` when no rows
    /// are left. `shared`: other streams hold this snapshot or may join it, so the frame is worth keeping.
    pub fn frame(&self, n: usize, at: Cursor, shared: bool) -> Option<(Bytes, Cursor)> {
        let mut kept = self.kept.lock().unwrap();
        if !shared {
            self.release(&mut kept);
        }
        let end = kept.first + kept.frames.len();
        if (kept.first..end).contains(&n) {
            let (frame, next) = kept.frames[n - kept.first].clone();
            SnapshotCounters::count(&self.counters.frames_shared, &self.counters.bytes_shared, frame.len());
            return Some((frame, next));
        }
        let (frame, next) = self.encode(at)?;
        SnapshotCounters::count(&self.counters.frames_encoded, &self.counters.bytes_encoded, frame.len());
        if shared && n == end {
            self.keep(&mut kept, frame.clone(), next);
        }
        Some((frame, next))
    }

    /// Keeps the newest frame within both budgets, dropping this snapshot's oldest frames to make room:
    /// readers that move together keep sharing; one that fell far behind encodes its own.
    fn keep(&self, kept: &mut Kept, frame: Bytes, next: Cursor) {
        let len = frame.len();
        loop {
            if kept.bytes + len <= KEEP_PER_SNAPSHOT && self.counters.reserve(len) {
                kept.bytes += len;
                kept.frames.push_back((frame, next));
                return;
            }
            let Some((old, _)) = kept.frames.pop_front() else { break };
            kept.first += 1;
            kept.bytes -= old.len();
            self.counters.bytes_kept.fetch_sub(old.len(), Ordering::Relaxed);
        }
        // Nothing of this snapshot is kept and the frame does not fit: the next frame may start again.
        kept.first += 1;
    }

    fn release(&self, kept: &mut Kept) {
        self.counters.bytes_kept.fetch_sub(kept.bytes, Ordering::Relaxed);
        kept.first += kept.frames.len();
        kept.frames.clear();
        kept.bytes = 0;
    }

    /// Encodes the rows frame starting at `at`: up to [`CHUNK_ROWS`] rows or about [`CHUNK_BYTES`] of one
    /// table (rows the selection does not see are skipped, tables without such rows get no frame).
    fn encode(&self, mut at: Cursor) -> Option<(Bytes, Cursor)> {
        let envelope = Envelope {
            id: None,
            event: "snapshot",
            tenant_json: self.selection.tenant_json(),
            schema_version: self.schema_version,
            act_json: self.act_json.as_deref(),
        };
        while let Some((def, rows)) = self.tables.get(at.table) {
            // Grown as written: most frames of small tenants are far below a chunk.
            let mut frame = Vec::with_capacity(1024);
            let mut written = (0, 0);
            write_frame(&mut frame, &envelope, |out| {
                out.extend_from_slice(b"{\"phase\":\"rows\",\"table\":");
                write_json_string(out, def.name());
                out.extend_from_slice(b",\"rows\":[");
                written = write_rows(out, def, &rows[at.row..], &self.selection, CHUNK_ROWS, CHUNK_BYTES);
                out.extend_from_slice(b"]}");
            });
            let (taken, consumed) = written;
            at = if at.row + consumed >= rows.len() {
                Cursor { table: at.table + 1, row: 0 }
            } else {
                Cursor { table: at.table, row: at.row + consumed }
            };
            if taken > 0 {
                return Some((Bytes::from(frame), at));
            }
        }
        None
    }
}

impl Drop for SnapshotRows {
    fn drop(&mut self) {
        let kept = self.kept.get_mut().unwrap();
        self.counters.bytes_kept.fetch_sub(kept.bytes, Ordering::Relaxed);
    }
}

struct Entry {
    rows: Arc<SnapshotRows>,
    /// Every event up to this position was checked: none is visible to the view.
    checked_to: u64,
    /// Since when no stream holds the snapshot (as last seen by a sweep).
    unheld_since: Option<Instant>,
}

/// The snapshots later streams of the same view may join, one per view.
#[derive(Default)]
pub struct SharedSnapshots {
    /// By selection fingerprint and schema version (equal fingerprints are told apart by the selection).
    by_view: HashMap<(u32, u32), Vec<Entry>>,
}

impl SharedSnapshots {
    /// The snapshot of `selection` / `schema_version` to join, if there is one whose rows are the view's
    /// rows at the log's head (no event after its position is visible to the view, and all of them are
    /// still in the log to tell) and whose ids start above `last_k` (the largest id its client may have).
    pub fn join(
        &mut self,
        log: &EventLog<Option<Arc<Event>>>,
        view: (&Selection, u32, Option<&[u8]>),
        last_k: u64,
    ) -> Option<Arc<SnapshotRows>> {
        let (selection, schema_version, act_json) = view;
        let key = (selection.fingerprint(), schema_version);
        let entries = self.by_view.get_mut(&key)?;
        let at = entries.iter().position(|e| e.rows.is_view(selection, act_json))?;
        let unchanged = match log.after(entries[at].checked_to) {
            Ok(mut events) => !events.any(|e| e.as_ref().is_some_and(|e| selection.view(e).is_some())),
            Err(_) => false,
        };
        if !unchanged {
            entries.swap_remove(at);
            return None;
        }
        let entry = &mut entries[at];
        entry.checked_to = log.head();
        if snapshot_started_k(entry.rows.position) <= last_k {
            return None;
        }
        entry.unheld_since = None;
        Some(entry.rows.clone())
    }

    /// Makes `rows` (taken at the log's head) the snapshot of its view that later streams join.
    pub fn insert(&mut self, rows: Arc<SnapshotRows>) {
        let key = (rows.selection.fingerprint(), rows.schema_version);
        let entries = self.by_view.entry(key).or_default();
        entries.retain(|e| !e.rows.is_view(&rows.selection, rows.act_json.as_deref()));
        entries.push(Entry { checked_to: rows.position, rows, unheld_since: None });
    }

    /// Drops the snapshots no stream held for [`KEEP_UNHELD`] (as seen by the sweeps until `now`).
    pub fn sweep(&mut self, now: Instant) {
        self.by_view.retain(|_, entries| {
            entries.retain_mut(|e| {
                if Arc::strong_count(&e.rows) > 1 {
                    e.unheld_since = None;
                    return true;
                }
                let since = *e.unheld_since.get_or_insert(now);
                now.saturating_duration_since(since) < KEEP_UNHELD
            });
            !entries.is_empty()
        });
    }

    pub fn len(&self) -> usize {
        self.by_view.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_view.is_empty()
    }
}
