//! Revoke requests published through a module table (the `revocations` relay option): every replica
//! ends its own matching streams when the row arrives, before any change of that transaction reaches
//! them. Here `audit_event` plays the revocation table: `action` holds the user, `subject` the session's
//! SHA-256, `tenant_id` the tenant.

use serde_json::json;

use super::harness::{encode_row, Harness};
use crate::relay::revocations::sid_sha256;

const CONFIG: &str =
    r#""revocations":{"table":"audit_event","sub":"action","sidSha256":"subject","tenantId":"tenant_id"}"#;

fn stream(h: &Harness, tenant: &str, sub: &str, sid: &str) -> u32 {
    h.open(&json!({ "tenantId": tenant, "tables": ["document"], "principal": { "sub": sub, "sid": sid } }).to_string())
}

/// A revocation row: `sub`, the session's digest and the tenant, each optional (empty = any).
fn request(h: &Harness, id: u64, tenant: &str, sub: &str, sid_digest: &str) -> Vec<u8> {
    let nobody = format!("0x{}", "00".repeat(32));
    let values =
        [json!(id), json!(tenant), json!(nobody), json!(sub), json!(sid_digest), json!("2024-01-01T00:00:00.000000Z")];
    encode_row(&h.schema, "audit_event", &values)
}

fn ended(h: &Harness) -> Vec<(u32, String)> {
    let taken = h.take_all();
    let mut out: Vec<(u32, String)> =
        taken.ended.iter().map(|&id| (id, taken.of(id).last().unwrap().label())).collect();
    out.sort();
    out
}

#[test]
fn a_request_row_ends_the_matching_streams_on_every_replica_before_its_transaction_reaches_them() {
    let replicas = [Harness::new(CONFIG), Harness::new(CONFIG)];
    let mut streams = Vec::new();
    for h in &replicas {
        let alice_1 = stream(h, "acme", "alice", "sess_1");
        let alice_2 = stream(h, "acme", "alice", "sess_2");
        let bob = stream(h, "acme", "bob", "sess_3");
        h.take_all();
        streams.push((alice_1, alice_2, bob));
    }
    // One transaction: a revocation of alice's first session, and a document she must not get.
    for h in &replicas {
        h.tx(&[
            ("audit_event", vec![], vec![request(h, 1, "", "", &sid_sha256("sess_1"))]),
            ("document", vec![], vec![super::harness::doc(&h.schema, 9, "acme", "after the revocation")]),
        ]);
    }
    for (h, &(alice_1, alice_2, bob)) in replicas.iter().zip(&streams) {
        let taken = h.take_all();
        assert_eq!(taken.ended, [alice_1]);
        let labels: Vec<String> = taken.of(alice_1).iter().map(|f| f.label()).collect();
        assert_eq!(labels, ["revoked/revoked"], "nothing of the revoking transaction");
        for other in [alice_2, bob] {
            assert_eq!(taken.of(other).iter().map(|f| f.label()).collect::<Vec<_>>(), ["document.insert"]);
        }
    }
}

#[test]
fn columns_combine_like_a_selector_and_empty_ones_match_anything() {
    let h = Harness::new(CONFIG);
    let a = stream(&h, "acme", "alice", "s1");
    let b = stream(&h, "globex", "alice", "s2");
    let c = stream(&h, "acme", "bob", "s3");
    h.take_all();
    // alice, in acme only.
    h.tx(&[("audit_event", vec![], vec![request(&h, 1, "acme", "alice", "")])]);
    assert_eq!(ended(&h), [(a, "revoked/revoked".to_string())]);
    // Every stream of tenant acme.
    h.tx(&[("audit_event", vec![], vec![request(&h, 2, "acme", "", "")])]);
    assert_eq!(ended(&h), [(c, "revoked/revoked".to_string())]);
    // A row that names nobody ends nothing (not everything).
    h.tx(&[("audit_event", vec![], vec![request(&h, 3, "", "", "")])]);
    assert_eq!(ended(&h), []);
    assert_eq!(h.relay.stream_count(), 1, "{b} is still open");
}

#[test]
fn the_option_is_checked_against_the_schema() {
    for (config, says) in [
        (r#""revocations":{"table":"nope","sub":"x"}"#, "no table named 'nope'"),
        (r#""revocations":{"table":"audit_event","sub":"nope"}"#, "has no column 'nope'"),
        (r#""revocations":{"table":"audit_event","sub":"id"}"#, "not a string"),
    ] {
        let text = format!(r#"{{"sharedTables":["tenant"],{config}}}"#);
        let parsed = crate::relay::options::parse_relay_config(&text).unwrap();
        let schema = crate::codec::tests::reference_schema();
        let projection = std::sync::Arc::new(std::sync::RwLock::new(crate::projection::Projection::new(&schema)));
        let e = crate::relay::Relay::new(&schema, parsed, projection).err().expect(config);
        assert!(e.message.contains(says), "{config}: {}", e.message);
    }
}
