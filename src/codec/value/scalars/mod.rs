//! Scalar values as text: numbers, hex identifiers and timestamps.

pub(crate) mod hex_text;
pub(crate) mod numbers;
pub(crate) mod timestamp;
