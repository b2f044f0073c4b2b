//! The value codec: BSATN ⇄ JSON for any SpacetimeDB type, on a type graph compiled once per
//! schema.
//!
//! Decoding ([`decode`]) writes JSON text straight from BSATN bytes; encoding ([`encode`]) reads a
//! `serde_json::Value`. Both follow one mapping (`docs/value-mapping.md`), so what the decoder
//! produces the encoder accepts and turns back into the same bytes.

pub(crate) mod decode;
mod decode_error;
pub(crate) mod encode;
pub(crate) mod encode_error;
pub(crate) mod js_typed;
mod json_text;
pub(crate) mod ranges;
mod reader;
mod scalars;
mod sizes;
pub(crate) mod type_name;
pub(crate) mod types;

pub use decode_error::{DecodeError, DecodeErrorKind};
pub(crate) use json_text::{describe_js, describe_json, is_plain_object, write_json_string};

/// A timestamp (µs since the Unix epoch) as the value mapping writes it: RFC 3339 UTC with six
/// fractional digits, e.g. `2023-11-14T22:13:20.123456Z`.
pub fn format_timestamp(micros: i64) -> String {
    let mut out = Vec::with_capacity(27);
    scalars::timestamp::write_timestamp(&mut out, micros);
    String::from_utf8(out).expect("timestamps are written as ASCII")
}
pub use types::{TypeGraph, ValueType, MAX_DEPTH};
