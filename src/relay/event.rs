//! A relayed change: one row change of one table, numbered in the relay's global sequence, held in the
//! log and shared by every stream that receives it. Its frames are encoded lazily, once per view (see
//! [`View`]) and schema version, and shared as [`Bytes`] by every stream that gets that view.

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

use super::frame::{json_field, write_frame, Envelope};
use super::ids::{event_k, Anchor, IdPrefix};
use super::snapshot::Voice;
use super::tables::{RelayTable, TenantScope};
use crate::codec::schema::TableDef;
use crate::projection::{Row, RowChange};

/// A row of an event, with the byte range of each column (so filters compare bytes without decoding)
/// and its JSON, written on first use.
pub struct RowImage {
    pub row: Row,
    /// Empty when the row does not decode: such a row matches no tenant and no `where`.
    ranges: Vec<Range<usize>>,
    json: OnceLock<Box<[u8]>>,
}

impl RowImage {
    pub fn new(def: &TableDef, row: Row) -> RowImage {
        let ranges = def.column_ranges(&row).unwrap_or_default();
        RowImage { row, ranges, json: OnceLock::new() }
    }

    /// The BSATN bytes of column `index`.
    pub fn column(&self, index: usize) -> Option<&[u8]> {
        self.ranges.get(index).map(|r| &self.row[r.clone()])
    }

    /// The row's JSON (`null` if it does not decode, reported once).
    pub fn json(&self, def: &TableDef) -> &[u8] {
        self.json.get_or_init(|| row_json(def, &self.row).into())
    }
}

/// The JSON of a row, or `null` if the schema cannot decode it (a server bug: reported, never a crash).
pub fn row_json(def: &TableDef, row: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(row.len() * 2 + 16);
    def.row_to_json_or_null(row, &mut out);
    out
}

/// What one stream sees of an event, given which of its old and new rows the stream may see: an update
/// whose old row it may not see is an insert for it, one whose new row it may not see a delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Insert,
    Update,
    Delete,
    /// A row of an event table (SpacetimeDB 2.x): something that happened, never held.
    Event,
}

impl View {
    /// The view of a change whose old row (if any) is `old_visible` and new row (if any) `new_visible`.
    pub fn of(old: Option<bool>, new: Option<bool>) -> Option<View> {
        match (old, new) {
            (None, Some(true)) | (Some(false), Some(true)) => Some(View::Insert),
            (Some(true), None) | (Some(true), Some(false)) => Some(View::Delete),
            (Some(true), Some(true)) => Some(View::Update),
            _ => None,
        }
    }

    pub const fn op(self) -> &'static str {
        match self {
            View::Insert => "insert",
            View::Update => "update",
            View::Delete => "delete",
            View::Event => "event",
        }
    }
}

/// What a frame of an event depends on besides the view: the stream's schema version, id prefix and
/// acting party.
#[derive(PartialEq)]
struct FrameKey {
    view: View,
    schema_version: u32,
    prefix: IdPrefix,
    act: Option<Box<[u8]>>,
}

impl FrameKey {
    fn matches(&self, view: View, voice: &Voice) -> bool {
        self.view == view
            && self.schema_version == voice.schema_version
            && &self.prefix == voice.prefix
            && self.act.as_deref() == voice.act_json
    }
}

pub struct Event {
    pub seq: u64,
    /// The committed transaction the event belongs to (its ids are database ids), if any.
    pub anchor: Option<Anchor>,
    pub table: Arc<RelayTable>,
    /// The row before the change (updates and deletes).
    pub old: Option<RowImage>,
    /// The row after the change (inserts and updates; an event table's row).
    pub new: Option<RowImage>,
    /// A row of an event table (v2/v3 connections): delivered as `<table>.event`, held by no one (not in
    /// the projection, not in snapshots), and no change of authorization rows.
    pub occurrence: bool,
    /// Frames encoded so far (usually one or two entries).
    frames: Mutex<Vec<(FrameKey, Bytes)>>,
}

impl Event {
    pub fn new(seq: u64, anchor: Option<Anchor>, table: Arc<RelayTable>, change: &RowChange) -> Event {
        let image = |row: &Row| Some(RowImage::new(&table.def, row.clone()));
        let (old, new) = match change {
            RowChange::Insert { row } => (None, image(row)),
            RowChange::Update { old, new } => (image(old), image(new)),
            RowChange::Delete { row } => (image(row), None),
        };
        Event { seq, anchor, table, old, new, occurrence: false, frames: Mutex::new(Vec::new()) }
    }

    /// A row of an event table (see [`Event::occurrence`]).
    pub fn occurrence(seq: u64, anchor: Option<Anchor>, table: Arc<RelayTable>, row: &Row) -> Event {
        let new = Some(RowImage::new(&table.def, row.clone()));
        Event { seq, anchor, table, old: None, new, occurrence: true, frames: Mutex::new(Vec::new()) }
    }

    /// The tenant column bytes of the old and new rows (for finding candidate streams).
    pub fn tenants(&self) -> [Option<&[u8]>; 2] {
        match self.table.scope {
            TenantScope::Column(c) => {
                [self.old.as_ref().and_then(|r| r.column(c)), self.new.as_ref().and_then(|r| r.column(c))]
            }
            _ => [None, None],
        }
    }

    /// The frame of `view` for streams written like `voice` (streams of one selection share it), encoded
    /// on first use.
    pub fn frame(&self, view: View, voice: &Voice) -> Bytes {
        let mut frames = self.frames.lock().unwrap();
        if let Some((_, frame)) = frames.iter().find(|(key, _)| key.matches(view, voice)) {
            return frame.clone();
        }
        let frame = Bytes::from(self.encode(view, voice));
        let key = FrameKey {
            view,
            schema_version: voice.schema_version,
            prefix: voice.prefix.clone(),
            act: voice.act_json.map(Box::from),
        };
        frames.push((key, frame.clone()));
        frame
    }

    fn encode(&self, view: View, voice: &Voice) -> Vec<u8> {
        let def = &self.table.def;
        let (row, old_row) = match view {
            View::Insert | View::Event => (self.new.as_ref(), None),
            View::Update => (self.new.as_ref(), self.old.as_ref()),
            View::Delete => (self.old.as_ref(), None),
        };
        let row_json = row.map_or(&b"null"[..], |r| r.json(def));
        let tenant_json = match self.table.scope {
            TenantScope::Column(c) => json_field(row_json, &def.columns[c].name).unwrap_or(b"null"),
            _ => b"null",
        };
        let id = voice.prefix.id_at(event_k(self.seq), self.anchor);
        let event = format!("{}.{}", def.name, view.op());
        let mut out = Vec::with_capacity(row_json.len() * 2 + 200);
        let envelope = Envelope {
            id: Some(&id),
            event: &event,
            tenant_json,
            schema_version: voice.schema_version,
            act_json: voice.act_json,
        };
        write_frame(&mut out, &envelope, |out| {
            out.extend_from_slice(b"{\"row\":");
            out.extend_from_slice(row_json);
            if let Some(old) = old_row {
                out.extend_from_slice(b",\"oldRow\":");
                out.extend_from_slice(old.json(def));
            }
            out.push(b'}');
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_of_an_update_follows_what_the_stream_may_see() {
        assert_eq!(View::of(None, Some(true)), Some(View::Insert));
        assert_eq!(View::of(None, Some(false)), None);
        assert_eq!(View::of(Some(true), None), Some(View::Delete));
        assert_eq!(View::of(Some(false), None), None);
        assert_eq!(View::of(Some(true), Some(true)), Some(View::Update));
        assert_eq!(View::of(Some(false), Some(true)), Some(View::Insert));
        assert_eq!(View::of(Some(true), Some(false)), Some(View::Delete));
        assert_eq!(View::of(Some(false), Some(false)), None);
    }
}
