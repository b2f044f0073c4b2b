//! Database ids across replicas: two relays fed the same committed transactions (two gateway processes
//! subscribed to one database) give their events the same ids, so a client resumes on either — exactly,
//! or with `resync` when the other cannot place its id (it started later, or lost its connection since).

use serde_json::{json, Value};

use super::harness::{doc, Client, Frame, Harness};
use crate::projection::{ChangeSink, Commit};
use crate::relay::ids::Epoch;

const A: &str = r#"{"tenantId":"a","tables":["document"]}"#;

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(Frame::label).collect()
}

/// A replica: its own process (epoch), committed transactions.
pub(super) fn replica(epoch: &str) -> Harness {
    let h = Harness::new("");
    let h = Harness { relay: h.relay.with_epoch(Epoch::fixed(epoch)), ..h };
    h.commit.set(Some(Commit::default()));
    h
}

/// Runs one transaction on every replica, as each of their connections receives it (v1: with the
/// transaction's timestamp).
fn on_all(replicas: &[&Harness], micros: i64, tx: impl Fn(&Harness)) {
    for h in replicas {
        h.commit.set(Some(Commit { shared_timestamp_micros: Some(micros) }));
        tx(h);
    }
}

fn open_after(h: &Harness, last_event_id: &str) -> u32 {
    let mut options: Value = serde_json::from_str(A).unwrap();
    options["lastEventId"] = json!(last_event_id);
    h.open(&options.to_string())
}

/// The documents of tenant `a` a replica's projection holds, as a client keys them.
fn tenant_rows(h: &Harness) -> Vec<Value> {
    let mut rows: Vec<Value> = h.projection_rows("document").into_iter().filter(|r| r["tenant_id"] == "a").collect();
    rows.sort_by_key(|r| r["id"].to_string());
    rows
}

fn client_rows(client: &Client) -> Vec<Value> {
    client.rows.values().cloned().collect()
}

#[test]
fn a_client_resumes_on_another_replica_exactly_where_it_left() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    on_all(&[&a, &b], 1, |h| h.insert_doc(1, "a", "one"));
    let s = a.open(A);
    let mut client = Client::default();
    client.apply_all(a.take_all().of(s));
    on_all(&[&a, &b], 2, |h| h.insert_doc(2, "a", "two"));
    on_all(&[&a, &b], 3, |h| h.update_doc(1, "a", "one v2"));
    let frames = a.take_all().of(s).to_vec();
    assert_eq!(labels(&frames), ["document.insert", "document.update"]);
    client.apply_all(&frames);
    let last = client.last_id.clone().unwrap();
    assert!(last.starts_with('t'), "an event of a committed transaction has a database id: {last}");
    // Replica A dies; the writes go on; the client reconnects to B with its last id.
    a.relay.close();
    on_all(&[&b], 4, |h| h.insert_doc(3, "a", "three"));
    on_all(&[&b], 5, |h| h.delete_doc(2));
    let s = open_after(&b, &last);
    let frames = b.take_all().of(s).to_vec();
    assert_eq!(labels(&frames), ["(retry)", "document.insert", "document.delete"], "no resync, no snapshot");
    client.apply_all(&frames);
    assert_eq!(client_rows(&client), tenant_rows(&b));
}

#[test]
fn both_replicas_write_the_same_ids_and_frames() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    let (sa, sb) = (a.open(A), b.open(A));
    let (fa, fb) = (a.take_all(), b.take_all());
    // The snapshots were taken at local positions (nothing committed yet): their ids are local.
    assert_ne!(fa.of(sa).last().unwrap().id(), fb.of(sb).last().unwrap().id());
    for (micros, title) in [(1, "one"), (2, "two"), (3, "three")] {
        on_all(&[&a, &b], micros, |h| h.insert_doc(micros as u64, "a", title));
    }
    let (fa, fb) = (a.take_all().of(sa).to_vec(), b.take_all().of(sb).to_vec());
    assert_eq!(fa.len(), 3);
    assert_eq!(fa, fb, "ids and payloads, frame by frame");
}

#[test]
fn the_rows_of_a_transaction_come_in_the_same_order_whatever_order_the_server_wrote() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    let (sa, sb) = (a.open(A), b.open(A));
    a.take_all();
    b.take_all();
    let rows: Vec<Vec<u8>> = (1..=6).map(|id| doc(&a.schema, id, "a", &format!("doc {id}"))).collect();
    let reversed: Vec<Vec<u8>> = rows.iter().rev().cloned().collect();
    on_all(&[&a], 1, |h| h.tx(&[("document", vec![], rows.clone())]));
    on_all(&[&b], 1, |h| h.tx(&[("document", vec![], reversed.clone())]));
    let (fa, fb) = (a.take_all().of(sa).to_vec(), b.take_all().of(sb).to_vec());
    assert_eq!(fa.len(), 6);
    assert_eq!(fa, fb);
    // So a client cut off in the middle of the transaction resumes on the other replica after exactly
    // the rows it has.
    let mut on_a = Client::default();
    on_a.apply_all(&fa[..2]);
    let s = open_after(&b, on_a.last_id.as_ref().unwrap());
    let rest = b.take_all().of(s).to_vec();
    assert_eq!(labels(&rest), ["(retry)", "document.insert", "document.insert", "document.insert", "document.insert"]);
    on_a.apply_all(&rest);
    assert_eq!(client_rows(&on_a), tenant_rows(&b));
}

#[test]
fn a_replica_that_started_later_resyncs_positions_it_never_saw() {
    let a = replica("00000000000a");
    let s = a.open(A);
    a.take_all();
    on_all(&[&a], 1, |h| h.insert_doc(1, "a", "one"));
    let early = a.take_all().of(s).last().unwrap().id().unwrap().to_string();
    // B connects now: its initial rows are a subscription change, not a transaction.
    let b = replica("00000000000b");
    b.commit.set(None);
    b.insert_doc(1, "a", "one");
    let mut ids = Vec::new();
    for micros in [2, 3] {
        on_all(&[&a, &b], micros, |h| h.insert_doc(micros as u64, "a", "later"));
        ids.push(a.take_all().of(s).last().unwrap().id().unwrap().to_string());
    }
    for (id, why) in [(&early, "before B started"), (&ids[0], "B's first: B cannot know what came before it")] {
        let resumed = open_after(&b, id);
        assert_eq!(labels(&b.take_all().of(resumed)[..2]), ["(retry)", "resync/unknown_event_id"], "{why}");
    }
    let resumed = open_after(&b, &ids[1]);
    assert_eq!(labels(b.take_all().of(resumed)), ["(retry)"], "B saw this transaction and the one before: it resumes");
}

#[test]
fn a_replica_does_not_resume_across_its_own_gap() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    let s = a.open(A);
    a.take_all();
    on_all(&[&a, &b], 1, |h| h.insert_doc(1, "a", "one"));
    let before_gap = a.take_all().of(s).last().unwrap().id().unwrap().to_string();
    // B loses its connection; A sees a transaction B never will; B's new connection brings the
    // difference.
    on_all(&[&a], 2, |h| h.insert_doc(2, "a", "two"));
    b.relay.on_gap();
    b.commit.set(None);
    b.insert_doc(2, "a", "two");
    on_all(&[&a, &b], 3, |h| h.insert_doc(3, "a", "three"));
    let after_gap = a.take_all().of(s).last().unwrap().id().unwrap().to_string();
    // Before the gap: B's log cannot say what happened since; resync.
    let s1 = open_after(&b, &before_gap);
    assert_eq!(labels(&b.take_all().of(s1)[..2]), ["(retry)", "resync/unknown_event_id"]);
    // After the gap, the transaction that follows it on B came after another one on A: not the same
    // position (the key chains the previous transaction's content), so resync too — never a silent skip.
    let s2 = open_after(&b, &after_gap);
    assert_eq!(labels(&b.take_all().of(s2)[..2]), ["(retry)", "resync/unknown_event_id"]);
    // From then on both agree again.
    on_all(&[&a, &b], 4, |h| h.insert_doc(4, "a", "four"));
    let latest = a.take_all().of(s).last().unwrap().id().unwrap().to_string();
    let s3 = open_after(&b, &latest);
    assert_eq!(labels(b.take_all().of(s3)), ["(retry)"]);
}

#[test]
fn an_ambiguous_position_resyncs_instead_of_guessing() {
    // v2/v3 give no shared timestamp: a toggle repeated twice repeats a key.
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    let s = a.open(A);
    a.take_all();
    let mut ids = Vec::new();
    for title in ["x", "y", "x", "y", "x"] {
        for h in [&a, &b] {
            h.commit.set(Some(Commit::default()));
            match h.held_doc(1) {
                None => h.insert_doc(1, "a", title),
                Some(_) => h.update_doc(1, "a", title),
            }
        }
        ids.push(a.take_all().of(s).last().unwrap().id().unwrap().to_string());
    }
    // Transactions 3 and 5 (y→x after x→y) have one key; 2 (x→y after the insert) and 4 (after y→x) do not.
    assert_eq!(ids[2], ids[4]);
    assert_ne!(ids[1], ids[3]);
    let s2 = open_after(&b, &ids[2]);
    assert_eq!(labels(&b.take_all().of(s2)[..2]), ["(retry)", "resync/unknown_event_id"]);
    let s1 = open_after(&b, &ids[1]);
    assert_eq!(labels(b.take_all().of(s1)).len(), 4, "(retry) and the three updates after it");
}

#[test]
fn a_rendered_page_continues_on_another_replica() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    on_all(&[&a, &b], 1, |h| h.insert_doc(1, "a", "one"));
    let page = super::seam::render(&a, A);
    let id = page["lastEventId"].as_str().unwrap();
    assert!(id.starts_with('t'), "{id}");
    on_all(&[&a, &b], 2, |h| h.insert_doc(2, "a", "two"));
    let s = open_after(&b, id);
    assert_eq!(labels(b.take_all().of(s)), ["(retry)", "document.insert"]);
}

#[test]
fn a_snapshot_end_names_the_transaction_it_follows() {
    let (a, b) = (replica("00000000000a"), replica("00000000000b"));
    on_all(&[&a, &b], 1, |h| h.insert_doc(1, "a", "one"));
    let s = a.open(A);
    let frames = a.take_all().of(s).to_vec();
    let end = frames.last().unwrap();
    assert_eq!(end.label(), "snapshot/end");
    on_all(&[&a, &b], 2, |h| h.insert_doc(2, "a", "two"));
    let s = open_after(&b, end.id().unwrap());
    assert_eq!(labels(b.take_all().of(s)), ["(retry)", "document.insert"]);
}

#[test]
fn a_database_position_that_left_the_log_is_a_gap() {
    let h = Harness::new(r#""logCapacity":2"#);
    h.commit.set(Some(Commit::default()));
    let s = h.open(A);
    h.take_all();
    h.insert_doc(1, "a", "one");
    let old = h.take_all().of(s).last().unwrap().id().unwrap().to_string();
    for id in 2..=5 {
        h.insert_doc(id, "a", "later");
    }
    let resumed = open_after(&h, &old);
    assert_eq!(labels(&h.take_all().of(resumed)[..2]), ["(retry)", "resync/gap"]);
}

/// What database ids cost the relay per event: the same transactions (10 inserts each, one stream
/// receiving them) relayed as committed (digests, sort, key) and as uncommitted (local ids), alternating,
/// 5 rounds; prints min / median / max ns per event of each and the ratio of medians.
#[test]
#[ignore = "a measurement: cargo test --release --lib relay::tests::replicas::cost -- --ignored --nocapture"]
fn cost_of_database_ids_per_event() {
    const TXS: u64 = 2_000;
    let round = |committed: bool| {
        let h = Harness::new("");
        h.commit.set(committed.then(Commit::default));
        let s = h.open(r#"{"tenantId":"a","tables":["document"],"maxQueueEvents":100000,"maxQueueBytes":268435456}"#);
        h.take_all();
        let rows: Vec<Vec<Vec<u8>>> = (0..TXS)
            .map(|t| (0..10).map(|i| doc(&h.schema, t * 10 + i + 1, "a", "a title of some length")).collect())
            .collect();
        let started = std::time::Instant::now();
        for tx in rows {
            h.tx(&[("document", vec![], tx)]);
        }
        let ns = started.elapsed().as_nanos() as f64 / (TXS * 10) as f64;
        assert_eq!(h.relay.queued(s).unwrap().0, (TXS * 10) as usize, "every event queued");
        ns
    };
    let (mut keyed, mut local) = (Vec::new(), Vec::new());
    for i in 0..5 {
        if i % 2 == 0 {
            keyed.push(round(true));
            local.push(round(false));
        } else {
            local.push(round(false));
            keyed.push(round(true));
        }
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2], v[v.len() - 1])
    };
    let (k, l) = (stats(&mut keyed), stats(&mut local));
    println!("database ids: {:.0} / {:.0} / {:.0} ns per event (min / median / max)", k.0, k.1, k.2);
    println!("local ids:    {:.0} / {:.0} / {:.0} ns per event", l.0, l.1, l.2);
    println!("ratio of medians: {:.2}", k.1 / l.1);
}
