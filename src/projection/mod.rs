//! The server-side projection: the current rows of every subscribed table, kept as BSATN and keyed by
//! primary key (or by the whole row for tables without one).
//!
//! Rows are reference-counted by subscription: when two subscribed queries both match a row, the
//! server sends it twice (once per query) and deletes it twice, so a row leaves the projection only when
//! its last matching query lets go of it. Changes are reported as the projection sees them: a row that
//! becomes visible is an insert, one that stops being visible a delete, and a delete plus an insert of the
//! same primary key within one transaction an update.
//!
//! A table can be indexed by one or more columns ([`TableRows::index_column`]; the SSE relay indexes
//! tenant columns), so the rows holding one value are found without a scan.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, RwLock};

use index::ColumnIndex;

use crate::codec::schema::{Schema, TableDef};
use crate::error::{GatewayError, Result};

/// A row as BSATN bytes, shared between the projection, change events and the relay.
pub type Row = Arc<[u8]>;

/// One change of the projection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowChange {
    Insert { row: Row },
    Update { old: Row, new: Row },
    Delete { row: Row },
}

impl RowChange {
    /// The row as it is after the change (the deleted row for a delete).
    pub fn row(&self) -> &Row {
        match self {
            RowChange::Insert { row } | RowChange::Delete { row } => row,
            RowChange::Update { new, .. } => new,
        }
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

struct StoredRow {
    row: Row,
    /// How many subscribed queries currently match this row.
    refs: u32,
    /// The batch (see `TableRows::batch`) that created this entry.
    created: u64,
}

/// The rows of one table.
pub struct TableRows {
    def: Arc<TableDef>,
    rows: FastMap<Box<[u8]>, StoredRow>,
    /// Counts `apply` calls, to tell rows created by the current batch from older ones.
    batch: u64,
    /// Reused for column ranges while finding keys.
    ranges: Vec<Range<usize>>,
    /// Column indexes. Behind a lock only so that readers (who hold `&Projection`) can add one; `apply`
    /// has `&mut self` and reaches them without locking.
    indexes: RwLock<Vec<ColumnIndex>>,
}

impl TableRows {
    fn new(def: Arc<TableDef>) -> Self {
        TableRows { def, rows: FastMap::default(), batch: 0, ranges: Vec::new(), indexes: RwLock::new(Vec::new()) }
    }

    pub fn def(&self) -> &Arc<TableDef> {
        &self.def
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The current rows, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Row> {
        self.rows.values().map(|r| &r.row)
    }

    /// Indexes the rows by the value of `column` (idempotent), so [`TableRows::rows_with`] can find them
    /// without a scan; the index is kept up to date by every later change.
    pub fn index_column(&self, column: usize) -> Result<()> {
        if column >= self.def.columns.len() {
            return Err(GatewayError::invalid_argument(format!("{}: no column {column}", self.def.name)));
        }
        let mut indexes = self.indexes.write().unwrap();
        if indexes.iter().any(|i| i.column() == column) {
            return Ok(());
        }
        let mut index = ColumnIndex::new(column);
        for (key, stored) in &self.rows {
            index.add(&self.def, key, &stored.row);
        }
        indexes.push(index);
        Ok(())
    }

    /// The columns this table is indexed by.
    pub fn indexed_columns(&self) -> Vec<usize> {
        self.indexes.read().unwrap().iter().map(|i| i.column()).collect()
    }

    /// The rows whose `column` holds exactly the BSATN bytes `value`, through the column's index; `None`
    /// if the column is not indexed.
    pub fn rows_with(&self, column: usize, value: &[u8]) -> Option<Vec<Row>> {
        let indexes = self.indexes.read().unwrap();
        let index = indexes.iter().find(|i| i.column() == column)?;
        Some(index.keys(value).filter_map(|key| self.rows.get(key)).map(|s| s.row.clone()).collect())
    }

    /// How many distinct values the index of `column` holds, if it is indexed.
    pub fn indexed_values(&self, column: usize) -> Option<usize> {
        self.indexes.read().unwrap().iter().find(|i| i.column() == column).map(|i| i.distinct_values())
    }

    /// Where a row's key lies in it: its primary key column, or the whole row without a primary key.
    /// Checks the row's whole structure on the way, so malformed rows never enter the projection.
    fn key_range(&mut self, row: &[u8]) -> Result<Range<usize>> {
        self.def.column_ranges_into(row, &mut self.ranges)?;
        match self.def.primary_key {
            Some(pk) => self
                .ranges
                .get(pk)
                .cloned()
                .ok_or_else(|| GatewayError::protocol(format!("a {} row has no primary key column", self.def.name))),
            None => Ok(0..row.len()),
        }
    }

    /// Each row with its key's range.
    fn keyed<'r>(&mut self, rows: &'r [impl AsRef<[u8]>]) -> Result<Vec<(&'r [u8], Range<usize>)>> {
        rows.iter().map(|r| Ok((r.as_ref(), self.key_range(r.as_ref())?))).collect()
    }

    /// Applies one table's part of a transaction (deletes before inserts, as the server computes them)
    /// and returns what changed for observers: deletes (and updates found through them) first, then
    /// inserts and updates, each key once.
    fn apply(&mut self, deletes: &[impl AsRef<[u8]>], inserts: &[impl AsRef<[u8]>]) -> Result<Vec<RowChange>> {
        // Find every key first, so a malformed row leaves the projection untouched.
        let deletes = self.keyed(deletes)?;
        let inserts = self.keyed(inserts)?;
        self.batch += 1;
        let batch = self.batch;

        // Rows this batch removed (their last query let go), and the previous version of rows it
        // replaced in place: the "before" side of the changes, keyed by slices of the input (no copies).
        let mut removed: FastMap<&[u8], Row> = FastMap::default();
        let mut replaced: FastMap<&[u8], Row> = FastMap::default();
        for (row, range) in &deletes {
            let key = &row[range.clone()];
            if let Some(stored) = self.rows.get_mut(key) {
                stored.refs -= 1;
                if stored.refs == 0 {
                    let gone = self.rows.remove(key).expect("present above");
                    removed.entry(key).or_insert(gone.row);
                }
            }
            // A delete of a row we do not hold cannot change what observers see; ignore it.
        }
        for (row, range) in &inserts {
            let key = &row[range.clone()];
            match self.rows.get_mut(key) {
                Some(stored) => {
                    stored.refs += 1;
                    if &*stored.row != *row {
                        if stored.created != batch {
                            replaced.entry(key).or_insert_with(|| stored.row.clone());
                        }
                        stored.row = Row::from(*row);
                    }
                }
                None => {
                    self.rows.insert(key.into(), StoredRow { row: Row::from(*row), refs: 1, created: batch });
                }
            }
        }

        let mut changes = Vec::new();
        let mut reported: FastSet<&[u8]> = FastSet::default();
        for (row, range) in deletes.iter().chain(&inserts) {
            let key = &row[range.clone()];
            if !reported.insert(key) {
                continue;
            }
            let now = self.rows.get(key);
            let before = removed.get(key).or_else(|| replaced.get(key));
            let change = match (before, now) {
                (Some(old), None) => RowChange::Delete { row: old.clone() },
                (Some(old), Some(now)) if *old != now.row => {
                    RowChange::Update { old: old.clone(), new: now.row.clone() }
                }
                (None, Some(now)) if now.created == batch => RowChange::Insert { row: now.row.clone() },
                // Unchanged bytes, a reference count that moved, or a delete of a row we never held.
                _ => continue,
            };
            for index in self.indexes.get_mut().unwrap().iter_mut() {
                if let RowChange::Delete { row: old } | RowChange::Update { old, .. } = &change {
                    index.remove(&self.def, key, old);
                }
                if let RowChange::Insert { row: new } | RowChange::Update { new, .. } = &change {
                    index.add(&self.def, key, new);
                }
            }
            changes.push(change);
        }
        Ok(changes)
    }
}

/// The projection of every table of one database.
pub struct Projection {
    tables: HashMap<Box<str>, TableRows>,
}

impl Projection {
    pub fn new(schema: &Schema) -> Self {
        let tables =
            schema.tables.iter().map(|t| (t.name.clone().into(), TableRows::new(Arc::new(t.clone())))).collect();
        Projection { tables }
    }

    pub fn table(&self, name: &str) -> Option<&TableRows> {
        self.tables.get(name)
    }

    /// Applies one table's deletes and inserts; see [`TableRows::apply`].
    pub fn apply(
        &mut self,
        table: &str,
        deletes: &[impl AsRef<[u8]>],
        inserts: &[impl AsRef<[u8]>],
    ) -> Result<Vec<RowChange>> {
        let rows = self
            .tables
            .get_mut(table)
            .ok_or_else(|| GatewayError::protocol(format!("the server sent rows of an unknown table '{table}'")))?;
        rows.apply(deletes, inserts)
    }
}

mod changes;
mod diff;
mod index;
#[cfg(test)]
mod ingest_bench;

pub use changes::{ChangeSink, Commit, TableChanges, TableEvents, Transaction, TransactionMeta};

#[cfg(test)]
pub(crate) mod tests;
