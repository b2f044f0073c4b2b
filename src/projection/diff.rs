//! Comparing two projections: how a session rehydrates after a reconnect (it diffs the rows it held
//! with the rows the new connection's subscriptions returned, so observers see what changed while it
//! was away, not a reset), and how make-before-break checks that two connections agree.

use std::sync::Arc;

use super::{Projection, RowChange, TableRows};
use crate::codec::schema::TableDef;

impl TableRows {
    /// The changes that turn `self` into `other`: deletes, then updates and inserts.
    fn changes_to(&self, other: &TableRows) -> Vec<RowChange> {
        let mut changes = Vec::new();
        for (key, old) in &self.rows {
            match other.rows.get(key) {
                None => changes.push(RowChange::Delete { row: old.row.clone() }),
                Some(new) if new.row != old.row => {
                    changes.push(RowChange::Update { old: old.row.clone(), new: new.row.clone() })
                }
                Some(_) => {}
            }
        }
        for (key, new) in &other.rows {
            if !self.rows.contains_key(key) {
                changes.push(RowChange::Insert { row: new.row.clone() });
            }
        }
        changes
    }

    fn same_rows(&self, other: &TableRows) -> bool {
        self.rows.len() == other.rows.len()
            && self.rows.iter().all(|(key, row)| other.rows.get(key).is_some_and(|o| o.row == row.row))
    }
}

impl Projection {
    /// For every table that differs, the changes that turn `self` into `other`.
    pub fn changes_to(&self, other: &Projection) -> Vec<(Arc<TableDef>, Vec<RowChange>)> {
        let mut out = Vec::new();
        for (name, rows) in &self.tables {
            if let Some(other_rows) = other.tables.get(name) {
                let changes = rows.changes_to(other_rows);
                if !changes.is_empty() {
                    out.push((rows.def.clone(), changes));
                }
            }
        }
        out
    }

    /// Whether both hold the same rows (reference counts aside).
    pub fn same_rows(&self, other: &Projection) -> bool {
        self.tables.iter().all(|(name, rows)| other.tables.get(name).is_some_and(|o| rows.same_rows(o)))
    }
}

impl Projection {
    /// Indexes `self` by the same columns as `other` (a staging projection about to replace `other` must
    /// keep the indexes observers rely on, e.g. the relay's tenant index).
    pub fn copy_indexes_from(&self, other: &Projection) {
        for (name, rows) in &other.tables {
            if let Some(mine) = self.tables.get(name) {
                for column in rows.indexed_columns() {
                    // The column exists: both projections come from the same schema.
                    let _ = mine.index_column(column);
                }
            }
        }
    }
}
