//! Known answers for the special types and the extremes of the mapping, with the bytes built by
//! SpacetimeDB's own types and serializer.

use serde_json::json;
use spacetimedb_lib::{ConnectionId, Identity};
use spacetimedb_sats::{bsatn, i256, u256, AlgebraicValue, ProductValue};

use super::{reference_schema, row_json};

/// `Identity::from_claims("localhost", "alice")` (protocol notes §5.3).
const ALICE_HEX: &str = "c20035600353a2e93544d898c6ed0eac323e200c0468300f22958f8b472a265d";

fn identity_value(identity: Identity) -> AlgebraicValue {
    AlgebraicValue::product([AlgebraicValue::U256(Box::new(identity.to_u256()))])
}

fn timestamp_value(micros: i64) -> AlgebraicValue {
    AlgebraicValue::product([AlgebraicValue::I64(micros)])
}

fn document_row(id: u64, owner: Identity, updated_at: i64) -> Vec<u8> {
    let row = ProductValue::from(vec![
        AlgebraicValue::U64(id),
        AlgebraicValue::String("t1".into()),
        AlgebraicValue::String("Quote \" and \\ and \n".into()),
        AlgebraicValue::String("é😀\u{1}".into()),
        identity_value(owner),
        timestamp_value(updated_at),
        AlgebraicValue::U32(7),
    ]);
    bsatn::to_vec(&row).unwrap()
}

#[test]
fn document_row_is_exact_json_text() {
    let schema = reference_schema();
    let alice = Identity::from_hex(ALICE_HEX).unwrap();
    let bytes = document_row(u64::MAX, alice, 1_700_000_000_123_456);
    let mut out = b"prefix ".to_vec();
    schema.table("document").unwrap().row_to_json(&bytes, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"prefix {"id":"18446744073709551615","tenant_id":"t1","title":"Quote \" and \\ and \n","#,
            r#""body":"é😀\u0001","owner":"c20035600353a2e93544d898c6ed0eac323e200c0468300f22958f8b472a265d","#,
            r#""updated_at":"2023-11-14T22:13:20.123456Z","version":7}"#
        )
    );
}

#[test]
fn identity_hex_is_big_endian_while_bsatn_is_little_endian() {
    let schema = reference_schema();
    let alice = Identity::from_hex(ALICE_HEX).unwrap();
    let bytes = document_row(1, alice, 0);
    let table = schema.table("document").unwrap();
    let owner = table.column_ranges(&bytes).unwrap()[4].clone();
    // The last hex byte (0x5d) is the first BSATN byte; the `c2 00` prefix comes last.
    assert_eq!(bytes[owner.start], 0x5d);
    assert_eq!(&bytes[owner.end - 2..owner.end], &[0x00, 0xc2]);
    assert_eq!(row_json(&schema, "document", &bytes)["owner"], json!(ALICE_HEX));
    // Encoding accepts `0x` and upper case, and reproduces the BSATN bytes.
    let upper = format!("0x{}", ALICE_HEX.to_uppercase());
    assert_eq!(table.encode_column_value(4, &json!(upper)).unwrap(), &bytes[owner]);
}

#[test]
fn timestamps_negative_far_future_and_far_past() {
    let schema = reference_schema();
    let table = schema.table("document").unwrap();
    let cases = [
        (0, "1970-01-01T00:00:00.000000Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (-86_400_000_001, "1969-12-30T23:59:59.999999Z"),
        (253_402_300_800_000_000, "+010000-01-01T00:00:00.000000Z"),
        (i64::MAX, "+294247-01-10T04:00:54.775807Z"),
        (i64::MIN, "-290308-12-21T19:59:05.224192Z"),
    ];
    for (micros, text) in cases {
        let bytes = document_row(1, Identity::ZERO, micros);
        assert_eq!(row_json(&schema, "document", &bytes)["updated_at"], json!(text), "{micros}");
        let range = table.column_ranges(&bytes).unwrap()[5].clone();
        assert_eq!(table.encode_column_value(5, &json!(text)).unwrap(), &bytes[range.clone()], "{text}");
        // Microseconds are accepted too, as a decimal string or a safe-integer number.
        assert_eq!(table.encode_column_value(5, &json!(micros.to_string())).unwrap(), &bytes[range], "{micros}");
    }
    assert_eq!(table.encode_column_value(5, &json!(-1)).unwrap(), (-1i64).to_le_bytes());
    assert_eq!(table.encode_column_value(5, &json!("1970-01-01T01:00:00.000001+01:00")).unwrap(), 1i64.to_le_bytes());
}

/// An `all_types` row with the given extreme values in its numeric columns.
fn all_types_row(
    a_u64: u64,
    a_u128: u128,
    a_u256: u256,
    a_i128: i128,
    a_i256: i256,
    a_f32: f32,
    a_f64: f64,
) -> Vec<u8> {
    let unit = || AlgebraicValue::product(Vec::<AlgebraicValue>::new());
    let sum = |tag: u8, value: AlgebraicValue| AlgebraicValue::sum(tag, value);
    let row = ProductValue::from(vec![
        AlgebraicValue::U32(1),
        AlgebraicValue::String("t".into()),
        AlgebraicValue::U8(u8::MAX),
        AlgebraicValue::U16(u16::MAX),
        AlgebraicValue::U32(u32::MAX),
        AlgebraicValue::U64(a_u64),
        AlgebraicValue::U128(a_u128.into()),
        AlgebraicValue::U256(Box::new(a_u256)),
        AlgebraicValue::I8(i8::MIN),
        AlgebraicValue::I16(i16::MIN),
        AlgebraicValue::I32(i32::MIN),
        AlgebraicValue::I64(i64::MIN),
        AlgebraicValue::I128(a_i128.into()),
        AlgebraicValue::I256(Box::new(a_i256)),
        AlgebraicValue::from(a_f32),
        AlgebraicValue::from(a_f64),
        AlgebraicValue::Bool(true),
        AlgebraicValue::String("".into()),
        identity_value(Identity::ZERO),
        AlgebraicValue::product([AlgebraicValue::U128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128.into())]),
        timestamp_value(0),
        AlgebraicValue::product([AlgebraicValue::I64(-5)]),
        sum(1, unit()),                  // maybe_string: none
        sum(0, AlgebraicValue::I32(-3)), // maybe_i32: some(-3)
        AlgebraicValue::Bytes([0x00, 0xab, 0xff].into()),
        AlgebraicValue::Array(Box::<[Box<str>]>::from(["a".into(), "b".into()]).into()),
        sum(1, unit()), // color: Green
        sum(3, unit()), // shape: Empty
        AlgebraicValue::product([
            AlgebraicValue::String("Main St".into()),
            AlgebraicValue::String("Springfield".into()),
            sum(0, AlgebraicValue::product([AlgebraicValue::from(1.5f64), AlgebraicValue::from(-2.25f64)])),
            AlgebraicValue::Array(Box::<[Box<str>]>::from([]).into()),
        ]),
        AlgebraicValue::Array(
            Box::<[spacetimedb_sats::SumValue]>::from([
                spacetimedb_sats::SumValue::new(0, AlgebraicValue::from(0.5f64)),
                spacetimedb_sats::SumValue::new(2, AlgebraicValue::String("hi".into())),
            ])
            .into(),
        ),
    ]);
    bsatn::to_vec(&row).unwrap()
}

#[test]
fn extremes_and_non_finite_floats() {
    let schema = reference_schema();
    let bytes = all_types_row(u64::MAX, u128::MAX, u256::MAX, i128::MIN, i256::MIN, f32::NAN, f64::NEG_INFINITY);
    let row = row_json(&schema, "all_types", &bytes);
    let expected = json!({
        "id": 1, "tenant_id": "t", "a_u8": 255, "a_u16": 65535, "a_u32": 4294967295u32,
        "a_u64": "18446744073709551615",
        "a_u128": "340282366920938463463374607431768211455",
        "a_u256": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        "a_i8": -128, "a_i16": -32768, "a_i32": -2147483648,
        "a_i64": "-9223372036854775808",
        "a_i128": "-170141183460469231731687303715884105728",
        "a_i256": "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
        "a_f32": "NaN", "a_f64": "-Infinity", "a_bool": true, "a_string": "",
        "a_identity": "0".repeat(64),
        "a_connection_id": "0102030405060708090a0b0c0d0e0f10",
        "a_timestamp": "1970-01-01T00:00:00.000000Z",
        "a_duration": "-5",
        "maybe_string": null, "maybe_i32": -3,
        "bytes": "00abff", "strings": ["a", "b"],
        "color": "Green", "shape": { "tag": "Empty" },
        "address": { "street": "Main St", "city": "Springfield", "geo": { "lat": 1.5, "lon": -2.25 }, "tags": [] },
        "shapes": [{ "tag": "Circle", "value": 0.5 }, { "tag": "Label", "value": "hi" }],
    });
    assert_eq!(row, expected);
    let insert = schema.reducer("insert_all_types").unwrap();
    assert_eq!(insert.encode_args(&json!([row])).unwrap(), bytes);

    let finite = all_types_row(0, 0, u256::ZERO, i128::MAX, i256::MAX, 0.1, f64::MIN_POSITIVE);
    let row = row_json(&schema, "all_types", &finite);
    assert_eq!(row["a_f32"], json!(0.1), "f32 printed with f32 shortest digits");
    assert_eq!(row["a_f64"], json!(2.2250738585072014e-308));
    assert_eq!(row["a_i128"], json!("170141183460469231731687303715884105727"));
    assert_eq!(insert.encode_args(&json!([row])).unwrap(), finite);
}

#[test]
fn alternative_input_forms_encode_to_the_same_bytes() {
    let schema = reference_schema();
    let bytes = all_types_row(5, 6, u256::from(7u8), -8, i256::from(-9), 1.0, 2.0);
    let canonical = row_json(&schema, "all_types", &bytes);
    let insert = schema.reducer("insert_all_types").unwrap();

    let mut friendly = canonical.clone();
    friendly["a_u64"] = json!(5); // safe-integer numbers for wide integers
    friendly["a_u128"] = json!(6);
    friendly["a_u256"] = json!(7);
    friendly["a_i128"] = json!(-8);
    friendly["a_i256"] = json!("-9");
    friendly["a_connection_id"] = json!("0X0102030405060708090A0B0C0D0E0F10");
    friendly["a_timestamp"] = json!("1970-01-01T00:00:00Z");
    friendly["a_duration"] = json!(-5);
    friendly["bytes"] = json!([0, 171, 255]); // bytes as numbers
    friendly["color"] = json!({ "tag": "Green" }); // tagged form of a plain enum
    friendly["shape"] = json!("Empty"); // bare name of a unit variant
    friendly["address"] = json!(["Main St", "Springfield", [1.5, -2.25], []]); // products as arrays
    assert_eq!(insert.encode_args(&json!([friendly])).unwrap(), bytes);

    friendly["shape"] = json!({ "tag": "Empty", "value": null });
    assert_eq!(insert.encode_args(&json!({ "row": friendly })).unwrap(), bytes);
}

#[test]
fn connection_id_hex_matches_spacetimedb() {
    let schema = reference_schema();
    let bytes = all_types_row(0, 0, u256::ZERO, 0, i256::ZERO, 0.0, 0.0);
    let expected = ConnectionId::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10).to_hex().to_string();
    assert_eq!(row_json(&schema, "all_types", &bytes)["a_connection_id"], json!(expected));
}
