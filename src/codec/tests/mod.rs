//! Tests of the schema and codec against the reference module's schema
//! (`tests/fixtures/reference-schema.v9.json`, the real 1.3.0 server response) and against
//! SpacetimeDB's own BSATN serializer.

pub(crate) mod decode_bench;
mod encode_errors;
mod hostile_input;
mod known_answers;
mod recursive_types;
mod reference;
mod round_trip;
mod schema_2x;
mod schema_model;
pub(crate) mod v2_frames;

use spacetimedb_lib::db::raw_def::v9::RawModuleDefV9;
use spacetimedb_sats::de::serde::DeserializeWrapper;

use super::Schema;

/// Property-test settings: `cases` cases, and failing seeds saved next to the test's source file
/// (`<file>.proptest-regressions`) to be re-run first from then on.
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence};
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    }
}

/// The schema JSON of the reference module (`examples/module`).
pub(crate) const REFERENCE_SCHEMA_JSON: &str = include_str!("../../../tests/fixtures/reference-schema.v9.json");

/// The reference schema, compiled by our code.
pub(crate) fn reference_schema() -> Schema {
    Schema::from_json(REFERENCE_SCHEMA_JSON).expect("the reference schema parses")
}

/// The reference schema as SpacetimeDB's own types, for building reference values.
pub(crate) fn reference_raw_def() -> RawModuleDefV9 {
    serde_json::from_str::<DeserializeWrapper<RawModuleDefV9>>(REFERENCE_SCHEMA_JSON).unwrap().0
}

/// Random rows of every table of the reference module: `(table name, row)`.
pub(crate) fn any_table_row() -> impl proptest::strategy::Strategy<Value = (String, spacetimedb_sats::ProductValue)> {
    let raw = reference_raw_def();
    let rows = raw
        .tables
        .iter()
        .map(|t| (t.name.to_string(), spacetimedb_sats::AlgebraicType::Ref(t.product_type_ref)))
        .collect();
    reference::any_named_product(&raw.typespace, rows)
}

/// Decodes a row to JSON text with `table`'s codec and parses the text.
pub(crate) fn row_json(schema: &Schema, table: &str, bsatn: &[u8]) -> serde_json::Value {
    let mut out = Vec::new();
    schema.table(table).unwrap().row_to_json(bsatn, &mut out).unwrap();
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("decoder wrote invalid JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

/// A row list of `rows` as servers send it (`RowOffsets`), for building server messages in tests.
pub(crate) fn row_list(rows: &[Vec<u8>]) -> super::protocol::RowList {
    use spacetimedb_client_api_messages::websocket::common::RowSizeHint;
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for row in rows {
        offsets.push(data.len() as u64);
        data.extend_from_slice(row);
    }
    super::protocol::RowList::new(RowSizeHint::RowOffsets(offsets.into()), data.into())
}
