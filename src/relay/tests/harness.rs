//! The test harness: a projection, a relay over it, transactions, and a client model per stream.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::{json, Value};

use crate::codec::schema::Schema;
use crate::codec::tests::reference_schema;
use crate::projection::Projection;
use crate::projection::{ChangeSink, Commit, TableChanges, Transaction, TransactionMeta};
use crate::relay::ids::Epoch;
use crate::relay::options::{parse_relay_config, parse_stream_options};
use crate::relay::{Relay, RelayConfig, Wake};

pub struct CountingWaker(pub AtomicUsize);

impl Wake for CountingWaker {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// One table's part of a transaction: (table, deleted rows, inserted rows).
pub type TablePart<'a> = (&'a str, Vec<Vec<u8>>, Vec<Vec<u8>>);

pub struct Harness {
    pub schema: Schema,
    pub projection: Arc<RwLock<Projection>>,
    pub relay: Relay,
    pub wakes: Arc<CountingWaker>,
    /// What [`Harness::tx`] says of its transactions: `None`, a subscription change (local ids);
    /// `Some`, a committed transaction (database ids).
    pub commit: Cell<Option<Commit>>,
}

/// A `document` row: id, tenant, title (the other columns fixed).
pub fn doc(_schema: &Schema, id: u64, tenant: &str, title: &str) -> Vec<u8> {
    crate::projection::tests::doc(id, tenant, title, 1)
}

/// A `tenant` row (the shared table in these tests).
pub fn tenant_row(schema: &Schema, id: &str, name: &str) -> Vec<u8> {
    let values =
        [json!(id), json!(name), json!("c200".to_string() + &"00".repeat(30)), json!("2024-01-01T00:00:00.000000Z")];
    encode_row(schema, "tenant", &values)
}

pub fn encode_row(schema: &Schema, table: &str, values: &[Value]) -> Vec<u8> {
    let def = schema.table(table).unwrap();
    values.iter().enumerate().flat_map(|(i, v)| def.encode_column_value(i, v).unwrap()).collect()
}

impl Harness {
    /// A relay with `tenant` shared and the given extra relay options (JSON object members).
    pub fn new(extra_config: &str) -> Harness {
        Harness::with_config(extra_config, |_| {})
    }

    /// Like [`Harness::new`], with the parsed configuration changed by `change` (for limits below what
    /// the options accept, e.g. a snapshot budget of one frame per take).
    pub fn with_config(extra_config: &str, change: impl FnOnce(&mut RelayConfig)) -> Harness {
        let schema = reference_schema();
        let projection = Arc::new(RwLock::new(Projection::new(&schema)));
        let text =
            format!(r#"{{"sharedTables":["tenant"]{}{extra_config}}}"#, if extra_config.is_empty() { "" } else { "," });
        let mut config = parse_relay_config(&text).unwrap();
        change(&mut config);
        let relay = Relay::new(&schema, config, projection.clone()).unwrap().with_epoch(Epoch::fixed("0000000e90c1"));
        let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
        relay.set_waker(Some(wakes.clone()));
        Harness { schema, projection, relay, wakes, commit: Cell::new(None) }
    }

    /// Applies one transaction like the session: projection and relay under the write lock.
    pub fn tx(&self, parts: &[TablePart]) {
        let mut projection = self.projection.write().unwrap();
        let mut tables = Vec::new();
        for (table, deletes, inserts) in parts {
            let changes = projection.apply(table, deletes, inserts).unwrap();
            if !changes.is_empty() {
                let def = projection.table(table).unwrap().def().clone();
                tables.push(TableChanges { table: def, changes });
            }
        }
        if !tables.is_empty() {
            let meta = TransactionMeta { commit: self.commit.get(), ..Default::default() };
            self.relay.on_transaction(&Transaction { meta, tables, events: Vec::new() });
        }
    }

    pub fn insert_doc(&self, id: u64, tenant: &str, title: &str) {
        self.tx(&[("document", vec![], vec![doc(&self.schema, id, tenant, title)])]);
    }

    /// Replaces document `id` (which must be held) with new values.
    pub fn update_doc(&self, id: u64, tenant: &str, title: &str) {
        let old = self.held_doc(id).expect("the document is held");
        self.tx(&[("document", vec![old], vec![doc(&self.schema, id, tenant, title)])]);
    }

    pub fn delete_doc(&self, id: u64) {
        let old = self.held_doc(id).expect("the document is held");
        self.tx(&[("document", vec![old], vec![])]);
    }

    pub fn held_doc(&self, id: u64) -> Option<Vec<u8>> {
        let p = self.projection.read().unwrap();
        let def = p.table("document").unwrap().def().clone();
        let found = p.table("document").unwrap().iter().find(|r| {
            let ranges = def.column_ranges(r).unwrap();
            r[ranges[0].clone()] == id.to_le_bytes()
        });
        found.map(|r| r.to_vec())
    }

    /// Opens a stream from JSON options and lets its consumer read.
    pub fn open(&self, options: &str) -> u32 {
        let id = self.try_open(options).unwrap();
        self.relay.resume(id);
        id
    }

    pub fn try_open(&self, options: &str) -> crate::error::Result<u32> {
        let request = parse_stream_options(options, self.relay.defaults())?;
        self.relay.open(&request.selection()?, request.settings.clone(), request.last_event_id.as_deref())
    }

    /// Takes until nothing is ready: frames per stream, and the streams that ended.
    pub fn take_all(&self) -> Taken {
        let mut taken = Taken::default();
        while self.take_into(&mut taken) {}
        taken
    }

    /// One take: its frames per stream and the streams that ended; and whether there is more.
    pub fn take_once(&self) -> (Taken, bool) {
        let mut taken = Taken::default();
        let more = self.take_into(&mut taken);
        (taken, more)
    }

    fn take_into(&self, taken: &mut Taken) -> bool {
        let output = self.relay.take();
        let (entries, more) = output.read();
        for entry in entries {
            taken.frames.entry(entry.id).or_default().extend(parse_frames(entry.bytes));
            if entry.ended {
                taken.ended.push(entry.id);
            }
        }
        more
    }

    /// The rows of `table` in the projection as JSON objects.
    pub fn projection_rows(&self, table: &str) -> Vec<Value> {
        let p = self.projection.read().unwrap();
        let rows = p.table(table).unwrap();
        rows.iter()
            .map(|r| {
                let mut out = Vec::new();
                rows.def().row_to_json(r, &mut out).unwrap();
                serde_json::from_slice(&out).unwrap()
            })
            .collect()
    }
}

#[derive(Default, Debug)]
pub struct Taken {
    pub frames: HashMap<u32, Vec<Frame>>,
    pub ended: Vec<u32>,
}

impl Taken {
    pub fn of(&self, id: u32) -> &[Frame] {
        self.frames.get(&id).map_or(&[], |f| f)
    }
}

/// One SSE frame as a client parses it.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Retry(u64),
    Heartbeat,
    Event { id: Option<String>, event: String, data: Value },
}

impl Frame {
    pub fn event(&self) -> &str {
        match self {
            Frame::Event { event, .. } => event,
            Frame::Retry(_) => "(retry)",
            Frame::Heartbeat => "(heartbeat)",
        }
    }

    pub fn data(&self) -> &Value {
        match self {
            Frame::Event { data, .. } => data,
            _ => &Value::Null,
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Frame::Event { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    /// `snapshot/begin`, `document.insert`, `resync/gap`…: a short label for assertions.
    pub fn label(&self) -> String {
        let data = self.data();
        match self.event() {
            "snapshot" => format!("snapshot/{}", data["payload"]["phase"].as_str().unwrap()),
            "resync" | "revoked" | "closed" => {
                format!("{}/{}", self.event(), data["payload"]["reason"].as_str().unwrap())
            }
            other => other.to_string(),
        }
    }
}

/// Parses SSE bytes the way `EventSource` does (for the subset the relay writes), checking the
/// envelope of every event.
pub fn parse_frames(bytes: &[u8]) -> Vec<Frame> {
    let text = std::str::from_utf8(bytes).expect("SSE is UTF-8");
    assert!(text.is_empty() || text.ends_with("\n\n"), "frames end with a blank line: {text:?}");
    let mut frames = Vec::new();
    for block in text.split_terminator("\n\n") {
        if block == ": hb" {
            frames.push(Frame::Heartbeat);
            continue;
        }
        if let Some(ms) = block.strip_prefix("retry: ") {
            frames.push(Frame::Retry(ms.parse().unwrap()));
            continue;
        }
        let (mut id, mut event, mut data) = (None, None, None);
        for line in block.lines() {
            let (field, value) = line.split_once(": ").unwrap_or_else(|| panic!("bad line {line:?}"));
            match field {
                "id" => id = Some(value.to_string()),
                "event" => event = Some(value.to_string()),
                "data" => data = Some(serde_json::from_str::<Value>(value).unwrap()),
                _ => panic!("unexpected field {field:?}"),
            }
        }
        let (event, data) = (event.expect("event line"), data.expect("data line"));
        assert_eq!(data["event"], Value::String(event.clone()));
        assert_eq!(data["id"], id.clone().map_or(Value::Null, Value::String));
        assert!(data.get("tenant_id").is_some() && data["schema_version"].is_u64() && data.get("payload").is_some());
        frames.push(Frame::Event { id, event, data });
    }
    frames
}

/// `k` of an id (`<prefix>-<k>`).
pub fn id_k(id: &str) -> u64 {
    id.rsplit_once('-').unwrap().1.parse().unwrap()
}

/// A client rebuilding its state from a stream's frames, asserting that nothing is repeated or missing
/// on the way (an insert of a held row, an update or delete of a row it does not hold as said).
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// (table, primary key JSON) → row.
    pub rows: BTreeMap<(String, String), Value>,
    /// Rows of a snapshot in progress.
    pending: Option<BTreeMap<(String, String), Value>>,
    /// Between `resync` and the snapshot's `end`: the state is not usable.
    pub resyncing: bool,
    pub last_id: Option<String>,
    pub ended: Option<String>,
    pub frames_seen: usize,
}

fn key(table: &str, row: &Value) -> (String, String) {
    (table.to_string(), row["id"].to_string())
}

impl Client {
    pub fn apply(&mut self, frame: &Frame) {
        assert!(self.ended.is_none(), "a frame after the stream ended: {frame:?}");
        self.frames_seen += 1;
        if let Some(id) = frame.id() {
            if let Some(last) = &self.last_id {
                // Ids of one transaction (or of the local form) count up; across transactions they differ.
                let prefix = |id: &str| id.rsplit_once('-').unwrap().0.to_string();
                assert!(prefix(id) != prefix(last) || id_k(id) > id_k(last), "ids must increase: {last} then {id}");
                assert_ne!(id, last, "an id twice");
            }
            self.last_id = Some(id.to_string());
        }
        let payload = &frame.data()["payload"];
        match frame.event() {
            "(retry)" | "(heartbeat)" => {}
            "snapshot" => match payload["phase"].as_str().unwrap() {
                "begin" => self.pending = Some(BTreeMap::new()),
                "rows" => {
                    let table = payload["table"].as_str().unwrap();
                    let pending = self.pending.as_mut().expect("rows inside a snapshot");
                    for row in payload["rows"].as_array().unwrap() {
                        assert!(pending.insert(key(table, row), row.clone()).is_none(), "a row twice in a snapshot");
                    }
                }
                "end" => {
                    self.rows = self.pending.take().expect("end of a begun snapshot");
                    self.resyncing = false;
                }
                other => panic!("unknown phase {other}"),
            },
            "resync" => {
                self.resyncing = true;
                self.pending = None;
            }
            "revoked" | "closed" => self.ended = Some(frame.label()),
            event => {
                assert!(self.pending.is_none(), "a live event inside a snapshot");
                let (table, op) = event.rsplit_once('.').unwrap();
                let row = &payload["row"];
                let k = key(table, row);
                match op {
                    "insert" => assert!(self.rows.insert(k, row.clone()).is_none(), "insert of a held row: {frame:?}"),
                    "update" => {
                        let old = self.rows.insert(k, row.clone());
                        assert_eq!(old.as_ref(), Some(&payload["oldRow"]), "update of a row not held as its oldRow");
                    }
                    "delete" => assert_eq!(self.rows.remove(&k).as_ref(), Some(row), "delete of a row not held"),
                    other => panic!("unknown op {other}"),
                }
            }
        }
    }

    pub fn apply_all(&mut self, frames: &[Frame]) {
        for f in frames {
            self.apply(f);
        }
    }
}
