//! Streams and authorization changes: `revokeOn` ends a stream in commit order, before any change of the
//! transaction that changed its authorization; `principal.act` marks every frame of an acted-for stream.

use super::harness::{id_k, tenant_row, Frame, Harness};
use crate::error::ErrorCode;

fn labels(frames: &[Frame]) -> Vec<String> {
    frames.iter().filter(|f| matches!(f, Frame::Event { .. })).map(Frame::label).collect()
}

#[test]
fn revoke_on_ends_the_stream_before_the_changes_of_the_transaction_that_fired_it() {
    let h = Harness::new("");
    let watched = h.open(r#"{"tenantId":"a","tables":["document"],"revokeOn":{"tenant":{"id":"a"}}}"#);
    let plain = h.open(r#"{"tenantId":"a","tables":["document"]}"#);
    h.take_all();
    // A change of another tenant's row does not fire; a document change reaches both.
    h.tx(&[("tenant", vec![], vec![tenant_row(&h.schema, "b", "B")])]);
    h.insert_doc(1, "a", "before");
    let t = h.take_all();
    assert_eq!(labels(t.of(watched)), ["document.insert"]);
    assert_eq!(labels(t.of(plain)), ["document.insert"]);
    // One transaction changes the watched row and inserts a document: the watched stream ends first.
    h.tx(&[
        ("tenant", vec![], vec![tenant_row(&h.schema, "a", "A")]),
        ("document", vec![], vec![super::harness::doc(&h.schema, 2, "a", "same transaction")]),
    ]);
    let t = h.take_all();
    assert_eq!(labels(t.of(watched)), ["closed/authorization_changed"]);
    assert_eq!(t.ended, vec![watched]);
    assert_eq!(labels(t.of(plain)), ["document.insert"]);
    h.insert_doc(3, "a", "after");
    assert!(h.take_all().of(watched).is_empty(), "nothing after the end");
}

/// The reconnect after `authorization_changed` whose new authorization gives the same selection (e.g. a new
/// role granting the same tables) continues after the client's last id: no snapshot is owed, and when the
/// transaction that fired changed nothing the stream sees, its only output is `retry:` until the next
/// change it sees. (A client that waits for a snapshot or a change there waits in vain; the cookbook
/// visibility test once did.)
#[test]
fn a_reconnect_after_authorization_changed_with_the_same_selection_resumes_without_a_snapshot() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "x");
    let options = r#""tenantId":"a","tables":["document"],"principal":{"sub":"m1"},"revokeOn":{"tenant":{"id":"a"}}"#;
    let first = h.open(&format!("{{{options}}}"));
    let t = h.take_all();
    assert_eq!(labels(t.of(first)), ["snapshot/begin", "snapshot/rows", "snapshot/end"]);
    let last = t.of(first).iter().filter_map(Frame::id).next_back().unwrap().to_string();
    // Only the authorization row changes: the stream ends, and nothing it sees changed.
    h.tx(&[("tenant", vec![], vec![tenant_row(&h.schema, "a", "A")])]);
    assert_eq!(labels(h.take_all().of(first)), ["closed/authorization_changed"]);
    let again = h.open(&format!(r#"{{{options},"lastEventId":"{last}"}}"#));
    let (t, more) = h.take_once();
    assert_eq!(t.of(again).iter().map(Frame::label).collect::<Vec<_>>(), ["(retry)"]);
    assert!(!more, "nothing more to take");
    let stats = h.relay.stats();
    assert_eq!((stats.snapshots_in_progress, stats.snapshots_waiting), (0, 0), "no snapshot owed");
    // The next change it sees arrives live, numbered after the last id.
    h.insert_doc(2, "a", "y");
    let t = h.take_all();
    assert_eq!(labels(t.of(again)), ["document.insert"]);
    assert!(id_k(t.of(again)[0].id().unwrap()) > id_k(&last));
}

#[test]
fn revoke_on_fires_on_the_old_row_of_an_update_or_a_delete() {
    let h = Harness::new("");
    h.tx(&[("tenant", vec![], vec![tenant_row(&h.schema, "a", "A")])]);
    let on_update = h.open(r#"{"tenantId":"a","tables":["document"],"revokeOn":{"tenant":{"id":"a"}}}"#);
    h.take_all();
    // Renamed (the id stays): an update whose old and new rows both match.
    h.tx(&[("tenant", vec![tenant_row(&h.schema, "a", "A")], vec![tenant_row(&h.schema, "a", "A2")])]);
    assert_eq!(labels(h.take_all().of(on_update)), ["closed/authorization_changed"]);
    let on_delete = h.open(r#"{"tenantId":"a","tables":["document"],"revokeOn":{"tenant":{"id":"a","name":"A2"}}}"#);
    h.take_all();
    h.tx(&[("tenant", vec![tenant_row(&h.schema, "a", "A2")], vec![])]);
    assert_eq!(labels(h.take_all().of(on_delete)), ["closed/authorization_changed"]);
    assert_eq!(h.relay.stream_count(), 0);
}

#[test]
fn bad_revoke_on_names_the_table_and_column() {
    let h = Harness::new("");
    for (options, says) in [
        (r#"{"tenantId":"a","revokeOn":{"nope":{"id":"a"}}}"#, "nope"),
        (r#"{"tenantId":"a","revokeOn":{"tenant":{"nope":"a"}}}"#, "has no column 'nope'"),
        (r#"{"tenantId":"a","revokeOn":{"tenant":{}}}"#, "names no column"),
        (r#"{"tenantId":"a","revokeOn":{"tenant":"a"}}"#, "revokeOn.tenant must be an object"),
        (r#"{"tenantId":"a","revokeOn":{"document":{"id":"x"}}}"#, "document"),
    ] {
        let e = h.try_open(options).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{options}");
        assert!(e.message.contains(says), "{options}: {}", e.message);
    }
    assert_eq!(h.relay.stream_count(), 0);
}

#[test]
fn an_acted_for_stream_marks_every_frame_and_never_resumes_a_plain_one() {
    let h = Harness::new("");
    h.insert_doc(1, "a", "x");
    let acted = h.open(
        r#"{"tenantId":"a","tables":["document"],"principal":{"sub":"user_1","sid":"s","act":{"sub":"admin_1"}}}"#,
    );
    let plain = h.open(r#"{"tenantId":"a","tables":["document"],"principal":{"sub":"user_1"}}"#);
    h.insert_doc(2, "a", "y");
    let t = h.take_all();
    let acted_frames: Vec<&Frame> = t.of(acted).iter().filter(|f| matches!(f, Frame::Event { .. })).collect();
    assert_eq!(acted_frames.iter().map(|f| f.label()).collect::<Vec<_>>()[..2], ["snapshot/begin", "snapshot/rows"]);
    assert!(acted_frames.iter().all(|f| f.data()["act"]["sub"] == "admin_1"), "{acted_frames:?}");
    assert!(t.of(plain).iter().all(|f| f.data().get("act").is_none()), "plain streams are unchanged");
    // The same selection, but never the same ids: a Last-Event-ID crosses neither way.
    let last_acted = t.of(acted).iter().filter_map(Frame::id).next_back().unwrap().to_string();
    let last_plain = t.of(plain).iter().filter_map(Frame::id).next_back().unwrap().to_string();
    assert_ne!(last_acted.split('-').next(), last_plain.split('-').next());
    let crossed = h.open(&format!(r#"{{"tenantId":"a","tables":["document"],"lastEventId":"{last_acted}"}}"#));
    assert_eq!(labels(h.take_all().of(crossed))[0], "resync/selection_changed");
    // A revoked frame of an acted-for stream is marked too.
    h.relay.revoke(&crate::relay::options::parse_selector(r#"{"sid":"s"}"#).unwrap(), "impersonation ended").unwrap();
    let t = h.take_all();
    assert_eq!(labels(t.of(acted)), ["revoked/impersonation ended"]);
    assert_eq!(t.of(acted).iter().find(|f| matches!(f, Frame::Event { .. })).unwrap().data()["act"]["sub"], "admin_1");
}

#[test]
fn a_rendered_page_of_an_acted_for_session_resumes_only_its_own_kind_of_stream() {
    use crate::relay::options::parse_view_options;
    let h = Harness::new("");
    h.insert_doc(1, "a", "x");
    let acted = r#"{"tenantId":"a","tables":["document"],"principal":{"sub":"user_1","act":{"sub":"admin_1"}}}"#;
    let options = parse_view_options(acted).unwrap();
    let page = h.relay.read(&options.selection().unwrap(), &options.principal().unwrap()).unwrap();
    h.insert_doc(2, "a", "y");
    // The same options resume right after the page: the insert made since, marked, and no snapshot.
    let resumed =
        h.open(&acted.replace("\"tables\"", &format!("\"lastEventId\":\"{}\",\"tables\"", page.last_event_id)));
    let frames = h.take_all().of(resumed).to_vec();
    assert_eq!(labels(&frames), ["document.insert"]);
    assert_eq!(frames.iter().find(|f| matches!(f, Frame::Event { .. })).unwrap().data()["act"]["sub"], "admin_1");
    // A plain stream given that page's id starts over.
    let plain = format!(r#"{{"tenantId":"a","tables":["document"],"lastEventId":"{}"}}"#, page.last_event_id);
    let crossed = h.open(&plain);
    assert_eq!(labels(h.take_all().of(crossed))[0], "resync/selection_changed");
}
