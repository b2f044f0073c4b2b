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
mod json_text;
pub(crate) mod ranges;
mod reader;
mod scalars;
mod sizes;
pub(crate) mod type_name;
pub(crate) mod types;

pub use decode_error::{DecodeError, DecodeErrorKind};
pub use types::{TypeGraph, ValueType, MAX_DEPTH};
