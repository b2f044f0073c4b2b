//! Types the reference module does not have: recursion through refs, nested options, unnamed
//! fields, the unit type, 2.x's Uuid, lifecycle reducers, and the nesting-depth limit.

use serde_json::{json, Value};
use spacetimedb_sats::{bsatn, AlgebraicValue, ProductValue};

use super::row_json;
use crate::codec::value::MAX_DEPTH;
use crate::codec::{DecodeErrorKind, Schema};
use crate::error::ErrorCode;

fn unit() -> Value {
    json!({ "Product": { "elements": [] } })
}

fn element(name: &str, ty: Value) -> Value {
    json!({ "name": { "some": name }, "algebraic_type": ty })
}

fn option(ty: Value) -> Value {
    json!({ "Sum": { "variants": [element("some", ty), element("none", unit())] } })
}

/// A module with one table `node` whose row has a recursive `Tree` and the other odd types.
fn synthetic_schema() -> Schema {
    let row = json!({ "Product": { "elements": [
        element("id", json!({ "U32": [] })),
        element("tree", json!({ "Ref": 1 })),
        element("nested", option(option(json!({ "I32": [] })))),
        element("pair", json!({ "Product": { "elements": [
            { "name": { "none": [] }, "algebraic_type": { "U8": [] } },
            { "name": { "none": [] }, "algebraic_type": { "String": [] } },
        ]}})),
        element("nothing", unit()),
        element("uuid", json!({ "Product": { "elements": [element("__uuid__", json!({ "U128": [] }))] } })),
        element("when", json!({ "Sum": { "variants": [
            element("Interval", json!({ "Product": { "elements": [element("__time_duration_micros__", json!({ "I64": [] }))] } })),
            element("Time", json!({ "Product": { "elements": [element("__timestamp_micros_since_unix_epoch__", json!({ "I64": [] }))] } })),
        ]}})),
    ]}});
    let tree = json!({ "Sum": { "variants": [
        element("Leaf", unit()),
        element("Node", json!({ "Array": { "Ref": 1 } })),
    ]}});
    // Unnamed and recursive: its readable name must not loop.
    let chain = json!({ "Product": { "elements": [element("next", option(json!({ "Ref": 2 })))] } });
    let schema = json!({
        "typespace": { "types": [row, tree, chain, { "Ref": 1 }] },
        "tables": [{
            "name": "node", "product_type_ref": 0, "primary_key": [0], "indexes": [], "constraints": [],
            "sequences": [], "schedule": { "none": [] }, "table_type": { "User": [] }, "table_access": { "Public": [] },
        }],
        "reducers": [
            { "name": "init", "params": { "elements": [] }, "lifecycle": { "some": { "Init": [] } } },
            { "name": "chain", "params": { "elements": [element("link", json!({ "Ref": 2 }))] }, "lifecycle": { "none": [] } },
            { "name": "plant", "params": { "elements": [element("tree", json!({ "Ref": 3 }))] }, "lifecycle": { "none": [] } },
        ],
        "types": [
            { "name": { "scope": [], "name": "Row" }, "ty": 0, "custom_ordering": true },
            { "name": { "scope": ["garden"], "name": "Tree" }, "ty": 1, "custom_ordering": true },
        ],
        "misc_exports": [],
        "row_level_security": [],
    });
    Schema::from_json(&schema.to_string()).unwrap()
}

/// BSATN of a `Tree` nested `depth` levels deep: `Node([Node([... Leaf])])`.
fn deep_tree(depth: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..depth {
        bytes.push(1);
        bytes.extend(1u32.to_le_bytes());
    }
    bytes.push(0);
    bytes
}

fn node_row(tree: &[u8], nested: &[u8]) -> Vec<u8> {
    let mut bytes = 7u32.to_le_bytes().to_vec();
    bytes.extend(tree);
    bytes.extend(nested);
    bytes.extend([9, 1, 0, 0, 0, b'x']); // pair: (9, "x")
    bytes.extend(0x0195_f3a1_7c4e_7b2d_9f00_1a2b_3c4d_5e6fu128.to_le_bytes()); // uuid
    bytes.push(1); // when: Time(...)
    bytes.extend(1_000_000i64.to_le_bytes());
    bytes
}

#[test]
fn recursive_and_odd_types_round_trip() {
    let schema = synthetic_schema();
    let table = schema.table("node").unwrap();
    // Node([Leaf, Node([])])
    let tree = [1, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    for (nested_bytes, nested_json) in
        [(vec![1], json!(null)), (vec![0, 1], json!({ "some": null })), (vec![0, 0, 5, 0, 0, 0], json!({ "some": 5 }))]
    {
        let bytes = node_row(&tree, &nested_bytes);
        let row = row_json(&schema, "node", &bytes);
        assert_eq!(
            row,
            json!({
                "id": 7,
                "tree": { "tag": "Node", "value": [{ "tag": "Leaf" }, { "tag": "Node", "value": [] }] },
                "nested": nested_json,
                "pair": { "0": 9, "1": "x" },
                "nothing": {},
                "uuid": "0195f3a1-7c4e-7b2d-9f00-1a2b3c4d5e6f",
                "when": { "tag": "Time", "value": "1970-01-01T00:00:01.000000Z" },
            })
        );
        let ranges = table.column_ranges(&bytes).unwrap();
        assert_eq!(ranges[1], 4..4 + tree.len());
        for (index, column) in table.columns.iter().enumerate() {
            assert_eq!(table.encode_column_value(index, &row[&column.name]).unwrap(), &bytes[ranges[index].clone()]);
        }
    }
}

#[test]
fn type_names_of_odd_types() {
    let schema = synthetic_schema();
    let types: Vec<&str> = schema.table("node").unwrap().columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "u32",
            "garden::Tree",
            "Option<Option<i32>>",
            "{ 0: u8, 1: String }",
            "()",
            "Uuid",
            "enum { Interval(TimeDuration), Time(Timestamp) }",
        ]
    );
    assert_eq!(schema.reducer("chain").unwrap().params[0].type_name, "{ next: Option<…> }");
    // A typespace entry that only refers to another one is that type.
    assert_eq!(schema.reducer("plant").unwrap().params[0].type_name, "garden::Tree");
}

#[test]
fn lifecycle_and_parameterless_reducers() {
    let schema = synthetic_schema();
    let init = schema.reducer("init").unwrap();
    assert!(init.lifecycle);
    for args in [json!(null), json!([]), json!({})] {
        assert_eq!(init.encode_args(&args).unwrap(), Vec::<u8>::new());
    }
    assert_eq!(init.encode_args(&json!([1])).unwrap_err().message, "init: expected 0 arguments (none), got 1");
    assert_eq!(
        init.encode_args(&json!({ "x": 1 })).unwrap_err().message,
        "init: unknown argument 'x' (parameters: none)"
    );
    let described = schema.describe();
    let names: Vec<&Value> = described["reducers"].as_array().unwrap().iter().map(|r| &r["name"]).collect();
    assert_eq!(names, [&json!("chain"), &json!("plant")]);
}

#[test]
fn recursive_values_encode() {
    let schema = synthetic_schema();
    let chain = schema.reducer("chain").unwrap();
    let link = json!({ "next": { "next": { "next": null } } });
    assert_eq!(chain.encode_args(&json!([link])).unwrap(), [0, 0, 1]);
    let reference = bsatn::to_vec(&ProductValue::from(vec![AlgebraicValue::product([AlgebraicValue::OptionSome(
        AlgebraicValue::product([AlgebraicValue::OptionNone()]),
    )])]))
    .unwrap();
    assert_eq!(chain.encode_args(&json!({ "link": { "next": { "next": null } } })).unwrap(), reference);
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error_not_a_stack_overflow() {
    let schema = synthetic_schema();
    let table = schema.table("node").unwrap();
    let nested_none = [1u8];

    // Each tree level is a sum and an array: two levels of nesting, under the row's product.
    let within = node_row(&deep_tree(MAX_DEPTH / 2 - 1), &nested_none);
    assert!(table.row_to_json(&within, &mut Vec::new()).is_ok());
    assert!(table.column_ranges(&within).is_ok());

    for depth in [MAX_DEPTH, 100_000] {
        let bytes = node_row(&deep_tree(depth), &nested_none);
        let err = table.row_to_json(&bytes, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooDeep { limit: MAX_DEPTH });
        assert_eq!(table.column_ranges(&bytes).unwrap_err().kind, DecodeErrorKind::TooDeep { limit: MAX_DEPTH });
    }

    // Built by hand: `json!` would serialize (deep-copy, recursively) the value at every level.
    let mut deep_link = Value::Null;
    for _ in 0..100_000 {
        deep_link = Value::Object([("next".to_owned(), deep_link)].into_iter().collect());
    }
    let mut args = Value::Array(vec![deep_link]);
    let err = schema.reducer("chain").unwrap().encode_args(&args).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.ends_with(&format!("nested deeper than {MAX_DEPTH} levels")), "{}", err.message);
    // serde_json drops deep values recursively; take this one apart iteratively to spare the stack.
    let mut deep_link = args[0].take();
    while let Value::Object(mut map) = deep_link {
        deep_link = map.remove("next").unwrap_or(Value::Null);
    }
}

#[test]
fn zero_sized_arrays_are_capped() {
    // A Vec of the unit type consumes no bytes per element; its count is capped instead.
    let schema = Schema::from_json(
        &json!({
            "typespace": { "types": [{ "Product": { "elements": [element("units", json!({ "Array": unit() }))] } }] },
            "tables": [{
                "name": "t", "product_type_ref": 0, "primary_key": [], "indexes": [], "constraints": [],
                "sequences": [], "schedule": { "none": [] }, "table_type": { "User": [] }, "table_access": { "Private": [] },
            }],
            "reducers": [], "types": [], "misc_exports": [], "row_level_security": [],
        })
        .to_string(),
    )
    .unwrap();
    let table = schema.table("t").unwrap();
    let mut out = Vec::new();
    table.row_to_json(&3u32.to_le_bytes(), &mut out).unwrap();
    assert_eq!(out, br#"{"units":[{},{},{}]}"#);
    let err = table.row_to_json(&u32::MAX.to_le_bytes(), &mut out).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::LengthTooLarge { len: u32::MAX, available: 0 });
}
