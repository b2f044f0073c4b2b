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

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use index::ColumnIndex;

use crate::client::schema::{Schema, TableDef};
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

struct StoredRow {
    row: Row,
    /// How many subscribed queries currently match this row.
    refs: u32,
}

/// The rows of one table.
pub struct TableRows {
    def: Arc<TableDef>,
    rows: HashMap<Box<[u8]>, StoredRow>,
    /// Column indexes. Behind a lock only so that readers (who hold `&Projection`) can add one; `apply`
    /// has `&mut self` and reaches them without locking.
    indexes: RwLock<Vec<ColumnIndex>>,
}

impl TableRows {
    fn new(def: Arc<TableDef>) -> Self {
        TableRows { def, rows: HashMap::new(), indexes: RwLock::new(Vec::new()) }
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

    /// The key that identifies a row: its primary key bytes, or the whole row without a primary key.
    fn key_of(&self, row: &[u8]) -> Result<Box<[u8]>> {
        match self.def.primary_key {
            Some(pk) => {
                let ranges = self.def.column_ranges(row)?;
                let range = ranges.get(pk).cloned().ok_or_else(|| {
                    GatewayError::protocol(format!("a {} row has no primary key column", self.def.name))
                })?;
                Ok(row[range].into())
            }
            None => Ok(row.into()),
        }
    }

    /// Applies one table's part of a transaction (deletes before inserts, as the server computes them)
    /// and returns what changed for observers.
    fn apply(&mut self, deletes: &[impl AsRef<[u8]>], inserts: &[impl AsRef<[u8]>]) -> Result<Vec<RowChange>> {
        // Decode every key first, so a malformed row leaves the projection untouched.
        let delete_keys = deletes.iter().map(|r| self.key_of(r.as_ref())).collect::<Result<Vec<_>>>()?;
        let insert_keys = inserts.iter().map(|r| self.key_of(r.as_ref())).collect::<Result<Vec<_>>>()?;

        // What each touched key looked like before this transaction, in first-touch order.
        let mut touched: Vec<(Box<[u8]>, Option<Row>)> = Vec::new();
        let mut seen: HashMap<Box<[u8]>, ()> = HashMap::new();
        let mut remember = |key: &[u8], rows: &HashMap<Box<[u8]>, StoredRow>| {
            if seen.insert(key.into(), ()).is_none() {
                touched.push((key.into(), rows.get(key).map(|s| s.row.clone())));
            }
        };

        for key in delete_keys {
            remember(&key, &self.rows);
            if let Entry::Occupied(mut e) = self.rows.entry(key) {
                let stored = e.get_mut();
                stored.refs -= 1;
                if stored.refs == 0 {
                    e.remove();
                }
            }
            // A delete of a row we do not hold cannot change what observers see; ignore it.
        }
        for (key, row) in insert_keys.into_iter().zip(inserts) {
            remember(&key, &self.rows);
            let row = row.as_ref();
            match self.rows.entry(key) {
                Entry::Occupied(mut e) => {
                    let stored = e.get_mut();
                    stored.refs += 1;
                    if &*stored.row != row {
                        stored.row = Row::from(row);
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(StoredRow { row: Row::from(row), refs: 1 });
                }
            }
        }

        let indexes = self.indexes.get_mut().unwrap();
        Ok(touched
            .into_iter()
            .filter_map(|(key, before)| {
                let after = self.rows.get(&key).map(|s| s.row.clone());
                if before != after {
                    for index in indexes.iter_mut() {
                        if let Some(old) = &before {
                            index.remove(&self.def, &key, old);
                        }
                        if let Some(new) = &after {
                            index.add(&self.def, &key, new);
                        }
                    }
                }
                match (before, after) {
                    (None, Some(row)) => Some(RowChange::Insert { row }),
                    (Some(row), None) => Some(RowChange::Delete { row }),
                    (Some(old), Some(new)) if old != new => Some(RowChange::Update { old, new }),
                    _ => None,
                }
            })
            .collect())
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

mod index;
#[cfg(test)]
pub(crate) mod tests;
