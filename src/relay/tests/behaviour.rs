//! The relay's behaviour, scenario by scenario.

use std::time::{Duration, Instant};

use super::harness::{doc, id_k, tenant_row, Client, Frame, Harness};
use crate::error::ErrorCode;
use crate::projection::{Row, RowChange};
use crate::relay::event::{Event, View};
use crate::relay::ids::{event_k, snapshot_complete_k, snapshot_started_k, IdPrefix};
use crate::relay::options::parse_selector;
use crate::relay::snapshot::Voice;

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(Frame::label).collect()
}

#[test]
fn a_stream_starts_with_retry_and_a_snapshot_then_gets_live_events() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "one");
    h.insert_doc(2, "b", "two");
    h.tx(&[("tenant", vec![], vec![tenant_row(&h.schema, "a", "A")])]);
    let s = h.open(r#"{"tenantId":"a","tables":["document","tenant"],"retryMs":1500}"#);
    let first = h.take_all();
    let frames = first.of(s);
    assert_eq!(frames[0], Frame::Retry(1500));
    assert_eq!(labels(&frames[1..]), ["snapshot/begin", "snapshot/rows", "snapshot/rows", "snapshot/end"]);
    let mut tables: Vec<String> = serde_json::from_value(frames[1].data()["payload"]["tables"].clone()).unwrap();
    tables.sort();
    assert_eq!(tables, ["document", "tenant"]);
    // The snapshot is at position 3 (three events so far): begin 3P+1, end 3P+2, rows without ids.
    assert_eq!(h.relay.head(), 3);
    assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(3));
    assert_eq!(frames[2].id(), None);
    assert_eq!(id_k(frames[4].id().unwrap()), snapshot_complete_k(3));
    assert_eq!(frames[1].data()["tenant_id"], "a");

    let mut client = Client::default();
    client.apply_all(frames);
    assert_eq!(client.rows.len(), 2, "document 1 and tenant a: {:?}", client.rows);

    h.insert_doc(3, "a", "three");
    h.insert_doc(4, "b", "four");
    h.update_doc(1, "a", "one v2");
    let next = h.take_all();
    assert_eq!(labels(next.of(s)), ["document.insert", "document.update"]);
    let insert = &next.of(s)[0];
    assert_eq!(id_k(insert.id().unwrap()), event_k(4));
    assert_eq!(insert.data()["tenant_id"], "a");
    assert_eq!(insert.data()["schema_version"], 1);
    assert_eq!(insert.data()["payload"]["row"]["title"], "three");
    assert_eq!(next.of(s)[1].data()["payload"]["oldRow"]["title"], "one");
    client.apply_all(next.of(s));
    assert_eq!(client.rows.len(), 3);
    h.delete_doc(3);
    h.delete_doc(4);
    let last = h.take_all();
    assert_eq!(labels(last.of(s)), ["document.delete"]);
    client.apply_all(last.of(s));
    assert_eq!(client.rows.len(), 2);
}

#[test]
fn a_row_moving_between_tenants_is_a_delete_for_one_and_an_insert_for_the_other() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "x");
    let (a, b, all) = (h.open(r#"{"tenantId":"a"}"#), h.open(r#"{"tenantId":"b"}"#), h.open(r#"{"allTenants":true}"#));
    h.take_all();
    h.update_doc(1, "b", "x");
    let t = h.take_all();
    assert_eq!(labels(t.of(a)), ["document.delete"]);
    assert_eq!(t.of(a)[0].data()["payload"]["row"]["tenant_id"], "a");
    assert_eq!(t.of(a)[0].data()["tenant_id"], "a");
    assert_eq!(labels(t.of(b)), ["document.insert"]);
    assert_eq!(t.of(b)[0].data()["tenant_id"], "b");
    assert_eq!(labels(t.of(all)), ["document.update"]);
    // One event, one position, whatever the view (the id prefixes differ: one per selection).
    assert_eq!(id_k(t.of(a)[0].id().unwrap()), id_k(t.of(b)[0].id().unwrap()));
}

#[test]
fn where_filters_apply_to_old_and_new_rows() {
    let h = Harness::new("");
    let s = h.open(r#"{"tenantId":"a","where":{"document":{"title":"keep"}}}"#);
    h.take_all();
    h.insert_doc(1, "a", "keep");
    h.insert_doc(2, "a", "drop");
    h.update_doc(2, "a", "keep");
    h.update_doc(1, "a", "drop");
    let t = h.take_all();
    assert_eq!(labels(t.of(s)), ["document.insert", "document.insert", "document.delete"]);
    assert_eq!(t.of(s)[2].data()["payload"]["row"]["title"], "keep");
}

#[test]
fn event_frames_are_encoded_once_per_view_and_shared() {
    let h = Harness::new("");
    let streams: Vec<u32> = (0..3).map(|_| h.open(r#"{"tenantId":"a"}"#)).collect();
    h.take_all();
    h.insert_doc(1, "a", "x");
    let taken = h.take_all();
    assert!(streams.windows(2).all(|w| taken.of(w[0]) == taken.of(w[1])));

    let table = h.relay.tables().get("document").unwrap().clone();
    let change = RowChange::Insert { row: Row::from(&doc(&h.schema, 9, "a", "x")[..]) };
    let event = Event::new(7, None, table, &change);
    let prefix = IdPrefix::new(h.relay.epoch(), 1);
    let voice = |prefix, schema_version, act_json| Voice { prefix, tenant_json: b"\"a\"", schema_version, act_json };
    let (first, again) =
        (event.frame(View::Insert, &voice(&prefix, 1, None)), event.frame(View::Insert, &voice(&prefix, 1, None)));
    assert_eq!(first.as_ptr(), again.as_ptr(), "one encoding, shared");
    let v2 = voice(&prefix, 2, None);
    assert_ne!(event.frame(View::Insert, &v2).as_ptr(), first.as_ptr(), "another schema version, another frame");
    let other_selection = IdPrefix::new(h.relay.epoch(), 2);
    let other = voice(&other_selection, 1, None);
    assert_ne!(event.frame(View::Insert, &other).as_ptr(), first.as_ptr(), "ids differ per selection");
    let acted = voice(&prefix, 1, Some(&br#"{"sub":"admin"}"#[..]));
    assert_ne!(event.frame(View::Insert, &acted).as_ptr(), first.as_ptr(), "an acting party, another frame");
}

#[test]
fn resume_continues_exactly_after_the_last_id() {
    let h = Harness::new("");
    let s = h.open(r#"{"tenantId":"a"}"#);
    let mut client = Client::default();
    client.apply_all(h.take_all().of(s));
    h.insert_doc(1, "a", "x");
    client.apply_all(h.take_all().of(s));
    let last = client.last_id.clone().unwrap();
    assert!(h.relay.close_stream(s));
    // While away: one more for a, one for b.
    h.insert_doc(2, "a", "y");
    h.insert_doc(3, "b", "z");
    let r = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{last}"}}"#));
    let t = h.take_all();
    assert_eq!(labels(t.of(r)), ["(retry)", "document.insert"]);
    client.apply_all(t.of(r));
    assert_eq!(client.rows.len(), 2);
    // Resuming from a completed snapshot's end id continues after its position too.
    let fresh = h.open(r#"{"tenantId":"a"}"#);
    let end_id = h.take_all().of(fresh).last().unwrap().id().unwrap().to_string();
    assert_eq!(id_k(&end_id), snapshot_complete_k(3));
    h.insert_doc(4, "a", "w");
    let again = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{end_id}"}}"#));
    assert_eq!(labels(h.take_all().of(again)), ["(retry)", "document.insert"]);
}

#[test]
fn unusable_last_event_ids_resync_with_a_reason_then_snapshot() {
    let h = Harness::new(r#""logCapacity":2"#);
    for id in 1..=4 {
        h.insert_doc(id, "a", "x");
    }
    // The id prefix of this selection, from a probe stream.
    let probe = h.open(r#"{"tenantId":"a"}"#);
    let probe_id = h.take_all().of(probe)[1].id().unwrap().to_string();
    h.relay.close_stream(probe);
    let epoch = probe_id.rsplit_once('-').unwrap().0.to_string();
    let other_selection = {
        let s = h.open(r#"{"tenantId":"a","where":{"document":{"title":"x"}}}"#);
        let id = h.take_all().of(s)[1].id().unwrap().to_string();
        h.relay.close_stream(s);
        id.rsplit_once('-').unwrap().0.to_string()
    };
    let cases = [
        (format!("{epoch}-3"), "resync/gap"), // event 1: evicted (log holds 3 and 4)
        (format!("{epoch}-{}", 3 * 9), "resync/unknown_event_id"), // from the future
        (format!("0123456789ab{}-3", &epoch[12..]), "resync/unknown_event_id"), // another process
        ("garbage".to_string(), "resync/unknown_event_id"),
        (format!("{other_selection}-12"), "resync/selection_changed"),
    ];
    for (last, reason) in cases {
        let s = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{last}"}}"#));
        let frames = h.take_all().of(s).to_vec();
        assert_eq!(labels(&frames)[1..3], [reason.to_string(), "snapshot/begin".to_string()], "{last}");
        // The resync frame carries the snapshot's start id; the begin frame none.
        assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(4));
        assert_eq!(frames[2].id(), None);
        let mut client = Client::default();
        client.apply_all(&frames);
        assert_eq!(client.rows.len(), 4);
    }
    // Event 2 is the oldest the log can still continue after (3 and 4 are held).
    let s = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{epoch}-6"}}"#));
    assert_eq!(labels(h.take_all().of(s)), ["(retry)", "document.insert", "document.insert"]);

    // A reconnect in the middle of the snapshot at the head: a fresh snapshot, whose ids must be above
    // the id the client has (3·4+1), so a barrier moves the position to 5 first.
    let s = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{epoch}-{}"}}"#, snapshot_started_k(4)));
    let frames = h.take_all().of(s).to_vec();
    assert_eq!(labels(&frames)[1..3], ["resync/snapshot_incomplete", "snapshot/begin"]);
    assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(5));
    assert_eq!(h.relay.head(), 5);
    // The barrier reaches no stream: resuming after event 4 replays nothing.
    let s = h.open(&format!(r#"{{"tenantId":"a","lastEventId":"{epoch}-{}"}}"#, event_k(4)));
    assert_eq!(labels(h.take_all().of(s)), ["(retry)"]);
}

#[test]
fn a_stalled_stream_overflows_to_resync_without_growing_or_delaying_others() {
    let h = Harness::new(r#""maxQueueEvents":3"#);
    let (slow, fast) = (h.open(r#"{"tenantId":"a"}"#), h.open(r#"{"tenantId":"a","maxQueueEvents":100}"#));
    h.take_all();
    h.relay.pause(slow);
    for id in 1..=3 {
        h.insert_doc(id, "a", "x");
    }
    assert_eq!(h.relay.queued(slow).unwrap().0, 3);
    let t = h.take_all();
    assert_eq!(t.of(fast).len(), 3);
    assert!(t.of(slow).is_empty(), "a paused stream is not taken");
    for id in 4..=50 {
        h.insert_doc(id, "a", "x");
    }
    // Overflowed: the backlog is gone and nothing more is queued for it.
    assert_eq!(h.relay.queued(slow).unwrap(), (0, 0));
    assert_eq!(h.take_all().of(fast).len(), 47);
    h.relay.resume(slow);
    let frames = h.take_all().of(slow).to_vec();
    assert_eq!(labels(&frames)[..2], ["resync/slow_client", "snapshot/begin"]);
    let mut client = Client::default();
    client.apply_all(&frames);
    assert_eq!(client.rows.len(), 50);
    assert_eq!(id_k(client.last_id.as_ref().unwrap()), snapshot_complete_k(50));
    h.insert_doc(51, "a", "x");
    assert_eq!(labels(h.take_all().of(slow)), ["document.insert"]);
}

#[test]
fn a_resume_whose_missed_events_overflow_the_queue_resyncs() {
    let h = Harness::new("");
    let s = h.open(r#"{"tenantId":"a"}"#);
    let last = h.take_all().of(s).last().unwrap().id().unwrap().to_string();
    assert!(h.relay.close_stream(s));
    for id in 1..=5 {
        h.insert_doc(id, "a", "x");
    }
    let r = h.open(&format!(r#"{{"tenantId":"a","maxQueueEvents":3,"lastEventId":"{last}"}}"#));
    let frames = h.take_all().of(r).to_vec();
    assert_eq!(labels(&frames)[..3], ["(retry)", "resync/slow_client", "snapshot/begin"]);
    let mut client = Client::default();
    client.apply_all(&frames);
    assert_eq!(client.rows.len(), 5);
}

#[test]
fn the_close_policy_ends_an_overflowing_stream_with_a_reason() {
    let h = Harness::new("");
    let s = h.open(r#"{"tenantId":"a","maxQueueEvents":2,"overflow":"close"}"#);
    h.take_all();
    h.relay.pause(s);
    for id in 1..=3 {
        h.insert_doc(id, "a", "x");
    }
    // Ending streams are taken even while paused: the close is delivered and the stream ends.
    let t = h.take_all();
    assert_eq!(labels(t.of(s)), ["closed/slow_client"]);
    assert_eq!(t.ended, vec![s]);
    assert_eq!(h.relay.stream_count(), 0);
}

#[test]
fn a_byte_limit_counts_bytes_but_always_admits_one_frame() {
    let h = Harness::new("");
    let s = h.open(r#"{"tenantId":"a","maxQueueBytes":1024}"#);
    h.take_all();
    h.relay.pause(s);
    h.insert_doc(1, "a", &"x".repeat(2000));
    assert_eq!(h.relay.queued(s).unwrap().0, 1);
    h.insert_doc(2, "a", "y");
    assert_eq!(h.relay.queued(s).unwrap(), (0, 0), "the second frame overflowed the bytes");
}

#[test]
fn revoke_ends_matching_streams_with_a_revoked_frame() {
    let h = Harness::new("");
    let s1 = h.open(r#"{"tenantId":"a","principal":{"sub":"u1","sid":"s1"}}"#);
    let s2 = h.open(r#"{"tenantId":"a","principal":{"sub":"u1","sid":"s2"}}"#);
    let s3 = h.open(r#"{"tenantId":"b","principal":{"sub":"u2"}}"#);
    h.take_all();
    h.relay.pause(s2);
    h.insert_doc(1, "a", "secret");
    assert_eq!(h.relay.revoke(&parse_selector(r#"{"sid":"s2"}"#).unwrap(), "logged out").unwrap(), 1);
    let t = h.take_all();
    assert_eq!(labels(t.of(s2)), ["revoked/logged out"], "the backlog is dropped, the paused stream still ends");
    assert_eq!(t.ended, vec![s2]);
    assert_eq!(labels(t.of(s1)), ["document.insert"]);
    assert_eq!(h.relay.revoke(&parse_selector(r#"{"sub":"u1"}"#).unwrap(), "revoked").unwrap(), 1);
    assert_eq!(h.relay.revoke(&parse_selector(r#"{"tenantId":"b"}"#).unwrap(), "revoked").unwrap(), 1);
    assert_eq!(h.relay.revoke(&parse_selector(r#"{"tenantId":"b"}"#).unwrap(), "revoked").unwrap(), 0);
    let t = h.take_all();
    let mut ended = t.ended.clone();
    ended.sort();
    assert_eq!(ended, vec![s1, s3]);
    assert_eq!(h.relay.stream_count(), 0);
}

#[test]
fn narrow_restricts_a_live_stream_and_resends_what_it_may_still_see() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "x");
    h.insert_doc(2, "a", "y");
    h.tx(&[("tenant", vec![], vec![tenant_row(&h.schema, "a", "A")])]);
    let s = h.open(r#"{"tenantId":"a","tables":["document","tenant"],"principal":{"sub":"u"}}"#);
    let mut client = Client::default();
    client.apply_all(h.take_all().of(s));
    assert_eq!(client.rows.len(), 3);
    let by_sub = parse_selector(r#"{"sub":"u"}"#).unwrap();
    let narrowing =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(r#"{"document":{"title":"x"}}"#).unwrap();
    assert_eq!(h.relay.narrow(&by_sub, Some(&["document".to_string()]), Some(&narrowing)).unwrap(), 1);
    let frames = h.take_all().of(s).to_vec();
    assert_eq!(labels(&frames)[..2], ["resync/narrowed", "snapshot/begin"]);
    client.apply_all(&frames);
    assert_eq!(client.rows.keys().map(|(t, id)| format!("{t}:{id}")).collect::<Vec<_>>(), ["document:\"1\""]);
    // Live events follow the narrowed selection.
    h.insert_doc(3, "a", "y");
    h.insert_doc(4, "a", "x");
    assert_eq!(labels(h.take_all().of(s)), ["document.insert"]);

    // Widening is refused, and nothing changes.
    for (tables, where_) in [(Some(vec!["tenant".to_string()]), None), (None, Some(r#"{"document":{"title":"y"}}"#))] {
        let where_ = where_.map(|w| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(w).unwrap());
        let err = h.relay.narrow(&by_sub, tables.as_deref(), where_.as_ref()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }
    assert!(h.take_all().of(s).is_empty());
}

#[test]
fn heartbeats_go_to_idle_streams_only() {
    let h = Harness::new("");
    let (idle, busy) =
        (h.open(r#"{"tenantId":"a","heartbeatMs":100}"#), h.open(r#"{"tenantId":"b","heartbeatMs":100}"#));
    h.take_all();
    let later = Instant::now() + Duration::from_millis(150);
    h.insert_doc(1, "b", "x");
    h.relay.heartbeat(later);
    let t = h.take_all();
    assert_eq!(labels(t.of(idle)), ["(heartbeat)"]);
    assert_eq!(labels(t.of(busy)), ["document.insert"]);
    h.relay.heartbeat(Instant::now());
    assert!(h.take_all().frames.is_empty(), "not due again right after");
}

#[test]
fn wakes_are_coalesced_until_the_next_take() {
    let h = Harness::new("");
    let _ = (0..10).map(|_| h.open(r#"{"tenantId":"a"}"#)).collect::<Vec<_>>();
    h.take_all();
    let before = h.wakes.0.load(std::sync::atomic::Ordering::SeqCst);
    for id in 1..=20 {
        h.insert_doc(id, "a", "x");
    }
    assert_eq!(h.wakes.0.load(std::sync::atomic::Ordering::SeqCst), before + 1, "one wake for 20 events × 10 streams");
    let out = h.relay.take();
    assert_eq!(out.read().0.len(), 10, "one slice per stream in one take");
}

#[test]
fn close_ends_every_stream_and_refuses_new_ones() {
    let h = Harness::new("");
    let (a, b) = (h.open(r#"{"tenantId":"a"}"#), h.open(r#"{"tenantId":"b"}"#));
    h.take_all();
    h.relay.pause(b);
    h.relay.close();
    let mut ended = h.take_all().ended;
    ended.sort();
    assert_eq!(ended, vec![a, b]);
    assert_eq!(h.try_open(r#"{"tenantId":"a"}"#).unwrap_err().code, ErrorCode::Closed);
    h.insert_doc(1, "a", "x");
    assert_eq!(h.relay.head(), 0, "a closed relay logs nothing");
}

#[test]
fn close_with_farewell_tells_every_stream_to_reconnect_and_keeps_its_resume_position() {
    let h = Harness::new("");
    let (a, b) = (h.open(r#"{"tenantId":"a"}"#), h.open(r#"{"tenantId":"b"}"#));
    h.take_all();
    h.relay.pause(b);
    h.insert_doc(1, "b", "queued for a paused client");
    h.relay.close_with_farewell("shutdown", 250);
    let taken = h.take_all();
    let mut ended = taken.ended.clone();
    ended.sort();
    assert_eq!(ended, vec![a, b], "paused streams end too");
    for id in [a, b] {
        let frames = taken.of(id);
        assert_eq!(frames.len(), 2, "the backlog is dropped: {frames:?}");
        assert_eq!(frames[0], Frame::Retry(250));
        assert_eq!(frames[1].label(), "closed/shutdown");
        assert_eq!(frames[1].id(), None, "no id: Last-Event-ID stays the last real event");
    }
    assert_eq!(h.try_open(r#"{"tenantId":"a"}"#).unwrap_err().code, ErrorCode::Closed);
}

#[test]
fn bad_selections_are_invalid_arguments() {
    let h = Harness::new("");
    let cases = [
        (r#"{}"#, "tenantId is required"),
        (r#"{"tenantId":"a","allTenants":true}"#, "not both"),
        (r#"{"tenantId":{"x":1}}"#, "tenantId must be a string"),
        // NaN and other values JSON cannot carry arrive marked (lib/values.js): never the tenant "NaN".
        (
            r#"{"tenantId":{"\u0000float":"NaN"}}"#,
            "tenantId must be a string (or an integer for an integer tenant column), got NaN",
        ),
        (r#"{"tenantId":{"\u0000bytes":"6e616e"}}"#, "got a Uint8Array of 3 bytes"),
        (r#"{"tenantId":{"\u0000bigint":"10"},"tables":["document"]}"#, "tenantId does not fit table 'document'"),
        (
            r#"{"tenantId":"a","where":{"document":{"title":{"\u0000float":"-Infinity"}}}}"#,
            "got -Infinity; NaN and the infinities are accepted only for f32 and f64",
        ),
        (r#"{"tenantId":"a","tables":["nope"]}"#, "no table named 'nope'"),
        (r#"{"tenantId":"a","tables":[]}"#, "at least one table"),
        (r#"{"tenantId":"a","tables":["document"],"where":{"audit_event":{"action":"x"}}}"#, "not among the selected"),
        (r#"{"tenantId":"a","where":{"document":{"nope":1}}}"#, "has no column 'nope'"),
        (r#"{"tenantId":"a","where":{"document":{"version":"x"}}}"#, "version"),
        (r#"{"tenantId":5,"tables":["document"]}"#, "tenantId does not fit table 'document'"),
    ];
    for (options, message) in cases {
        let err = h.try_open(options).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{options}");
        assert!(err.message.contains(message), "{options}: {}", err.message);
    }
    // A table without a tenant column that is not shared: only for allTenants streams.
    let h = Harness::new(r#""tenantColumn":{"document":"tenant_id"}"#);
    assert!(h
        .try_open(r#"{"tenantId":"a","tables":["audit_event"]}"#)
        .unwrap_err()
        .message
        .contains("no tenant column"));
    assert!(h.try_open(r#"{"allTenants":true,"tables":["audit_event"]}"#).is_ok());
    let _ = doc(&h.schema, 1, "a", "x");
}
