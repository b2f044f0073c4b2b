//! The isolation property: over random interleavings of transactions (rows of random tenants, rows
//! moving between tenants, a shared table), stream openings with random tenants, tables, filters and
//! resume ids (valid, stale, garbled, from another epoch, mid-snapshot), narrowing, revocation, pauses
//! and overflows, with snapshots spread over many takes (one snapshot frame per take), shared between
//! streams of one view (twins open while a snapshot is under way) and limited to two per principal:
//! - every row a stream receives (and every old row) belongs to its tenant, its tables and its `where`;
//! - ids strictly increase along each stream, including across a resume;
//! - nothing is repeated or lost: each stream's rebuilt state equals the projection filtered for it;
//! - no principal ever has more than two snapshots in progress.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::harness::{doc, tenant_row, Client, Frame, Harness, Taken};
use crate::codec::tests::proptest_config;
use crate::relay::options::parse_selector;

const TENANTS: usize = 3;
const TITLES: usize = 2;
const DOC_IDS: u64 = 8;
const PRINCIPALS: usize = 2;
const PER_PRINCIPAL: usize = 2;

#[derive(Clone, Debug)]
enum Corruption {
    None,
    Garbled,
    OtherEpoch,
    Future,
}

#[derive(Clone, Debug)]
enum Op {
    Upsert {
        id: u64,
        tenant: usize,
        title: usize,
    },
    Delete {
        id: u64,
    },
    /// Two document changes in one transaction.
    Pair {
        a: (u64, usize, usize),
        b: (u64, usize, usize),
    },
    SharedRow {
        id: usize,
        name: usize,
    },
    Open {
        tenant: Option<usize>,
        doc: bool,
        shared: bool,
        title: Option<usize>,
        max_events: usize,
        sub: usize,
    },
    /// Another stream with the selection of an open one (they may share a snapshot).
    Twin {
        which: usize,
    },
    Reopen {
        which: usize,
        corruption: Corruption,
    },
    Close {
        which: usize,
    },
    Pause {
        which: usize,
    },
    Resume {
        which: usize,
    },
    Narrow {
        which: usize,
        drop_shared: bool,
        title: Option<usize>,
    },
    Revoke {
        which: usize,
        by_tenant: bool,
    },
    Take,
    /// One take only: snapshots stay in progress.
    TakeOne,
}

fn op() -> impl Strategy<Value = Op> {
    let doc_change = (1..=DOC_IDS, 0..TENANTS, 0..TITLES);
    prop_oneof![
        6 => doc_change.clone().prop_map(|(id, tenant, title)| Op::Upsert { id, tenant, title }),
        2 => (1..=DOC_IDS).prop_map(|id| Op::Delete { id }),
        2 => (doc_change.clone(), doc_change).prop_map(|(a, b)| Op::Pair { a, b }),
        1 => (0..2usize, 0..2usize).prop_map(|(id, name)| Op::SharedRow { id, name }),
        3 => (proptest::option::weighted(0.8, 0..TENANTS), any::<bool>(), any::<bool>(), proptest::option::of(0..TITLES), 2..6usize, 0..PRINCIPALS)
            .prop_map(|(tenant, doc, shared, title, max_events, sub)| Op::Open { tenant, doc: doc || !shared, shared, title, max_events, sub }),
        2 => any::<usize>().prop_map(|which| Op::Twin { which }),
        2 => (any::<usize>(), prop_oneof![4 => Just(Corruption::None), 1 => Just(Corruption::Garbled), 1 => Just(Corruption::OtherEpoch), 1 => Just(Corruption::Future)])
            .prop_map(|(which, corruption)| Op::Reopen { which, corruption }),
        1 => any::<usize>().prop_map(|which| Op::Close { which }),
        2 => any::<usize>().prop_map(|which| Op::Pause { which }),
        2 => any::<usize>().prop_map(|which| Op::Resume { which }),
        1 => (any::<usize>(), any::<bool>(), proptest::option::of(0..TITLES)).prop_map(|(which, drop_shared, title)| Op::Narrow { which, drop_shared, title }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(which, by_tenant)| Op::Revoke { which, by_tenant }),
        3 => Just(Op::Take),
        3 => Just(Op::TakeOne),
    ]
}

/// The test's own record of what a stream selects.
#[derive(Clone, Debug)]
struct Tracked {
    id: u32,
    tenant: Option<usize>,
    doc: bool,
    shared: bool,
    title: Option<usize>,
    max_events: usize,
    sub: usize,
    client: Client,
    revoked: bool,
}

impl Tracked {
    fn options(&self, last_event_id: Option<&str>) -> String {
        let mut tables = Vec::new();
        if self.doc {
            tables.push("document");
        }
        if self.shared {
            tables.push("tenant");
        }
        let mut o = json!({ "tables": tables, "maxQueueEvents": self.max_events, "principal": { "sub": format!("u{}", self.sub) } });
        match self.tenant {
            Some(t) => o["tenantId"] = json!(format!("t{t}")),
            None => o["allTenants"] = json!(true),
        }
        if let (Some(title), true) = (self.title, self.doc) {
            o["where"] = json!({ "document": { "title": format!("x{title}") } });
        }
        if let Some(last) = last_event_id {
            o["lastEventId"] = json!(last);
        }
        o.to_string()
    }

    /// Whether the stream may see `row` of `table`.
    fn may_see(&self, table: &str, row: &Value) -> bool {
        match table {
            "document" => {
                self.doc
                    && self.tenant.is_none_or(|t| row["tenant_id"] == json!(format!("t{t}")))
                    && self.title.is_none_or(|t| row["title"] == json!(format!("x{t}")))
            }
            "tenant" => self.shared,
            _ => false,
        }
    }

    /// Checks every row a frame carries against the selection.
    fn check(&self, frame: &Frame) {
        let data = frame.data();
        let payload = &data["payload"];
        let (table, rows): (&str, Vec<&Value>) = match frame.event() {
            "snapshot" if payload["phase"] == "rows" => {
                (payload["table"].as_str().unwrap(), payload["rows"].as_array().unwrap().iter().collect())
            }
            "snapshot" | "resync" | "revoked" | "closed" | "(retry)" | "(heartbeat)" => return,
            event => {
                let table = event.rsplit_once('.').unwrap().0;
                let mut rows = vec![&payload["row"]];
                if let Some(old) = payload.get("oldRow") {
                    rows.push(old);
                }
                if table == "document" && self.tenant.is_some() {
                    assert_eq!(data["tenant_id"], payload["row"]["tenant_id"], "the envelope names the row's tenant");
                }
                (table, rows)
            }
        };
        for row in rows {
            assert!(self.may_see(table, row), "stream {self:?} got {table} row {row} in {frame:?}");
        }
    }
}

struct World {
    h: Harness,
    open: Vec<Tracked>,
    closed: Vec<Tracked>,
}

impl World {
    fn pick(&self, which: usize) -> Option<usize> {
        (!self.open.is_empty()).then(|| which % self.open.len())
    }

    fn upsert(&self, id: u64, tenant: usize, title: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let new = doc(&self.h.schema, id, &format!("t{tenant}"), &format!("x{title}"));
        (self.h.held_doc(id).into_iter().collect(), vec![new])
    }

    fn take(&mut self, taken: Taken) {
        for t in &mut self.open {
            for frame in taken.of(t.id) {
                t.check(frame);
                t.client.apply(frame);
            }
        }
        for id in &taken.ended {
            let i = self.open.iter().position(|t| t.id == *id).expect("ended streams were open");
            let t = self.open.remove(i);
            assert!(t.revoked && t.client.ended.is_some(), "only revoked streams end here: {t:?}");
        }
        let delivered: Vec<u32> = taken.frames.keys().copied().collect();
        assert!(delivered.iter().all(|id| taken.ended.contains(id) || self.open.iter().any(|t| t.id == *id)));
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Upsert { id, tenant, title } => {
                let (d, i) = self.upsert(id, tenant, title);
                self.h.tx(&[("document", d, i)]);
            }
            Op::Delete { id } => {
                if let Some(old) = self.h.held_doc(id) {
                    self.h.tx(&[("document", vec![old], vec![])]);
                }
            }
            Op::Pair { a, b } => {
                if a.0 == b.0 {
                    return;
                }
                let (d1, i1) = self.upsert(a.0, a.1, a.2);
                let (d2, i2) = self.upsert(b.0, b.1, b.2);
                let (mut d, mut i) = (d1, i1);
                d.extend(d2);
                i.extend(i2);
                self.h.tx(&[("document", d, i)]);
            }
            Op::SharedRow { id, name } => {
                let id = format!("t{id}");
                let held: Vec<Vec<u8>> = {
                    let p = self.h.projection.read().unwrap();
                    let rows = p.table("tenant").unwrap();
                    let def = rows.def().clone();
                    let key = def.encode_column_value(0, &json!(id)).unwrap();
                    rows.iter()
                        .filter(|r| r[def.column_ranges(r).unwrap()[0].clone()] == key[..])
                        .map(|r| r.to_vec())
                        .collect()
                };
                self.h.tx(&[("tenant", held, vec![tenant_row(&self.h.schema, &id, &format!("n{name}"))])]);
            }
            Op::Open { tenant, doc, shared, title, max_events, sub } => {
                let mut t = Tracked {
                    id: 0,
                    tenant,
                    doc,
                    shared,
                    title,
                    max_events,
                    sub,
                    client: Client::default(),
                    revoked: false,
                };
                t.id = self.h.open(&t.options(None));
                self.open.push(t);
            }
            Op::Twin { which } => {
                let Some(i) = self.pick(which) else { return };
                let mut t = Tracked { client: Client::default(), revoked: false, ..self.open[i].clone() };
                t.id = self.h.open(&t.options(None));
                self.open.push(t);
            }
            Op::Reopen { which, corruption } => {
                if self.closed.is_empty() {
                    return;
                }
                let mut t = self.closed.remove(which % self.closed.len());
                let Some(last) = t.client.last_id.clone() else { return };
                let epoch = self.h.relay.epoch().as_str().to_string();
                let last = match corruption {
                    Corruption::None => last,
                    Corruption::Garbled => format!("{last}x"),
                    Corruption::OtherEpoch => last.replace(&epoch, "ffffffffffff"),
                    Corruption::Future => format!("{epoch}-{}", 3 * (self.h.relay.head() + 5)),
                };
                if !matches!(corruption, Corruption::None) {
                    // Ids increase relative to ids the relay issued; it cannot order itself after an id it
                    // cannot read (a client never sends one, but a hostile or broken one might).
                    t.client.last_id = None;
                }
                t.id = self.h.open(&t.options(Some(&last)));
                self.open.push(t);
            }
            Op::Close { which } => {
                if let Some(i) = self.pick(which) {
                    let t = self.open.remove(i);
                    assert!(self.h.relay.close_stream(t.id));
                    if !t.revoked {
                        self.closed.push(t);
                    }
                }
            }
            Op::Pause { which } => {
                if let Some(i) = self.pick(which) {
                    self.h.relay.pause(self.open[i].id);
                }
            }
            Op::Resume { which } => {
                if let Some(i) = self.pick(which) {
                    self.h.relay.resume(self.open[i].id);
                }
            }
            Op::Narrow { which, drop_shared, title } => {
                let Some(i) = self.pick(which) else { return };
                if self.open[i].revoked {
                    return;
                }
                let t = &mut self.open[i];
                let tables = (drop_shared && t.doc && t.shared).then(|| vec!["document".to_string()]);
                // A narrowing may add a title constraint, or restate the one it has.
                let title = if t.doc { t.title.or(title) } else { None };
                let where_ = title.map(|x| {
                    serde_json::from_value::<serde_json::Map<String, Value>>(
                        json!({ "document": { "title": format!("x{x}") } }),
                    )
                    .unwrap()
                });
                let selector = parse_selector(&json!({ "streamId": t.id }).to_string()).unwrap();
                let n = self.h.relay.narrow(&selector, tables.as_deref(), where_.as_ref()).unwrap();
                assert_eq!(n, 1);
                if tables.is_some() {
                    t.shared = false;
                }
                t.title = title;
            }
            Op::Revoke { which, by_tenant } => {
                let Some(i) = self.pick(which) else { return };
                let target = self.open[i].clone();
                type Matches = Box<dyn Fn(&Tracked) -> bool>;
                let (selector, matches): (String, Matches) = match (by_tenant, target.tenant) {
                    (true, Some(tenant)) => (
                        json!({ "tenantId": format!("t{tenant}") }).to_string(),
                        Box::new(move |t: &Tracked| t.tenant == Some(tenant)),
                    ),
                    _ => (json!({ "streamId": target.id }).to_string(), Box::new(move |t: &Tracked| t.id == target.id)),
                };
                let expected = self.open.iter().filter(|t| !t.revoked && matches(t)).count();
                let n = self.h.relay.revoke(&parse_selector(&selector).unwrap(), "revoked").unwrap();
                assert_eq!(n, expected);
                for t in self.open.iter_mut().filter(|t| matches(t)) {
                    t.revoked = true;
                }
            }
            Op::Take => {
                let taken = self.h.take_all();
                self.take(taken);
            }
            Op::TakeOne => {
                let (taken, _) = self.h.take_once();
                self.take(taken);
            }
        }
        for sub in 0..PRINCIPALS {
            let n = self.h.relay.snapshots_in_progress_of(&format!("u{sub}"));
            assert!(n <= PER_PRINCIPAL, "u{sub} has {n} snapshots in progress");
        }
    }

    /// Lets every stream catch up, then compares each one's state with the projection filtered for it.
    fn settle_and_compare(&mut self) {
        for t in &self.open {
            self.h.relay.resume(t.id);
        }
        let taken = self.h.take_all();
        self.take(taken);
        let docs = self.h.projection_rows("document");
        let tenants = self.h.projection_rows("tenant");
        for t in &self.open {
            assert!(!t.client.resyncing, "settled streams have a complete snapshot: {t:?}");
            let mut expected: Vec<(String, String)> = Vec::new();
            for (table, rows) in [("document", &docs), ("tenant", &tenants)] {
                for row in rows.iter().filter(|r| t.may_see(table, r)) {
                    expected.push((table.to_string(), row["id"].to_string()));
                    let held = t.client.rows.get(&(table.to_string(), row["id"].to_string()));
                    assert_eq!(held, Some(row), "stream {} holds the current row", t.id);
                }
            }
            expected.sort();
            let held: Vec<(String, String)> = t.client.rows.keys().cloned().collect();
            assert_eq!(held, expected, "stream {t:?}");
        }
    }
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn no_stream_sees_another_tenant_and_every_stream_converges(ops in proptest::collection::vec(op(), 1..80)) {
        let h = Harness::with_config(&format!(r#""logCapacity":6,"maxSnapshotsPerPrincipal":{PER_PRINCIPAL}"#), |c| {
            c.snapshots.bytes_per_take = 1;
        });
        let mut world = World { h, open: Vec::new(), closed: Vec::new() };
        for op in ops {
            world.apply(op);
        }
        world.settle_and_compare();
    }
}
