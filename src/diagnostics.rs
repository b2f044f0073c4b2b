//! Diagnostics of the core, routed where the app asks. The parts write them with `tracing` macros
//! (`tracing::warn!(…)`); nothing is printed. A gateway connected with a log function collects the
//! records of its own work (its connect, its session task and the tasks that one starts, its calls, its
//! relay) through a [`Collector`], which hands them over in batches: the first record of a batch
//! announces it ([`LogOutput::ready`]), and whatever arrived until the consumer takes the batch
//! ([`LogBuffer::take`]) goes with it. Without a log function the records go nowhere (tracing's
//! default), at the cost of a level check.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};

/// Records waiting for the consumer beyond this are dropped (and counted in the next batch).
const MAX_BUFFERED: usize = 10_000;
/// Only the core's own records: the crates below it (websocket, HTTP) log through `tracing` too.
const TARGET_PREFIX: &str = "spacetime_gateway";

/// Parses a level name as the `logLevel` option spells it: `error`, `warn`, `info`, `debug`, `trace`.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    Some(match name {
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => return None,
    })
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Where batches go: told once per batch that one is waiting (from any thread; it must not block).
pub trait LogOutput: Send + Sync {
    fn ready(&self, buffer: Arc<LogBuffer>);
}

/// The records of one batch, until the consumer takes them.
#[derive(Default)]
pub struct LogBuffer {
    records: Mutex<Vec<Value>>,
    /// A batch is announced and not taken yet.
    announced: AtomicBool,
    dropped: AtomicU64,
}

impl LogBuffer {
    /// Adds a record; true if it starts a batch (announce it).
    fn push(&self, record: Value) -> bool {
        let mut records = self.records.lock().unwrap();
        if records.len() >= MAX_BUFFERED {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            records.push(record);
        }
        !self.announced.swap(true, Ordering::AcqRel)
    }

    /// Takes the batch as a JSON array of records `{ level, target, message, fields, time }` (time in ms
    /// since the epoch); the records that did not fit are reported by one more, a `warn`. A record added
    /// from here on starts the next batch (which may then be empty: `[]`).
    pub fn take(&self) -> String {
        self.announced.store(false, Ordering::Release);
        let mut records = std::mem::take(&mut *self.records.lock().unwrap());
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let mut fields = Map::new();
            fields.insert("dropped".into(), dropped.into());
            records.push(record(
                &Level::WARN,
                "spacetime_gateway::diagnostics",
                "log records dropped: the log function did not keep up".into(),
                fields,
            ));
        }
        Value::Array(records).to_string()
    }
}

fn record(level: &Level, target: &str, message: String, fields: Map<String, Value>) -> Value {
    let time = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    serde_json::json!({
        "level": level_name(level),
        "target": target,
        "message": message,
        "fields": fields,
        "time": time.floor(),
    })
}

/// A `tracing` subscriber that collects the core's events at `level` or more severe into batches for
/// `output`. Spans are not used by the core: they are accepted and ignored.
pub struct Collector {
    level: LevelFilter,
    buffer: Arc<LogBuffer>,
    output: Arc<dyn LogOutput>,
}

impl Collector {
    /// The dispatch of a gateway with a log function.
    pub fn dispatch(level: LevelFilter, output: Arc<dyn LogOutput>) -> Dispatch {
        Dispatch::new(Collector { level, buffer: Arc::default(), output })
    }
}

/// An event's message and fields.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::String(s)) => self.message = s,
            ("message", other) => self.message = other.to_string(),
            (name, value) => {
                self.fields.insert(name.to_string(), value);
            }
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

impl Subscriber for Collector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= self.level && metadata.target().starts_with(TARGET_PREFIX)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let record = record(metadata.level(), metadata.target(), fields.message, fields.fields);
        if self.buffer.push(record) {
            self.output.ready(self.buffer.clone());
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Announced(Mutex<Vec<Arc<LogBuffer>>>);

    impl LogOutput for Announced {
        fn ready(&self, buffer: Arc<LogBuffer>) {
            self.0.lock().unwrap().push(buffer);
        }
    }

    #[test]
    fn records_arrive_in_batches_with_level_target_and_fields() {
        let output = Arc::new(Announced::default());
        let dispatch = Collector::dispatch(LevelFilter::INFO, output.clone());
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::warn!(table = "document", attempt = 2u32, "a row does not decode");
            tracing::debug!("below the level: not collected");
            tracing::info!(ok = true, "second");
        });
        let announced = std::mem::take(&mut *output.0.lock().unwrap());
        assert_eq!(announced.len(), 1, "one announcement per batch");
        let batch: Vec<Value> = serde_json::from_str(&announced[0].take()).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0]["level"], "warn");
        assert_eq!(batch[0]["target"], "spacetime_gateway::diagnostics::tests");
        assert_eq!(batch[0]["message"], "a row does not decode");
        assert_eq!(batch[0]["fields"], serde_json::json!({ "table": "document", "attempt": 2 }));
        assert!(batch[0]["time"].as_f64().unwrap() > 1.6e12);
        assert_eq!((&batch[1]["level"], &batch[1]["message"]), (&"info".into(), &"second".into()));

        // Taken: the next record starts a new batch.
        tracing::dispatcher::with_default(&dispatch, || tracing::error!("again"));
        assert_eq!(output.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_consumer_that_does_not_keep_up_loses_records_and_is_told_how_many() {
        let output = Arc::new(Announced::default());
        let dispatch = Collector::dispatch(LevelFilter::TRACE, output.clone());
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..MAX_BUFFERED + 5 {
                tracing::trace!(i, "busy");
            }
        });
        let batch: Vec<Value> = serde_json::from_str(&output.0.lock().unwrap()[0].take()).unwrap();
        assert_eq!(batch.len(), MAX_BUFFERED + 1);
        assert_eq!(batch[MAX_BUFFERED]["fields"]["dropped"], 5);
    }

    #[test]
    fn level_names() {
        assert_eq!(parse_level("warn"), Some(LevelFilter::WARN));
        assert_eq!(parse_level("WARN"), None);
        assert_eq!(parse_level("off"), None);
    }
}
