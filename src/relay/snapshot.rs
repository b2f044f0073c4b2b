//! A stream's snapshot: the rows it may see at one log position, as `snapshot` frames (begin, rows in
//! chunks, end), preceded by a `resync` frame when it replaces what the client had.
//!
//! The rows and their rows frames belong to a [`SnapshotRows`], shared by every stream of the same view
//! at that position; what is per stream here is the position in it and the frames that carry the
//! stream's ids (resync, begin, end). Rows are collected as shared handles while the projection is
//! read-locked (cheap: the rows of one tenant come from the tenant index) and encoded chunk by chunk
//! only as a client takes them.

use std::sync::Arc;

use bytes::Bytes;

use super::admission::Slot;
use super::frame::{reason_frame, write_frame, Envelope};
use super::ids::{snapshot_complete_k, snapshot_started_k, IdPrefix, ResyncReason};
use super::selection::Selection;
use super::shared::{Cursor, SnapshotRows};
use super::tables::{RelayTable, RelayTables, TenantScope};
use crate::codec::value::write_json_string;
use crate::projection::{Projection, Row};

/// Rows per `snapshot` rows frame, at most.
pub const CHUNK_ROWS: usize = 256;
/// JSON bytes of rows per `snapshot` rows frame, about (a frame ends after the row that passes it).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The rows of every table `selection` selects, as shared handles (call with the projection read-locked).
/// Tenant tables are read through the tenant index; the rows are re-checked against the selection when
/// written, so an index only narrows the candidates.
pub fn collect_rows(
    projection: &Projection,
    tables: &RelayTables,
    selection: &Selection,
) -> Vec<(Arc<RelayTable>, Vec<Row>)> {
    let mut chosen = Vec::new();
    for table in tables.all().iter().filter(|t| selection.selects(t.index)) {
        let rows = projection.table(table.name()).map_or_else(Vec::new, |held| {
            let indexed = match (table.scope, selection.tenant_of(table.index)) {
                (TenantScope::Column(c), Some(tenant)) => held.rows_with(c, tenant),
                _ => None,
            };
            indexed.unwrap_or_else(|| held.iter().cloned().collect())
        });
        chosen.push((table.clone(), rows));
    }
    chosen
}

/// Appends the JSON of the rows of `rows` that `selection` sees, comma-separated, until `max_rows` rows
/// or about `max_bytes` bytes were written. Returns how many rows were written and how many of `rows`
/// were consumed. A row that does not decode is written as `null`.
pub fn write_rows(
    out: &mut Vec<u8>,
    table: &RelayTable,
    rows: &[Row],
    selection: &Selection,
    max_rows: usize,
    max_bytes: usize,
) -> (usize, usize) {
    let start = out.len();
    let mut taken = 0;
    let mut consumed = 0;
    let mut ranges = Vec::new();
    for row in rows {
        consumed += 1;
        if table.def.column_ranges_into(row, &mut ranges).is_err() {
            continue;
        }
        if !selection.sees_columns(table, |c| ranges.get(c).map(|r| &row[r.clone()])) {
            continue;
        }
        if taken > 0 {
            out.push(b',');
        }
        let mark = out.len();
        if table.def.row_to_json(row, out).is_err() {
            out.truncate(mark);
            out.extend_from_slice(b"null");
        }
        taken += 1;
        if taken == max_rows || out.len() - start >= max_bytes {
            break;
        }
    }
    (taken, consumed)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Resync,
    Begin,
    /// The next rows frame: its number in the snapshot and where its rows start.
    Rows {
        frame: usize,
        at: Cursor,
    },
    End,
    Done,
}

/// How a stream's frames are written: its id prefix, tenant, schema version and acting party.
pub struct Voice<'a> {
    pub prefix: &'a IdPrefix,
    pub tenant_json: &'a [u8],
    pub schema_version: u32,
    pub act_json: Option<&'a [u8]>,
}

impl Voice<'_> {
    /// A `resync`, `revoked` or `closed` frame.
    pub fn reason(&self, event: &str, id: Option<&str>, reason: &str) -> Bytes {
        reason_frame(
            &Envelope {
                id,
                event,
                tenant_json: self.tenant_json,
                schema_version: self.schema_version,
                act_json: self.act_json,
            },
            reason,
        )
    }

    fn snapshot(&self, id: Option<&str>, payload: impl FnOnce(&mut Vec<u8>)) -> Bytes {
        let mut out = Vec::with_capacity(256);
        let envelope = Envelope {
            id,
            event: "snapshot",
            tenant_json: self.tenant_json,
            schema_version: self.schema_version,
            act_json: self.act_json,
        };
        write_frame(&mut out, &envelope, payload);
        Bytes::from(out)
    }
}

pub struct Snapshot {
    rows: Arc<SnapshotRows>,
    reason: Option<ResyncReason>,
    stage: Stage,
    /// Counts the snapshot against its principal's limit until it ends or is dropped.
    _slot: Slot,
}

impl Snapshot {
    /// A stream's snapshot of `rows` (with a `resync` frame first when `reason` is given).
    pub fn new(rows: Arc<SnapshotRows>, reason: Option<ResyncReason>, slot: Slot) -> Snapshot {
        let stage = if reason.is_some() { Stage::Resync } else { Stage::Begin };
        Snapshot { rows, reason, stage, _slot: slot }
    }

    pub fn position(&self) -> u64 {
        self.rows.position()
    }

    /// The next frame, or `None` once the `end` frame was given.
    pub fn next_frame(&mut self, voice: &Voice) -> Option<Bytes> {
        let position = self.rows.position();
        loop {
            match self.stage {
                Stage::Resync => {
                    self.stage = Stage::Begin;
                    let reason = self.reason.map_or("resync", |r| r.as_str());
                    let id = voice.prefix.id(snapshot_started_k(position));
                    return Some(voice.reason("resync", Some(&id), reason));
                }
                Stage::Begin => {
                    self.stage = Stage::Rows { frame: 0, at: Cursor::START };
                    // After a resync frame the begin frame carries no id: the resync frame had it.
                    let id = self.reason.is_none().then(|| voice.prefix.id(snapshot_started_k(position)));
                    return Some(voice.snapshot(id.as_deref(), |out| {
                        out.extend_from_slice(b"{\"phase\":\"begin\",\"tables\":[");
                        for (i, name) in self.rows.table_names().enumerate() {
                            if i > 0 {
                                out.push(b',');
                            }
                            write_json_string(out, name);
                        }
                        out.extend_from_slice(b"]}");
                    }));
                }
                Stage::Rows { frame, at } => {
                    // Only a snapshot others hold (or may still join) is worth keeping frames of.
                    let shared = Arc::strong_count(&self.rows) > 1;
                    match self.rows.frame(frame, at, shared) {
                        Some((bytes, next)) => {
                            self.stage = Stage::Rows { frame: frame + 1, at: next };
                            return Some(bytes);
                        }
                        None => self.stage = Stage::End,
                    }
                }
                Stage::End => {
                    self.stage = Stage::Done;
                    let id = voice.prefix.id_at(snapshot_complete_k(position), self.rows.anchor());
                    return Some(voice.snapshot(Some(&id), |out| out.extend_from_slice(b"{\"phase\":\"end\"}")));
                }
                Stage::Done => return None,
            }
        }
    }
}
