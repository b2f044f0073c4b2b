//! Secondary indexes of the projection: from the bytes of one column (e.g. a tenant column) to the keys of
//! the rows holding them, so that the rows of one tenant are found without scanning every tenant's rows.

use std::collections::{HashMap, HashSet};

use crate::codec::schema::TableDef;

/// The rows of one table grouped by the BSATN bytes of one column.
pub(super) struct ColumnIndex {
    column: usize,
    keys_by_value: HashMap<Box<[u8]>, HashSet<Box<[u8]>>>,
}

impl ColumnIndex {
    pub(super) fn new(column: usize) -> Self {
        ColumnIndex { column, keys_by_value: HashMap::new() }
    }

    /// The bytes of the indexed column of `row`, or `None` if the row does not decode (such rows are
    /// never indexed, and so never found by value: the index only ever under-reports undecodable rows).
    fn value_of<'r>(&self, def: &TableDef, row: &'r [u8]) -> Option<&'r [u8]> {
        let ranges = def.column_ranges(row).ok()?;
        ranges.get(self.column).map(|r| &row[r.clone()])
    }

    pub(super) fn column(&self) -> usize {
        self.column
    }

    pub(super) fn add(&mut self, def: &TableDef, key: &[u8], row: &[u8]) {
        if let Some(value) = self.value_of(def, row) {
            self.keys_by_value.entry(value.into()).or_default().insert(key.into());
        }
    }

    pub(super) fn remove(&mut self, def: &TableDef, key: &[u8], row: &[u8]) {
        let Some(value) = self.value_of(def, row) else { return };
        if let Some(keys) = self.keys_by_value.get_mut(value) {
            keys.remove(key);
            if keys.is_empty() {
                self.keys_by_value.remove(value);
            }
        }
    }

    /// The keys of the rows whose indexed column holds exactly `value`.
    pub(super) fn keys(&self, value: &[u8]) -> impl Iterator<Item = &[u8]> {
        self.keys_by_value.get(value).into_iter().flat_map(|keys| keys.iter().map(|k| &**k))
    }

    /// How many distinct values the index holds (for tests and diagnostics).
    pub(super) fn distinct_values(&self) -> usize {
        self.keys_by_value.len()
    }
}
