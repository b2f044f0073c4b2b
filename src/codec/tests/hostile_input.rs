//! Garbage, truncated and mutated bytes must give a `DecodeError`, never a panic, a hang or a huge
//! allocation; and a failed decode must leave the output buffer as it was.

use std::time::Instant;

use proptest::collection::vec;
use proptest::prelude::*;
use spacetimedb_sats::{bsatn, AlgebraicType};

use super::reference::arb_value;
use super::{any_table_row, proptest_config, reference_raw_def, reference_schema};
use crate::codec::{DecodeErrorKind, Schema};

/// Runs both decoders of every table on `bytes` and checks their contracts.
fn decode_with_every_table(schema: &Schema, bytes: &[u8]) -> Result<(), TestCaseError> {
    for table in &schema.tables {
        let mut out = b"[".to_vec();
        match table.row_to_json(bytes, &mut out) {
            Ok(()) => {
                let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&out[1..]);
                prop_assert!(parsed.is_ok(), "{} wrote invalid JSON: {}", table.name, String::from_utf8_lossy(&out));
                // A row the decoder accepts has well-formed columns too.
                prop_assert!(table.column_ranges(bytes).is_ok());
            }
            Err(err) => {
                prop_assert_eq!(&out, b"[", "output left half-written after {}", err);
                prop_assert!(err.offset <= bytes.len());
            }
        }
        let _ = table.column_ranges(bytes);
    }
    Ok(())
}

/// A valid row of a random table, as reference bytes.
fn any_valid_row() -> impl Strategy<Value = Vec<u8>> {
    any_table_row().prop_map(|(_, row)| bsatn::to_vec(&row).unwrap())
}

proptest! {
    #![proptest_config(proptest_config(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..300)) {
        decode_with_every_table(&reference_schema(), &bytes)?;
    }

    #[test]
    fn mutated_rows_never_panic(
        row in any_valid_row(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let schema = reference_schema();
        let mut bytes = row.clone();
        for (at, byte) in &flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
        }
        decode_with_every_table(&schema, &bytes)?;
        // The mutated row cut short anywhere.
        let cut_at = cut.index(bytes.len() + 1);
        decode_with_every_table(&schema, &bytes[..cut_at])?;
    }
}

#[test]
fn every_strict_prefix_and_any_extra_byte_is_an_error() {
    let schema = reference_schema();
    let raw = reference_raw_def();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for (table, raw_table) in schema.tables.iter().zip(&raw.tables) {
        let strategy = arb_value(&raw.typespace, &AlgebraicType::Ref(raw_table.product_type_ref));
        for _ in 0..20 {
            let row = strategy.new_tree(&mut runner).unwrap().current();
            let bytes = bsatn::to_vec(&row).unwrap();
            let mut out = Vec::new();
            table.row_to_json(&bytes, &mut out).unwrap();
            for len in 0..bytes.len() {
                assert!(table.row_to_json(&bytes[..len], &mut out).is_err(), "{} prefix {len}", table.name);
                assert!(table.column_ranges(&bytes[..len]).is_err(), "{} prefix {len}", table.name);
            }
            let mut longer = bytes.clone();
            longer.push(0);
            let err = table.row_to_json(&longer, &mut out).unwrap_err();
            assert_eq!(err.kind, DecodeErrorKind::TrailingBytes { count: 1 });
            assert_eq!(err.offset, bytes.len());
            assert_eq!(table.column_ranges(&longer).unwrap_err().kind, DecodeErrorKind::TrailingBytes { count: 1 });
        }
    }
}

#[test]
fn huge_length_prefixes_fail_fast_without_allocating() {
    let schema = reference_schema();
    let document = schema.table("document").unwrap();
    // id, then a tenant_id claiming 4 GiB with 3 bytes behind it.
    let mut bytes = 1u64.to_le_bytes().to_vec();
    bytes.extend(u32::MAX.to_le_bytes());
    bytes.extend(b"abc");
    let started = Instant::now();
    let err = document.row_to_json(&bytes, &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::LengthTooLarge { len: u32::MAX, available: 3 });
    assert_eq!(err.offset, 8);
    assert_eq!(document.column_ranges(&bytes).unwrap_err(), err);
    assert_eq!(err.to_string(), "invalid BSATN at byte 8: length prefix 4294967295 exceeds the 3 bytes left");
    let gateway: crate::GatewayError = err.into();
    assert_eq!(gateway.code, crate::ErrorCode::Protocol);

    // `shapes` (the last all_types column, Vec<Shape>) claiming u32::MAX elements.
    let all_types = schema.table("all_types").unwrap();
    let raw = reference_raw_def();
    let strategy = arb_value(&raw.typespace, &AlgebraicType::Ref(raw.tables[0].product_type_ref));
    let row = strategy.new_tree(&mut proptest::test_runner::TestRunner::deterministic()).unwrap().current();
    let valid = bsatn::to_vec(&row).unwrap();
    let shapes_start = all_types.column_ranges(&valid).unwrap()[29].start;
    let mut bytes = valid[..shapes_start].to_vec();
    bytes.extend(u32::MAX.to_le_bytes());
    bytes.extend([0, 0, 0]);
    let err = all_types.row_to_json(&bytes, &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::LengthTooLarge { len: u32::MAX, available: 3 });
    assert_eq!(err.offset, shapes_start);
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn invalid_utf8_bool_and_tag_are_reported_with_their_offset() {
    let schema = reference_schema();
    let tenant = schema.table("tenant").unwrap();
    // tenant: id String, name String, created_by Identity, created_at Timestamp.
    let mut bytes = vec![2, 0, 0, 0, b'o', 0xc3];
    bytes.extend([0, 0, 0, 0]);
    bytes.extend([0; 40]);
    let err = tenant.row_to_json(&bytes, &mut Vec::new()).unwrap_err();
    assert_eq!((err.offset, err.kind), (5, DecodeErrorKind::InvalidUtf8));
    // The structure is fine, so the ranges are found (contents are the decoder's business).
    assert_eq!(tenant.column_ranges(&bytes).unwrap(), [0..6, 6..10, 10..42, 42..50]);

    let membership = schema.table("membership").unwrap();
    // membership: id u64, tenant_id String, member Identity, role Role (4 variants), added_at.
    let mut bytes = vec![0; 8];
    bytes.extend([0, 0, 0, 0]);
    bytes.extend([0; 32]);
    bytes.push(4);
    bytes.extend([0; 8]);
    let err = membership.row_to_json(&bytes, &mut Vec::new()).unwrap_err();
    assert_eq!((err.offset, err.kind), (44, DecodeErrorKind::InvalidTag { tag: 4, variants: 4 }));
}
