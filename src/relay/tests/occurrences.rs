//! Rows of event tables (SpacetimeDB 2.x, v2/v3 connections): relayed as `<table>.event` frames to the
//! streams that may see them, logged for resume like changes, never in a snapshot; and, in a committed
//! transaction, with the database ids every replica gives them. Here `document` rows play the event
//! table's (the relay does not care which table: a row that arrives as an event is an event).

use serde_json::json;

use super::harness::{doc, Frame, Harness};
use crate::projection::{ChangeSink, TableEvents, Transaction, TransactionMeta};

const A: &str = r#"{"tenantId":"a","tables":["document"]}"#;

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(Frame::label).collect()
}

/// Event rows of `document` (id, tenant) in one transaction, as the session tells them.
fn events(h: &Harness, rows: &[(u64, &str)]) {
    let table = h.projection.read().unwrap().table("document").unwrap().def().clone();
    let rows = rows.iter().map(|(id, tenant)| doc(&h.schema, *id, tenant, "happened").into()).collect();
    let meta = TransactionMeta { commit: h.commit.get(), ..Default::default() };
    h.relay.on_transaction(&Transaction { meta, tables: Vec::new(), events: vec![TableEvents { table, rows }] });
}

#[test]
fn event_rows_reach_the_streams_that_may_see_them_and_are_never_held() {
    let h = Harness::new("");
    let a = h.open(A);
    let b = h.open(r#"{"tenantId":"b","tables":["document"]}"#);
    h.take_all();
    events(&h, &[(1, "a"), (2, "b"), (3, "a")]);
    let taken = h.take_all();
    assert_eq!(labels(taken.of(a)), ["document.event", "document.event"]);
    assert_eq!(labels(taken.of(b)), ["document.event"]);
    let payload = &taken.of(a)[0].data()["payload"];
    assert_eq!((&payload["row"]["id"], &payload["row"]["tenant_id"]), (&json!("1"), &json!("a")));
    assert!(payload.get("oldRow").is_none());
    // Not held: a new stream's snapshot has no rows of them, the projection neither.
    let c = h.open(A);
    let frames = h.take_all().of(c).to_vec();
    assert_eq!(labels(&frames), ["(retry)", "snapshot/begin", "snapshot/end"]);
    assert!(h.projection_rows("document").is_empty());
}

#[test]
fn a_stream_that_missed_event_rows_gets_them_on_resume() {
    let h = Harness::new("");
    let a = h.open(A);
    h.take_all();
    h.insert_doc(10, "a", "held");
    let last = h.take_all().of(a).last().unwrap().id().unwrap().to_string();
    events(&h, &[(1, "a")]);
    let resumed = h.open(&json!({ "tenantId": "a", "tables": ["document"], "lastEventId": last }).to_string());
    assert_eq!(labels(h.take_all().of(resumed)), ["(retry)", "document.event"]);
}

#[test]
fn event_rows_of_a_committed_transaction_have_the_same_ids_on_every_replica() {
    let replicas = [super::replicas::replica("00000000000a"), super::replicas::replica("00000000000b")];
    let streams: Vec<u32> = replicas.iter().map(|h| h.open(A)).collect();
    for h in &replicas {
        h.take_all();
        events(h, &[(1, "a"), (2, "a")]);
    }
    let frames: Vec<Vec<Frame>> = replicas.iter().zip(&streams).map(|(h, &s)| h.take_all().of(s).to_vec()).collect();
    assert_eq!(labels(&frames[0]), ["document.event", "document.event"]);
    assert!(frames[0][0].id().unwrap().starts_with('t'));
    assert_eq!(frames[0], frames[1]);
}
