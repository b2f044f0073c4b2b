//! JSON in, checked against the schema: reducer arguments, column-equality filters, table names (the
//! value mapping is in docs/value-mapping.md).

use super::schema::{Schema, TableDef};
use crate::error::{GatewayError, Result};

/// A column-equality filter, pre-encoded to BSATN so rows are compared byte-wise without decoding.
#[derive(Default)]
pub struct RowFilter {
    columns: Vec<(usize, Vec<u8>)>,
}

impl RowFilter {
    /// Parses `{ column: value, … }` (JSON text) against a table's columns.
    pub fn parse(table: &TableDef, where_json: &str) -> Result<RowFilter> {
        let value: serde_json::Value = serde_json::from_str(where_json).map_err(|e| {
            GatewayError::invalid_argument(format!("the filter for '{}' is not valid JSON: {e}", table.name))
        })?;
        let serde_json::Value::Object(map) = value else {
            return Err(GatewayError::invalid_argument(format!(
                "the filter for '{}' must be an object of column: value pairs",
                table.name
            )));
        };
        let mut columns = Vec::with_capacity(map.len());
        for (column, value) in &map {
            let index = table.column_index(column).ok_or_else(|| {
                let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_ref()).collect();
                GatewayError::invalid_argument(format!(
                    "table '{}' has no column '{column}' (it has: {})",
                    table.name,
                    names.join(", ")
                ))
            })?;
            columns.push((index, table.encode_column_value(index, value)?));
        }
        Ok(RowFilter { columns })
    }

    /// Whether a row (BSATN) matches every column equality.
    pub fn matches(&self, table: &TableDef, row: &[u8]) -> Result<bool> {
        if self.columns.is_empty() {
            return Ok(true);
        }
        let ranges = table.column_ranges(row)?;
        Ok(self
            .columns
            .iter()
            .all(|(index, expected)| ranges.get(*index).is_some_and(|r| &row[r.clone()] == expected.as_slice())))
    }
}

/// Looks a table up by name, or says which tables exist.
pub fn find_table<'a>(schema: &'a Schema, name: &str) -> Result<&'a TableDef> {
    schema.table(name).ok_or_else(|| {
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_ref()).collect();
        GatewayError::invalid_argument(format!("no table named '{name}' in this module (it has: {})", names.join(", ")))
    })
}

/// Encodes reducer arguments given as JSON text (an array, or an object keyed by parameter name).
pub fn encode_call_args(schema: &Schema, name: &str, args_json: &str) -> Result<Vec<u8>> {
    let reducer = schema.reducer(name).filter(|r| !r.lifecycle).ok_or_else(|| {
        let known: Vec<&str> = schema.reducers.iter().filter(|r| !r.lifecycle).map(|r| r.name.as_ref()).collect();
        GatewayError::invalid_argument(format!(
            "no callable reducer named '{name}' in this module (it has: {})",
            known.join(", ")
        ))
    })?;
    let args: serde_json::Value = serde_json::from_str(args_json)
        .map_err(|e| GatewayError::invalid_argument(format!("the arguments of '{name}' are not valid JSON: {e}")))?;
    reducer.encode_args(&args)
}
