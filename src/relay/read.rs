//! `gateway.snapshot()`: a view's rows for rendering a page on the server, with the id its page's stream
//! resumes after, as the JSON the JS surface parses once.
//!
//! The id is the one a snapshot `end` frame at the read's position would carry (`3P+2`, "complete at P"):
//! a stream opened with it and the same selection continues with the events after the read — no second
//! snapshot, no gap, no repeat; with another selection its fingerprint differs and the stream resyncs.

use super::relay::ViewRows;
use super::snapshot::write_rows;
use crate::codec::value::write_json_string;

/// `{"rows":{"<table>":[row, …], …},"lastEventId":"…"}`: every selected table, in the relay's order, rows
/// written as `rows()` and snapshot frames write them (docs/value-mapping.md).
pub fn view_json(view: &ViewRows) -> String {
    let mut out = Vec::with_capacity(64 + view.tables.iter().map(|(_, rows)| rows.len() * 128).sum::<usize>());
    out.extend_from_slice(b"{\"rows\":{");
    for (i, (table, rows)) in view.tables.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(&mut out, table.name());
        out.extend_from_slice(b":[");
        write_rows(&mut out, table, rows, &view.selection, usize::MAX, usize::MAX);
        out.push(b']');
    }
    out.extend_from_slice(b"},\"lastEventId\":");
    write_json_string(&mut out, &view.last_event_id);
    out.push(b'}');
    // Only valid UTF-8 is ever written (JSON from the codec and escaped strings).
    String::from_utf8(out).expect("row JSON is UTF-8")
}
