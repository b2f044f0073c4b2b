//! A stream's snapshot: the rows it may see at one log position, as `snapshot` frames (begin, rows in
//! chunks, end), preceded by a `resync` frame when it replaces what the client had.
//!
//! Rows are collected as shared handles while the projection is read-locked (cheap: the rows of one
//! tenant come from the tenant index) and encoded chunk by chunk only as the client takes them, so a
//! large snapshot costs its JSON once, never more memory than a chunk at a time.

use std::sync::Arc;

use bytes::Bytes;

use super::frame::{reason_frame, write_frame, Envelope};
use super::ids::{snapshot_complete_k, snapshot_started_k, IdPrefix, ResyncReason};
use super::selection::Selection;
use super::tables::{RelayTable, RelayTables, TenantScope};
use crate::client::value::write_json_string;
use crate::projection::{Projection, Row};

/// Rows per `snapshot` rows frame, at most.
pub const CHUNK_ROWS: usize = 256;
/// JSON bytes of rows per `snapshot` rows frame, about (a frame ends after the row that passes it).
pub const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Resync,
    Begin,
    Rows { table: usize, row: usize },
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
    position: u64,
    reason: Option<ResyncReason>,
    tables: Vec<(Arc<RelayTable>, Vec<Row>)>,
    stage: Stage,
}

impl Snapshot {
    /// The rows `selection` may see now, at log position `position` (call with the projection read-locked
    /// and the relay's position read under that lock). Rows are re-checked against the selection when
    /// encoded, so an index only narrows the candidates.
    pub fn collect(
        projection: &Projection,
        tables: &RelayTables,
        selection: &Selection,
        position: u64,
        reason: Option<ResyncReason>,
    ) -> Snapshot {
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
        let stage = if reason.is_some() { Stage::Resync } else { Stage::Begin };
        Snapshot { position, reason, tables: chosen, stage }
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next frame, or `None` once the `end` frame was given.
    pub fn next_frame(&mut self, selection: &Selection, voice: &Voice) -> Option<Bytes> {
        let started_id = voice.prefix.id(snapshot_started_k(self.position));
        loop {
            match self.stage {
                Stage::Resync => {
                    self.stage = Stage::Begin;
                    let reason = self.reason.map_or("resync", |r| r.as_str());
                    return Some(voice.reason("resync", Some(&started_id), reason));
                }
                Stage::Begin => {
                    self.stage = Stage::Rows { table: 0, row: 0 };
                    let id = if self.reason.is_some() { None } else { Some(started_id.as_str()) };
                    return Some(voice.snapshot(id, |out| {
                        out.extend_from_slice(b"{\"phase\":\"begin\",\"tables\":[");
                        for (i, (table, _)) in self.tables.iter().enumerate() {
                            if i > 0 {
                                out.push(b',');
                            }
                            write_json_string(out, table.name());
                        }
                        out.extend_from_slice(b"]}");
                    }));
                }
                Stage::Rows { table, row } => {
                    let Some((def, rows)) = self.tables.get(table) else {
                        self.stage = Stage::End;
                        continue;
                    };
                    let (chunk, next_row) = encode_chunk(def, &rows[row..], selection);
                    self.stage = if row + next_row >= rows.len() {
                        Stage::Rows { table: table + 1, row: 0 }
                    } else {
                        Stage::Rows { table, row: row + next_row }
                    };
                    if let Some(chunk) = chunk {
                        return Some(voice.snapshot(None, |out| {
                            out.extend_from_slice(b"{\"phase\":\"rows\",\"table\":");
                            write_json_string(out, def.name());
                            out.extend_from_slice(b",\"rows\":[");
                            out.extend_from_slice(&chunk);
                            out.extend_from_slice(b"]}");
                        }));
                    }
                }
                Stage::End => {
                    self.stage = Stage::Done;
                    let id = voice.prefix.id(snapshot_complete_k(self.position));
                    return Some(voice.snapshot(Some(&id), |out| out.extend_from_slice(b"{\"phase\":\"end\"}")));
                }
                Stage::Done => return None,
            }
        }
    }
}

/// The JSON of the next rows the selection sees (comma-separated, at most one chunk), and how many rows
/// of `rows` it consumed.
fn encode_chunk(table: &RelayTable, rows: &[Row], selection: &Selection) -> (Option<Vec<u8>>, usize) {
    let mut out = Vec::new();
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
        if table.def.row_to_json(row, &mut out).is_err() {
            out.truncate(mark);
            out.extend_from_slice(b"null");
        }
        taken += 1;
        if taken == CHUNK_ROWS || out.len() >= CHUNK_BYTES {
            break;
        }
    }
    ((taken > 0).then_some(out), consumed)
}
