//! Snapshot storms: rows frames shared by the streams of one view, the per-principal limit, and the
//! per-take snapshot budget that keeps other streams' live events flowing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::harness::{doc, id_k, Client, Frame, Harness};
use crate::relay::admission::Slots;
use crate::relay::ids::{event_k, snapshot_complete_k, snapshot_started_k, IdPrefix};
use crate::relay::selection::{Selection, SelectionRequest};
use crate::relay::shared::{SnapshotCounters, SnapshotRows, KEEP_UNHELD};
use crate::relay::snapshot::{Snapshot, Voice};

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(Frame::label).collect()
}

/// Inserts `count` documents of `tenant` (ids from `first`) with titles of `title_len` bytes, in one
/// transaction.
fn seed(h: &Harness, tenant: &str, first: u64, count: u64, title_len: usize) {
    let title = "t".repeat(title_len);
    let rows = (first..first + count).map(|id| doc(&h.schema, id, tenant, &title)).collect();
    h.tx(&[("document", vec![], rows)]);
}

fn rows_frames(frames: &[Frame]) -> Vec<&Frame> {
    frames.iter().filter(|f| f.label() == "snapshot/rows").collect()
}

#[test]
fn streams_of_one_view_get_the_same_rows_frames_encoded_once() {
    let h = Harness::new("");
    seed(&h, "a", 1, 600, 10);
    seed(&h, "b", 1000, 3, 10);
    let streams: Vec<u32> = (0..5).map(|_| h.open(r#"{"tenantId":"a","tables":["document"]}"#)).collect();
    let taken = h.take_all();
    let first = rows_frames(taken.of(streams[0]));
    assert_eq!(first.len(), 3, "600 rows in frames of at most 256");
    for &s in &streams[1..] {
        assert_eq!(taken.of(s), taken.of(streams[0]), "the same frames, ids included (same view, same position)");
    }
    let stats = h.relay.stats();
    assert_eq!(stats.snapshot_frames_encoded, 3, "one encoding for five streams");
    assert_eq!(stats.snapshot_frames_shared, 12);
    assert_eq!(stats.snapshots_in_progress, 0);

    // Another view encodes its own.
    let other = h.open(r#"{"tenantId":"b","tables":["document"]}"#);
    assert_eq!(rows_frames(h.take_all().of(other)).len(), 1);
    assert_eq!(h.relay.stats().snapshot_frames_encoded, 4);

    // A later stream of view a, after events a's view does not see, still joins: its snapshot is at the
    // older position, which is exact for it (nothing since is visible to it).
    let position = id_k(taken.of(streams[0]).last().unwrap().id().unwrap()) / 3;
    seed(&h, "b", 2000, 1, 10);
    assert!(h.relay.head() > position);
    let late = h.open(r#"{"tenantId":"a","tables":["document"]}"#);
    let frames = h.take_all().of(late).to_vec();
    assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(position));
    assert_eq!(id_k(frames.last().unwrap().id().unwrap()), snapshot_complete_k(position));
    assert_eq!(h.relay.stats().snapshot_frames_encoded, 4, "joined, nothing encoded");
    let mut client = Client::default();
    client.apply_all(&frames);
    assert_eq!(client.rows.len(), 600);
    // Its live events continue above the snapshot, and resuming from its end id replays nothing it
    // lacks.
    h.insert_doc(601, "a", "new");
    let live = h.take_all().of(late).to_vec();
    assert_eq!(labels(&live), ["document.insert"]);
    assert_eq!(id_k(live[0].id().unwrap()), event_k(h.relay.head()));
    client.apply_all(&live);
    let resumed = h.open(&format!(
        r#"{{"tenantId":"a","tables":["document"],"lastEventId":"{}"}}"#,
        frames.last().unwrap().id().unwrap()
    ));
    assert_eq!(labels(h.take_all().of(resumed)), ["(retry)", "document.insert"]);

    // After an event the view sees, the shared rows are stale: a new stream reads and encodes anew.
    let fresh = h.open(r#"{"tenantId":"a","tables":["document"]}"#);
    let frames = h.take_all().of(fresh).to_vec();
    assert_eq!(id_k(frames[1].id().unwrap()), snapshot_started_k(h.relay.head()));
    assert_eq!(h.relay.stats().snapshot_frames_encoded, 7);
    let mut fresh_client = Client::default();
    fresh_client.apply_all(&frames);
    assert_eq!(fresh_client.rows, client.rows);
}

#[test]
fn a_snapshot_no_stream_holds_is_let_go_after_a_while() {
    let h = Harness::new("");
    seed(&h, "a", 1, 10, 10);
    let options = r#"{"tenantId":"a","tables":["document"]}"#;
    let first = h.open(options);
    h.take_all();
    // Another stream right after the first finished joins its snapshot…
    let second = h.open(options);
    let taken = h.take_all();
    assert_eq!(rows_frames(taken.of(second)).len(), 1);
    assert_eq!(h.relay.stats().snapshot_frames_encoded, 1);
    // …but not once no stream held it for KEEP_UNHELD (sweeps also run with the heartbeats).
    h.relay.heartbeat(Instant::now());
    h.relay.heartbeat(Instant::now() + KEEP_UNHELD);
    let third = h.open(options);
    h.take_all();
    assert_eq!(h.relay.stats().snapshot_frames_encoded, 2);
    let _ = (first, third);
}

#[test]
fn a_shared_rows_frame_is_one_buffer() {
    let h = Harness::new("");
    seed(&h, "a", 1, 300, 10);
    let tables = h.relay.tables();
    let (tenant, options) = (json!("a"), json!({ "document": { "title": "t".repeat(10) } }));
    let request =
        SelectionRequest { tenant_id: Some(&tenant), where_: options.as_object(), ..SelectionRequest::default() };
    let selection = Selection::new(tables, &request).unwrap();
    let counters = Arc::new(SnapshotCounters::default());
    let rows = {
        let p = h.projection.read().unwrap();
        Arc::new(SnapshotRows::collect(
            &p,
            tables,
            (selection.clone(), 1, None),
            h.relay.head(),
            None,
            counters.clone(),
        ))
    };
    let slots = Slots::default();
    let prefix = IdPrefix::new(h.relay.epoch(), selection.fingerprint());
    let voice = Voice { prefix: &prefix, tenant_json: selection.tenant_json(), schema_version: 1, act_json: None };
    let mut one = Snapshot::new(rows.clone(), None, slots.take(None, 1).unwrap());
    let mut two = Snapshot::new(rows, None, slots.take(None, 1).unwrap());
    let (begin1, begin2) = (one.next_frame(&voice).unwrap(), two.next_frame(&voice).unwrap());
    assert_eq!(begin1, begin2, "begin frames: equal bytes, each stream's own");
    for _ in 0..2 {
        let (a, b) = (one.next_frame(&voice).unwrap(), two.next_frame(&voice).unwrap());
        assert!(a.starts_with(b"event: snapshot\ndata: {\"event\":\"snapshot\",\"id\":null"));
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same buffer, not a copy");
    }
    assert_eq!(counters.frames_encoded.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(counters.frames_shared.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(slots.in_progress(), 2);
    drop((one, two));
    assert_eq!(slots.in_progress(), 0, "a dropped snapshot gives its slot back");
}

/// A storm: `count` streams of principal `sub` (or anonymous) on tenant a's 1,000 rows of ~600 bytes
/// (about 0.6 MB of JSON), and one live stream of tenant b, which gets one row before every take.
struct Storm {
    h: Harness,
    storm: Vec<u32>,
    live: u32,
    clients: Vec<Client>,
    live_client: Client,
}

impl Storm {
    fn new(config: &str, count: usize, sub: Option<&str>) -> Storm {
        let h = Harness::new(config);
        seed(&h, "a", 1, 1000, 500);
        let live = h.open(r#"{"tenantId":"b","tables":["document"]}"#);
        let mut live_client = Client::default();
        live_client.apply_all(h.take_all().of(live));
        let mut options = json!({ "tenantId": "a", "tables": ["document"] });
        if let Some(sub) = sub {
            options["principal"] = json!({ "sub": sub });
        }
        let storm = (0..count).map(|_| h.open(&options.to_string())).collect();
        Storm { h, storm, live, clients: vec![Client::default(); count], live_client }
    }

    /// One commit on tenant b, one take; returns the storm's snapshot bytes in that take.
    fn step(&mut self, n: u64) -> usize {
        self.h.insert_doc(100_000 + n, "b", "live");
        let (taken, _) = self.h.take_once();
        let live = taken.of(self.live);
        assert_eq!(labels(live), ["document.insert"], "take {n}: the live stream gets its event in the same take");
        self.live_client.apply_all(live);
        let mut bytes = 0;
        for (i, &s) in self.storm.iter().enumerate() {
            for frame in taken.of(s) {
                if frame.event() == "snapshot" {
                    bytes += frame.data().to_string().len();
                }
            }
            self.clients[i].apply_all(taken.of(s));
        }
        bytes
    }

    fn complete(&self) -> usize {
        self.clients.iter().filter(|c| c.rows.len() == 1000 && !c.resyncing).count()
    }
}

#[test]
fn a_principal_has_at_most_its_limit_in_progress_while_other_streams_stay_live() {
    let mut s = Storm::new(r#""maxSnapshotsPerPrincipal":3"#, 12, Some("storm"));
    let one_snapshot = {
        let (mut most, mut waited) = (0, false);
        for n in 0.. {
            s.step(n);
            let now = s.h.relay.snapshots_in_progress_of("storm");
            assert!(now <= 3, "take {n}: {now} snapshots in progress for one principal (limit 3)");
            most = most.max(now);
            waited |= s.h.relay.stats().snapshots_waiting > 0;
            if s.complete() == 12 {
                break;
            }
            assert!(n < 10_000, "the storm never completes");
        }
        assert_eq!((most, waited), (3, true), "the limit was reached and streams waited");
        s.h.relay.stats()
    };
    // Every storm stream holds the tenant's rows, and continues live.
    s.h.insert_doc(5000, "a", "after");
    let t = s.h.take_all();
    for (i, &id) in s.storm.iter().enumerate() {
        assert_eq!(labels(t.of(id)), ["document.insert"]);
        s.clients[i].apply_all(t.of(id));
        assert_eq!(s.clients[i].rows.len(), 1001);
    }
    // The storm shared one encoding of a's rows: later turns joined the first (only b's view moved on).
    assert_eq!(one_snapshot.snapshot_frames_shared, 11 * one_snapshot.snapshot_frames_encoded);
    assert_eq!(one_snapshot.snapshots_in_progress, 0);
}

#[test]
fn a_take_hands_out_a_bounded_amount_of_snapshot_bytes() {
    let budget = 128 << 10;
    let mut s = Storm::new(&format!(r#""snapshotBytesPerTake":{budget}"#), 10, None);
    let mut takes = 0;
    while s.complete() < 10 {
        let bytes = s.step(takes);
        // At most one frame (about 64 KiB of rows and one row more) beyond the budget.
        assert!(bytes <= budget + 70_000, "take {takes}: {bytes} snapshot bytes");
        takes += 1;
    }
    // 10 snapshots of ~0.6 MB in takes of 128 KiB.
    assert!(takes >= 10 * 600_000 / (budget as u64 + 70_000), "{takes} takes");
}

#[test]
fn a_stream_waiting_for_its_turn_gets_heartbeats_and_starts_when_a_slot_frees() {
    // One rows frame per take (the smallest budget), so the first stream's snapshot spans takes.
    let h = Harness::new(r#""maxSnapshotsPerPrincipal":1,"snapshotBytesPerTake":65536"#);
    seed(&h, "a", 1, 300, 1000);
    let options = r#"{"tenantId":"a","principal":{"sub":"u"},"heartbeatMs":100}"#;
    let first = h.open(options);
    let (t, more) = h.take_once();
    assert_eq!(labels(t.of(first)), ["(retry)", "snapshot/begin", "snapshot/rows"]);
    assert!(more);
    h.relay.pause(first);
    let second = h.open(options);
    let t = h.take_all();
    assert_eq!(labels(t.of(second)), ["(retry)"], "waits: the first holds u's only slot");
    assert!(t.of(first).is_empty());
    assert_eq!(h.relay.stats().snapshots_waiting, 1);
    h.relay.heartbeat(Instant::now() + Duration::from_millis(200));
    assert_eq!(labels(h.take_all().of(second)), ["(heartbeat)"]);
    // Live events while waiting are not queued: the snapshot, read when its turn comes, has them.
    h.insert_doc(301, "a", "while waiting");
    assert_eq!(h.relay.queued(second), Some((0, 0)));
    // The first stream goes away mid-snapshot: its slot frees, the second starts.
    assert!(h.relay.close_stream(first));
    let frames = h.take_all().of(second).to_vec();
    assert_eq!(labels(&frames)[0], "snapshot/begin");
    let mut client = Client::default();
    client.apply_all(&frames);
    assert_eq!(client.rows.len(), 301);
    assert_eq!(h.relay.stats().snapshots_waiting, 0);
}
