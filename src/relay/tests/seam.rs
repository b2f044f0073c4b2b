//! The seam between a server-rendered page and its stream: `Relay::read` (`gateway.snapshot()`) gives the
//! rows and an id; a stream of the same selection opened with that id continues exactly after them.

use serde_json::{json, Value};

use super::harness::{id_k, Client, Frame, Harness};
use crate::relay::ids::{snapshot_complete_k, snapshot_started_k};
use crate::relay::options::parse_view_options;
use crate::relay::read::view_json;

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(Frame::label).collect()
}

/// `gateway.snapshot(options)` as the page sees it: the parsed JSON.
pub(super) fn render(h: &Harness, options: &str) -> Value {
    let options = parse_view_options(options).unwrap();
    let principal = options.principal().unwrap();
    serde_json::from_str(&view_json(&h.relay.read(&options.selection().unwrap(), &principal).unwrap())).unwrap()
}

/// A client holding a rendered page's rows.
fn page_client(page: &Value) -> Client {
    let mut client = Client::default();
    for row in page["rows"]["document"].as_array().unwrap() {
        client.rows.insert(("document".to_string(), row["id"].to_string()), row.clone());
    }
    client
}

fn open_after(h: &Harness, options: &str, last_event_id: &str) -> u32 {
    let mut options: Value = serde_json::from_str(options).unwrap();
    options["lastEventId"] = json!(last_event_id);
    h.open(&options.to_string())
}

const A: &str = r#"{"tenantId":"a","tables":["document"]}"#;

#[test]
fn the_page_stream_continues_exactly_after_the_rendered_rows() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "one");
    h.insert_doc(2, "b", "other tenant");
    let page = render(&h, A);
    assert_eq!(page["rows"]["document"].as_array().unwrap().len(), 1);
    assert_eq!(page["rows"]["document"][0]["title"], "one");
    let id = page["lastEventId"].as_str().unwrap();
    assert_eq!(id_k(id), snapshot_complete_k(h.relay.head()), "the id of a snapshot complete at the read");
    // Writes between the render and the connect, of both tenants.
    h.insert_doc(3, "a", "after render");
    h.insert_doc(4, "b", "not ours");
    h.update_doc(1, "a", "one v2");
    let s = open_after(&h, A, id);
    let frames = h.take_all().of(s).to_vec();
    assert_eq!(labels(&frames), ["(retry)", "document.insert", "document.update"]);
    let mut client = page_client(&page);
    client.apply_all(&frames);
    // Then live, as any stream.
    h.delete_doc(3);
    client.apply_all(h.take_all().of(s));
    let titles: Vec<&Value> = client.rows.values().map(|r| &r["title"]).collect();
    assert_eq!(titles, [&json!("one v2")]);
}

#[test]
fn rendered_rows_are_the_rows_a_stream_snapshot_carries() {
    let h = Harness::new("");
    for id in 1..=300 {
        h.insert_doc(id, if id % 3 == 0 { "b" } else { "a" }, &format!("t{}", id % 2));
    }
    let options = r#"{"tenantId":"a","where":{"document":{"title":"t1"}}}"#;
    let page = render(&h, options);
    let s = h.open(options);
    let frames = h.take_all().of(s).to_vec();
    // Every table the stream selects, empty ones too.
    let mut tables: Vec<&str> = page["rows"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut selected: Vec<&str> =
        frames[1].data()["payload"]["tables"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    tables.sort();
    selected.sort();
    assert_eq!(tables, selected);
    assert!(tables.len() > 2 && page["rows"]["tenant"] == json!([]));
    let mut streamed = Client::default();
    streamed.apply_all(&frames);
    assert_eq!(page_client(&page).rows, streamed.rows);
    assert_eq!(streamed.rows.len(), 100);
}

#[test]
fn another_selection_or_an_id_the_log_no_longer_covers_resyncs() {
    let h = Harness::new(r#""logCapacity":2"#);
    h.insert_doc(1, "a", "x");
    let page = render(&h, A);
    let id = page["lastEventId"].as_str().unwrap();
    for (options, reason) in [
        (r#"{"tenantId":"b","tables":["document"]}"#, "resync/selection_changed"),
        (r#"{"tenantId":"a","tables":["document"],"where":{"document":{"title":"x"}}}"#, "resync/selection_changed"),
        (r#"{"tenantId":"a"}"#, "resync/selection_changed"),
    ] {
        let s = open_after(&h, options, id);
        let frames = h.take_all().of(s).to_vec();
        assert_eq!(labels(&frames)[1..3], [reason.to_string(), "snapshot/begin".to_string()], "{options}");
        // The fresh snapshot's ids are above the page's id (a barrier moved the position on).
        assert!(id_k(frames[1].id().unwrap()) > id_k(id), "{options}");
    }
    // Three writes: the log (2 events) no longer holds every change since the render.
    for n in 2..=4 {
        h.insert_doc(n, "a", "later");
    }
    let s = open_after(&h, A, id);
    let frames = h.take_all().of(s).to_vec();
    assert_eq!(labels(&frames)[1..3], ["resync/gap", "snapshot/begin"]);
    assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(h.relay.head()));
    let mut client = Client::default();
    client.apply_all(&frames);
    assert_eq!(client.rows.len(), 4);
}

#[test]
fn a_read_of_a_closed_relay_is_closed() {
    let h = Harness::new("");
    h.relay.close();
    let options = parse_view_options(A).unwrap();
    let err = h.relay.read(&options.selection().unwrap(), &Default::default()).err().unwrap();
    assert_eq!(err.code, crate::error::ErrorCode::Closed);
}
