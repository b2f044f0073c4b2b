//! A generic SpacetimeDB client core: everything needed to talk to any module without generated
//! code.
//!
//! - [`schema`]: the module's tables and reducers, read from its schema JSON at run time;
//! - [`value`]: the codec between BSATN (SpacetimeDB's binary values) and JSON, driven by the schema.
//!   The value mapping is documented in `docs/value-mapping.md`.

pub mod schema;
pub mod value;

pub use schema::{ColumnDef, ReducerDef, Schema, TableDef};
pub use value::{DecodeError, DecodeErrorKind, ValueType};

#[cfg(test)]
mod tests;
