//! Property tests: random values of every table and reducer parameter type of the reference
//! module, serialized by SpacetimeDB's own BSATN serializer, must decode to the mapped JSON, and
//! that JSON must encode back to the very same bytes.

use proptest::prelude::*;
use serde_json::{json, Value};
use spacetimedb_sats::{bsatn, AlgebraicType, AlgebraicTypeRef, AlgebraicValue, ProductValue};

use super::reference::{any_named_product, expected_json};
use super::{any_table_row, proptest_config, reference_raw_def, reference_schema, row_json};

/// Random argument lists of every reducer: `(reducer name, arguments)`.
fn any_reducer_call() -> impl Strategy<Value = (String, ProductValue)> {
    let raw = reference_raw_def();
    let params = raw.reducers.iter().map(|r| (r.name.to_string(), AlgebraicType::Product(r.params.clone()))).collect();
    any_named_product(&raw.typespace, params)
}

proptest! {
    #![proptest_config(proptest_config(600))]

    #[test]
    fn rows_decode_to_the_mapping_and_encode_back_to_the_same_bytes((table_name, row) in any_table_row()) {
        let raw = reference_raw_def();
        let schema = reference_schema();
        let table = schema.table(&table_name).unwrap();
        let row_ref = raw.tables.iter().find(|t| *t.name == *table_name).unwrap().product_type_ref;
        let reference = bsatn::to_vec(&row).unwrap();

        // Decode: our JSON is the mapping of SpacetimeDB's value.
        let decoded = row_json(&schema, &table_name, &reference);
        let expected = expected_json(&raw.typespace, &AlgebraicType::Ref(row_ref), &AlgebraicValue::Product(row.clone()));
        prop_assert_eq!(&decoded, &expected);

        // Column ranges: each is exactly the reference encoding of that column's value, and
        // encoding the column's JSON gives the same bytes (what `where` filters rely on).
        let ranges = table.column_ranges(&reference).unwrap();
        prop_assert_eq!(ranges.len(), table.columns.len());
        for (index, (range, value)) in ranges.iter().zip(row.elements.iter()).enumerate() {
            prop_assert_eq!(&reference[range.clone()], &bsatn::to_vec(value).unwrap()[..]);
            let column_json = &decoded[&table.columns[index].name];
            prop_assert_eq!(&table.encode_column_value(index, column_json).unwrap()[..], &reference[range.clone()]);
        }

        // Encode: the decoded row, as an object or in column order, is the reference row again.
        if table_name == "all_types" {
            let insert = schema.reducer("insert_all_types").unwrap();
            prop_assert_eq!(&insert.encode_args(&json!([decoded.clone()])).unwrap(), &reference);
            prop_assert_eq!(&insert.encode_args(&json!({ "row": decoded.clone() })).unwrap(), &reference);
            let positional: Vec<Value> = table.columns.iter().map(|c| decoded[&c.name].clone()).collect();
            prop_assert_eq!(&insert.encode_args(&json!([positional])).unwrap(), &reference);
        }
    }

    #[test]
    fn reducer_arguments_encode_like_spacetimedb((reducer_name, args) in any_reducer_call()) {
        let raw = reference_raw_def();
        let schema = reference_schema();
        let reducer = schema.reducer(&reducer_name).unwrap();
        let params = &raw.reducers.iter().find(|r| *r.name == *reducer_name).unwrap().params;
        let reference = bsatn::to_vec(&args).unwrap();

        let keyed = expected_json(&raw.typespace, &AlgebraicType::Product(params.clone()), &AlgebraicValue::Product(args));
        prop_assert_eq!(&reducer.encode_args(&keyed).unwrap(), &reference);
        let positional: Vec<Value> = reducer.params.iter().map(|p| keyed[&p.name].clone()).collect();
        prop_assert_eq!(&reducer.encode_args(&Value::Array(positional)).unwrap(), &reference);
    }
}

#[test]
fn typespace_refs_in_the_fixture_are_what_the_generators_expect() {
    // Guards the test set-up itself: the all_types row is typespace entry 0 and has 30 columns.
    let raw = reference_raw_def();
    let all_types = raw.tables.iter().find(|t| &*t.name == "all_types").unwrap();
    assert_eq!(all_types.product_type_ref, AlgebraicTypeRef(0));
    let AlgebraicType::Product(row) = &raw.typespace.types[0] else { panic!("row type is not a product") };
    assert_eq!(row.elements.len(), 30);
}
