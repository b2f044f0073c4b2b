//! A throughput measurement, not a test: decoding 100k `document` rows to JSON.
//!
//! Run once in release mode (LTO off only to keep the build short):
//! `CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo test --release --lib codec::tests::decode_bench -- --ignored --nocapture`
//!
//! First measurement (2 shared cores): 1.46 M rows/s for `row_to_json` (542 MB/s of BSATN in,
//! 717 MB/s of JSON out, 371 B per row), 5.45 M rows/s for `column_ranges_into`.

use std::hint::black_box;
use std::time::Instant;

use spacetimedb_lib::Identity;
use spacetimedb_sats::{bsatn, AlgebraicValue, ProductValue};

use super::reference_schema;

const ROWS: usize = 100_000;

/// A `document` row like the ones the reference module writes: short ids and title, a body of a
/// few hundred bytes with characters that need escaping.
pub(crate) fn document_row(i: usize) -> Vec<u8> {
    let owner = Identity::from_claims("https://auth.example.com", &format!("user-{}", i % 500));
    let body =
        format!("Paragraph {i}: \"quoted\" text, a tab\tand a newline\n. {}", "Lorem ipsum dolor sit amet. ".repeat(8));
    let row = ProductValue::from(vec![
        AlgebraicValue::U64(i as u64 + 1),
        AlgebraicValue::String(format!("tenant-{}", i % 20).into()),
        AlgebraicValue::String(format!("Document number {i}").into()),
        AlgebraicValue::String(body.into()),
        AlgebraicValue::product([AlgebraicValue::U256(Box::new(owner.to_u256()))]),
        AlgebraicValue::product([AlgebraicValue::I64(1_700_000_000_000_000 + i as i64 * 1_000)]),
        AlgebraicValue::U32((i % 7) as u32 + 1),
    ]);
    bsatn::to_vec(&row).unwrap()
}

#[test]
#[ignore = "benchmark: run explicitly in release mode"]
fn decode_100k_document_rows() {
    let schema = reference_schema();
    let table = schema.table("document").unwrap();
    let rows: Vec<Vec<u8>> = (0..ROWS).map(document_row).collect();
    let input_bytes: usize = rows.iter().map(Vec::len).sum();

    let mut out = Vec::with_capacity(1 << 20);
    let mut ranges = Vec::new();
    let mut best_decode = f64::MAX;
    let mut best_ranges = f64::MAX;
    let mut output_bytes = 0;
    for _ in 0..5 {
        let started = Instant::now();
        output_bytes = 0;
        for row in &rows {
            out.clear();
            table.row_to_json(black_box(row), &mut out).unwrap();
            output_bytes += out.len();
        }
        best_decode = best_decode.min(started.elapsed().as_secs_f64());

        let started = Instant::now();
        for row in &rows {
            table.column_ranges_into(black_box(row), &mut ranges).unwrap();
            black_box(&ranges);
        }
        best_ranges = best_ranges.min(started.elapsed().as_secs_f64());
    }
    println!(
        "row_to_json: {ROWS} document rows in {:.1} ms = {:.2} M rows/s ({:.0} MB/s of BSATN in, {:.0} MB/s of JSON out; {} B/row in, {} B/row out)",
        best_decode * 1e3,
        ROWS as f64 / best_decode / 1e6,
        input_bytes as f64 / best_decode / 1e6,
        output_bytes as f64 / best_decode / 1e6,
        input_bytes / ROWS,
        output_bytes / ROWS,
    );
    println!("column_ranges_into: {:.1} ms = {:.2} M rows/s", best_ranges * 1e3, ROWS as f64 / best_ranges / 1e6);
}
