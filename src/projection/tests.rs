//! Projection semantics on real rows of the reference module's `document` table.

use serde_json::json;

use super::*;
use crate::codec::tests::reference_schema;

/// A `document` row of the reference module (also used by the relay's tests).
pub(crate) fn doc(id: u64, tenant: &str, title: &str, version: u32) -> Vec<u8> {
    let schema = reference_schema();
    let table = schema.table("document").unwrap();
    let values = [
        json!(id.to_string()),
        json!(tenant),
        json!(title),
        json!("body"),
        json!("c200".to_string() + &"00".repeat(30)),
        json!("2024-01-01T00:00:00.000000Z"),
        json!(version),
    ];
    values.iter().enumerate().flat_map(|(i, v)| table.encode_column_value(i, v).unwrap()).collect()
}

fn projection() -> Projection {
    Projection::new(&reference_schema())
}

const NONE: &[Vec<u8>] = &[];

#[test]
fn insert_update_delete_by_primary_key() {
    let mut p = projection();
    let v1 = doc(1, "t", "a", 1);
    let v2 = doc(1, "t", "b", 2);
    assert_eq!(
        p.apply("document", NONE, std::slice::from_ref(&v1)).unwrap(),
        vec![RowChange::Insert { row: Row::from(&v1[..]) }]
    );
    assert_eq!(
        p.apply("document", std::slice::from_ref(&v1), std::slice::from_ref(&v2)).unwrap(),
        vec![RowChange::Update { old: Row::from(&v1[..]), new: Row::from(&v2[..]) }]
    );
    assert_eq!(p.table("document").unwrap().len(), 1);
    assert_eq!(
        p.apply("document", std::slice::from_ref(&v2), NONE).unwrap(),
        vec![RowChange::Delete { row: Row::from(&v2[..]) }]
    );
    assert!(p.table("document").unwrap().is_empty());
}

#[test]
fn a_row_matched_by_two_queries_leaves_only_with_the_last() {
    let mut p = projection();
    let row = doc(7, "t", "shared", 1);
    assert_eq!(p.apply("document", NONE, std::slice::from_ref(&row)).unwrap().len(), 1);
    // A second query set that also matches the row: no visible change.
    assert!(p.apply("document", NONE, std::slice::from_ref(&row)).unwrap().is_empty());
    // The row is deleted from one query's view only (e.g. that query set was unsubscribed).
    assert!(p.apply("document", std::slice::from_ref(&row), NONE).unwrap().is_empty());
    assert_eq!(p.table("document").unwrap().len(), 1);
    assert_eq!(
        p.apply("document", std::slice::from_ref(&row), NONE).unwrap(),
        vec![RowChange::Delete { row: Row::from(&row[..]) }]
    );
}

#[test]
fn an_update_seen_by_two_queries_is_one_update() {
    let mut p = projection();
    let (old, new) = (doc(3, "t", "x", 1), doc(3, "t", "y", 2));
    p.apply("document", NONE, &[old.clone(), old.clone()]).unwrap();
    let changes = p.apply("document", &[old.clone(), old.clone()], &[new.clone(), new.clone()]).unwrap();
    assert_eq!(changes, vec![RowChange::Update { old: Row::from(&old[..]), new: Row::from(&new[..]) }]);
    // Both queries still hold the row.
    p.apply("document", std::slice::from_ref(&new), NONE).unwrap();
    assert_eq!(p.table("document").unwrap().len(), 1);
}

#[test]
fn tables_without_a_primary_key_are_keyed_by_the_whole_row() {
    let schema = reference_schema();
    let mut def = schema.table("document").unwrap().clone();
    def.primary_key = None;
    let mut rows = TableRows::new(Arc::new(def));
    let (a, b) = (doc(1, "t", "a", 1), doc(1, "t", "b", 1));
    rows.apply(&[] as &[Vec<u8>], std::slice::from_ref(&a)).unwrap();
    let changes = rows.apply(std::slice::from_ref(&a), std::slice::from_ref(&b)).unwrap();
    // Without a key, "same row" means "same bytes": the change is a delete and an insert.
    assert_eq!(
        changes,
        vec![RowChange::Delete { row: Row::from(&a[..]) }, RowChange::Insert { row: Row::from(&b[..]) }]
    );
}

#[test]
fn a_malformed_row_is_an_error_and_changes_nothing() {
    let mut p = projection();
    let good = doc(1, "t", "a", 1);
    p.apply("document", NONE, std::slice::from_ref(&good)).unwrap();
    let err = p.apply("document", std::slice::from_ref(&good), &[vec![1, 2, 3]]).unwrap_err();
    assert_eq!(err.code, crate::error::ErrorCode::Protocol);
    assert_eq!(p.table("document").unwrap().iter().next().map(|r| &r[..]), Some(&good[..]));
    assert_eq!(p.apply("no_such_table", NONE, &[good]).unwrap_err().code, crate::error::ErrorCode::Protocol);
}

#[test]
fn deleting_a_row_that_is_not_held_is_ignored() {
    let mut p = projection();
    assert!(p.apply("document", &[doc(9, "t", "ghost", 1)], NONE).unwrap().is_empty());
    assert!(p.table("document").unwrap().is_empty());
}

#[test]
fn the_diff_of_two_projections_turns_one_into_the_other() {
    let (mut before, mut after) = (projection(), projection());
    let (kept, changed_old, changed_new, gone, new) = (
        doc(1, "t", "same", 1),
        doc(2, "t", "old", 1),
        doc(2, "t", "new", 2),
        doc(3, "t", "gone", 1),
        doc(4, "t", "new", 1),
    );
    before.apply("document", NONE, &[kept.clone(), changed_old.clone(), gone.clone()]).unwrap();
    after.apply("document", NONE, &[kept.clone(), changed_new.clone(), new.clone()]).unwrap();
    assert!(!before.same_rows(&after));

    let diff = before.changes_to(&after);
    assert_eq!(diff.len(), 1);
    let (table, mut changes) = diff.into_iter().next().unwrap();
    assert_eq!(table.name, "document");
    changes.sort_by_key(|c| format!("{c:?}"));
    let mut expected = vec![
        RowChange::Delete { row: Row::from(&gone[..]) },
        RowChange::Update { old: Row::from(&changed_old[..]), new: Row::from(&changed_new[..]) },
        RowChange::Insert { row: Row::from(&new[..]) },
    ];
    expected.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(changes, expected);

    // Applying the diff to `before` yields `after`.
    let (mut deletes, mut inserts) = (Vec::new(), Vec::new());
    for change in &changes {
        match change {
            RowChange::Insert { row } => inserts.push(row.to_vec()),
            RowChange::Delete { row } => deletes.push(row.to_vec()),
            RowChange::Update { old, new } => {
                deletes.push(old.to_vec());
                inserts.push(new.to_vec());
            }
        }
    }
    before.apply("document", &deletes, &inserts).unwrap();
    assert!(before.same_rows(&after) && after.same_rows(&before));
    assert!(before.changes_to(&after).is_empty());

    // A projection replacing another keeps its indexes.
    before.table("document").unwrap().index_column(1).unwrap();
    after.copy_indexes_from(&before);
    assert_eq!(after.table("document").unwrap().indexed_columns(), vec![1]);
    assert_eq!(tenant_rows(&after, "t").len(), 3);
}

fn tenant_rows(p: &Projection, tenant: &str) -> Vec<Row> {
    let rows = p.table("document").unwrap();
    let value = rows.def().encode_column_value(1, &json!(tenant)).unwrap();
    let mut found = rows.rows_with(1, &value).expect("the tenant column is indexed");
    found.sort();
    found
}

#[test]
fn a_column_index_finds_rows_by_value_and_follows_every_change() {
    let mut p = projection();
    let (a1, b2) = (doc(1, "a", "x", 1), doc(2, "b", "y", 1));
    p.apply("document", NONE, &[a1.clone(), b2.clone()]).unwrap();
    // Indexing after rows exist covers them; indexing twice is harmless.
    p.table("document").unwrap().index_column(1).unwrap();
    p.table("document").unwrap().index_column(1).unwrap();
    assert_eq!(tenant_rows(&p, "a"), vec![Row::from(&a1[..])]);
    assert_eq!(p.table("document").unwrap().rows_with(2, b"x"), None, "title is not indexed");

    // A row moving from tenant a to tenant b, a new row of a, and a delete.
    let a1_moved = doc(1, "b", "x", 2);
    let a3 = doc(3, "a", "z", 1);
    p.apply("document", std::slice::from_ref(&a1), &[a1_moved.clone(), a3.clone()]).unwrap();
    assert_eq!(tenant_rows(&p, "a"), vec![Row::from(&a3[..])]);
    let mut b = vec![Row::from(&a1_moved[..]), Row::from(&b2[..])];
    b.sort();
    assert_eq!(tenant_rows(&p, "b"), b);
    p.apply("document", std::slice::from_ref(&a3), NONE).unwrap();
    assert!(tenant_rows(&p, "a").is_empty());
    // Emptied values leave the index.
    assert_eq!(p.table("document").unwrap().indexed_values(1), Some(1));
    assert_eq!(
        p.table("document").unwrap().index_column(99).unwrap_err().code,
        crate::error::ErrorCode::InvalidArgument
    );
}
