//! Every way arguments can be wrong gives `INVALID_ARGUMENT` with a message naming the reducer
//! (or table and column), the parameter, the path inside it and its type.

use serde_json::{json, Value};

use super::reference_schema;
use crate::error::ErrorCode;

/// The error message of calling `reducer` with `args`; fails the test if encoding succeeds or
/// gives another code.
fn args_error(reducer: &str, args: Value) -> String {
    let err = reference_schema().reducer(reducer).unwrap().encode_args(&args).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument, "{}", err.message);
    err.message
}

/// Valid `set_scalars` arguments, keyed by parameter, to break one at a time.
fn set_scalars_args() -> Value {
    json!({
        "id": 1, "a_u64": "2", "a_i128": "-3", "a_identity": "00".repeat(32),
        "a_timestamp": "2024-01-01T00:00:00Z", "maybe_string": null, "bytes": "", "color": "Red",
        "shape": { "tag": "Circle", "value": 1.0 },
    })
}

/// Checks `(parameter, bad value, expected message)` cases of `set_scalars`: each breaks one
/// argument of [`set_scalars_args`].
fn expect_set_scalars_errors(cases: Vec<(&str, Value, &str)>) {
    for (param, value, expected) in cases {
        let mut args = set_scalars_args();
        args[param] = value;
        assert_eq!(args_error("set_scalars", args), expected);
    }
}

/// A valid `insert_all_types` row argument with `edit` applied.
fn all_types_row_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut row = json!({
        "id": 1, "tenant_id": "t", "a_u8": 0, "a_u16": 0, "a_u32": 0, "a_u64": "0", "a_u128": "0", "a_u256": "0",
        "a_i8": 0, "a_i16": 0, "a_i32": 0, "a_i64": "0", "a_i128": "0", "a_i256": "0", "a_f32": 0, "a_f64": 0,
        "a_bool": false, "a_string": "", "a_identity": "00".repeat(32), "a_connection_id": "00".repeat(16),
        "a_timestamp": "1970-01-01T00:00:00Z", "a_duration": "0", "maybe_string": null, "maybe_i32": null,
        "bytes": "", "strings": [], "color": "Red", "shape": "Empty",
        "address": { "street": "", "city": "", "geo": { "lat": 0, "lon": 0 }, "tags": [] },
        "shapes": [],
    });
    edit(&mut row);
    args_error("insert_all_types", json!([row]))
}

#[test]
fn the_valid_baselines_encode() {
    let schema = reference_schema();
    assert!(schema.reducer("set_scalars").unwrap().encode_args(&set_scalars_args()).is_ok());
    let err = all_types_row_with(|row| row["id"] = json!(-1));
    assert_eq!(err, "insert_all_types: argument 'row' at .id (u32): -1 is out of range (0 to 4294967295)");
}

#[test]
fn wrong_json_kind() {
    assert_eq!(
        args_error("create_document", json!(["t", 42, "b"])),
        "create_document: argument 'title' (String): expected a string, got 42"
    );
    assert_eq!(
        all_types_row_with(|row| row["address"]["geo"]["lat"] = json!("x")),
        r#"insert_all_types: argument 'row' at .address.geo.lat (f64): expected a number, got "x""#
    );
    assert_eq!(
        all_types_row_with(|row| row["a_bool"] = json!(1)),
        "insert_all_types: argument 'row' at .a_bool (bool): expected a boolean, got 1"
    );
    assert_eq!(
        all_types_row_with(|row| row["strings"] = json!("a")),
        r#"insert_all_types: argument 'row' at .strings (Vec<String>): expected an array, got "a""#
    );
    assert_eq!(
        all_types_row_with(|row| row["address"] = json!(5)),
        "insert_all_types: argument 'row' at .address (Address): expected an object or an array, got 5"
    );
}

#[test]
fn argument_list_shape() {
    assert_eq!(
        args_error("create_document", json!(["t", "title"])),
        "create_document: expected 3 arguments (tenant_id, title, body), got 2"
    );
    assert_eq!(
        args_error("create_document", json!({ "tenant_id": "t", "titel": "x", "body": "b" })),
        "create_document: unknown argument 'titel' (parameters: tenant_id, title, body)"
    );
    assert_eq!(
        args_error("create_document", json!({ "tenant_id": "t", "title": "x" })),
        "create_document: missing argument 'body' (parameters: tenant_id, title, body)"
    );
    assert_eq!(
        args_error("create_document", json!("t")),
        r#"create_document: expected the arguments as an array or an object keyed by parameter name (tenant_id, title, body), got "t""#
    );
    assert_eq!(args_error("delete_document", json!([])), "delete_document: expected 1 argument (id), got 0");
}

#[test]
fn integers_out_of_range_fractional_or_imprecise() {
    expect_set_scalars_errors(vec![
        ("id", json!(1.5), "set_scalars: argument 'id' (u32): expected an integer, got 1.5"),
        ("id", json!(4_294_967_296u64), "set_scalars: argument 'id' (u32): 4294967296 is out of range (0 to 4294967295)"),
        ("a_u64", json!(9_007_199_254_740_992u64), "set_scalars: argument 'a_u64' (u64): 9007199254740992 loses precision as a JSON number; pass a decimal string or a bigint"),
        ("a_u64", json!("18446744073709551616"), "set_scalars: argument 'a_u64' (u64): 18446744073709551616 is out of range"),
        ("a_u64", json!("-1"), "set_scalars: argument 'a_u64' (u64): -1 is out of range"),
        ("a_i128", json!("1e5"), r#"set_scalars: argument 'a_i128' (i128): expected a decimal integer string, got "1e5""#),
    ]);
    assert_eq!(
        all_types_row_with(|row| row["a_i8"] = json!(-129)),
        "insert_all_types: argument 'row' at .a_i8 (i8): -129 is out of range (-128 to 127)"
    );
    assert_eq!(
        all_types_row_with(|row| row["a_f32"] = json!(1e39)),
        "insert_all_types: argument 'row' at .a_f32 (f32): 1e+39 is out of range for f32"
    );
}

#[test]
fn special_types_text() {
    expect_set_scalars_errors(vec![
        ("a_identity", json!("abcd"), "set_scalars: argument 'a_identity' (Identity): expected 64 hex digits, got 4"),
        (
            "a_identity",
            json!(7),
            "set_scalars: argument 'a_identity' (Identity): expected a hex identity string, got 7",
        ),
        (
            "a_timestamp",
            json!("2024-01-01T00:00:00.0000001Z"),
            r#"set_scalars: argument 'a_timestamp' (Timestamp): "2024-01-01T00:00:00.0000001Z" has sub-microsecond digits; timestamps have microsecond precision"#,
        ),
        (
            "a_timestamp",
            json!("tomorrow"),
            r#"set_scalars: argument 'a_timestamp' (Timestamp): "tomorrow" is not an RFC 3339 timestamp like "2023-11-14T22:13:20.123456Z""#,
        ),
        (
            "bytes",
            json!("abc"),
            r#"set_scalars: argument 'bytes' (Vec<u8>): "abc" is not a hex byte string (Odd number of digits)"#,
        ),
        ("bytes", json!([1, 2, 300]), "set_scalars: argument 'bytes' at [2] (Vec<u8>): 300 is out of range (0 to 255)"),
        ("maybe_string", json!(5), "set_scalars: argument 'maybe_string' (String): expected a string, got 5"),
    ]);
    assert_eq!(
        all_types_row_with(|row| row["a_connection_id"] = json!("zz".repeat(16))),
        format!(
            r#"insert_all_types: argument 'row' at .a_connection_id (ConnectionId): "{}" is not hexadecimal"#,
            "zz".repeat(16)
        )
    );
}

#[test]
fn enums() {
    expect_set_scalars_errors(vec![
        (
            "color",
            json!("Purple"),
            "set_scalars: argument 'color' (Color): unknown variant 'Purple' (variants: Red, Green, Blue)",
        ),
        ("color", json!(1), "set_scalars: argument 'color' (Color): expected a variant name, got 1"),
        (
            "shape",
            json!("Circle"),
            r#"set_scalars: argument 'shape' (Shape): variant 'Circle' needs a value: {"tag": "Circle", "value": ...}"#,
        ),
        (
            "shape",
            json!({ "tag": "Rect", "value": { "width": 1 } }),
            "set_scalars: argument 'shape' at .value (Size): missing field 'height'",
        ),
        (
            "shape",
            json!({ "tag": "Circle", "value": 1, "extra": 2 }),
            "set_scalars: argument 'shape' (Shape): unknown key 'extra' (an enum value has the keys tag and value)",
        ),
        (
            "shape",
            json!({ "value": 1 }),
            r#"set_scalars: argument 'shape' (Shape): missing key 'tag' (an enum value is {"tag": <variant>, "value": <payload>})"#,
        ),
        (
            "shape",
            json!({ "tag": 3 }),
            "set_scalars: argument 'shape' (Shape): expected a variant name as \"tag\", got 3",
        ),
        (
            "shape",
            json!(null),
            r#"set_scalars: argument 'shape' (Shape): expected {"tag": <variant>, "value": <payload>}, got null"#,
        ),
    ]);
}

#[test]
fn nested_paths_through_products_options_arrays_and_enums() {
    assert_eq!(
        all_types_row_with(|row| row["address"] = json!({ "street": "", "geo": null, "tags": [] })),
        "insert_all_types: argument 'row' at .address (Address): missing field 'city'"
    );
    assert_eq!(
        all_types_row_with(|row| row["address"]["zip"] = json!("1")),
        "insert_all_types: argument 'row' at .address (Address): unknown field 'zip' (fields: street, city, geo, tags)"
    );
    assert_eq!(
        all_types_row_with(|row| row["address"]["tags"] = json!(["a", 2])),
        "insert_all_types: argument 'row' at .address.tags[1] (String): expected a string, got 2"
    );
    assert_eq!(
        all_types_row_with(|row| row["shapes"] = json!(["Empty", { "tag": "Circle", "value": "big" }])),
        r#"insert_all_types: argument 'row' at .shapes[1].value (f64): expected a number, got "big""#
    );
    assert_eq!(
        all_types_row_with(|row| row["address"] = json!(["", ""])),
        "insert_all_types: argument 'row' at .address (Address): expected an array of 4 fields, got 2"
    );
}

#[test]
fn column_values_for_filters() {
    let schema = reference_schema();
    let document = schema.table("document").unwrap();
    let err = document.encode_column_value(0, &json!(true)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(err.message, "document: column 'id' (u64): expected a decimal integer string, got true");
    let err = document.encode_column_value(9, &json!(1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(err.message, "document: no column 9 (the table has 7)");
    assert_eq!(document.encode_column_value(0, &json!("258")).unwrap(), 258u64.to_le_bytes());
    assert_eq!(document.encode_column_value(1, &json!("ab")).unwrap(), [2, 0, 0, 0, b'a', b'b']);
}

/// A value JSON cannot carry, as `lib/values.js` marks it.
fn js(kind: &str, inner: Value) -> Value {
    json!({ format!("\0{kind}"): inner })
}

#[test]
fn js_values_fit_only_their_types() {
    // Refused where the type does not take them (the first versions stored "NaN", "10" or hex here).
    let refused = [
        (
            "a_string",
            js("float", json!("NaN")),
            "(String): got NaN; NaN and the infinities are accepted only for f32 and f64",
        ),
        (
            "a_string",
            js("bigint", json!("10")),
            "(String): got a bigint (10n); a bigint is accepted only for integer, Timestamp and TimeDuration types",
        ),
        (
            "a_string",
            js("bytes", json!("0aff")),
            "(String): got a Uint8Array of 2 bytes; a Uint8Array is accepted only for byte arrays (Vec<u8>)",
        ),
        (
            "a_string",
            js("date", json!("2024-01-01T00:00:00.000Z")),
            "(String): got a Date (2024-01-01T00:00:00.000Z); a Date is accepted only for Timestamp",
        ),
        ("a_string", js("float", json!("-0")), "(String): got -0; -0 is accepted only for number types"),
        (
            "a_u32",
            js("float", json!("Infinity")),
            "(u32): got Infinity; NaN and the infinities are accepted only for f32 and f64",
        ),
        (
            "a_f64",
            js("bigint", json!("1")),
            "(f64): got a bigint (1n); a bigint is accepted only for integer, Timestamp and TimeDuration types",
        ),
        ("a_u8", js("bigint", json!("256")), "(u8): 256 is out of range (0 to 255)"),
        ("a_timestamp", js("date", Value::Null), "(Timestamp): an invalid Date (its time is NaN) is not a timestamp"),
        (
            "a_identity",
            js("bytes", json!("00")),
            "(Identity): got a Uint8Array of 1 byte; a Uint8Array is accepted only for byte arrays (Vec<u8>)",
        ),
    ];
    for (column, value, expected) in refused {
        let err = all_types_row_with(|row| row[column] = value.clone());
        assert_eq!(err, format!("insert_all_types: argument 'row' at .{column} {expected}"), "{column}");
    }
    // An Option takes a marked value as `some`; a nested Option must spell out `some`.
    let err = all_types_row_with(|row| row["maybe_string"] = js("float", json!("NaN")));
    assert!(err.ends_with("(String): got NaN; NaN and the infinities are accepted only for f32 and f64"), "{err}");
}

#[test]
fn js_values_encode_where_they_fit() {
    let schema = reference_schema();
    let encode = |edit: &dyn Fn(&mut Value)| {
        let mut args = set_scalars_args();
        edit(&mut args);
        schema.reducer("set_scalars").unwrap().encode_args(&args).unwrap()
    };
    let plain = encode(&|a| {
        a["a_u64"] = json!("10");
        a["bytes"] = json!("0aff");
        a["a_timestamp"] = json!("2024-01-01T00:00:00.000Z");
    });
    let marked = encode(&|a| {
        a["a_u64"] = js("bigint", json!("10"));
        a["bytes"] = js("bytes", json!("0aff"));
        a["a_timestamp"] = js("date", json!("2024-01-01T00:00:00.000Z"));
    });
    assert_eq!(plain, marked);
    // -0 keeps its sign in a float column, and is 0 in an integer one.
    let table = schema.table("all_types").unwrap();
    let f64_col = table.column_index("a_f64").unwrap();
    let bytes = table.encode_column_value(f64_col, &js("float", json!("-0"))).unwrap();
    assert_eq!(bytes, (-0.0f64).to_le_bytes());
    let u32_col = table.column_index("a_u32").unwrap();
    assert_eq!(table.encode_column_value(u32_col, &js("float", json!("-0"))).unwrap(), 0u32.to_le_bytes());
    let nan = table.encode_column_value(f64_col, &js("float", json!("NaN"))).unwrap();
    assert!(f64::from_le_bytes(nan.try_into().unwrap()).is_nan());
}
