//! The codec: everything about SpacetimeDB's bytes, with no I/O. The module schema read at run time
//! ([`schema`]), values between BSATN and JSON driven by it ([`value`], mapping in
//! `docs/value-mapping.md`), the `v1.bsatn.spacetimedb` websocket messages ([`protocol`]), the 2.x `v2`/`v3` ones in the same
//! internal shape ([`inbound`], [`v2`], [`v2_requests`]; findings in `docs/protocol-2x.md`), and JSON
//! inputs checked against the schema ([`json_io`]). No per-module code generation.
//!
//! Depends on nothing else of the crate but [`crate::error`]; `projection`, `relay` and `session` build
//! on it.

pub mod inbound;
pub mod json_io;
pub mod module_def;
pub mod protocol;
pub mod schema;
pub mod v2;
pub mod v2_requests;
pub mod value;

pub use module_def::ModuleDefVersion;
pub use schema::{ColumnDef, ReducerDef, Schema, TableDef, TableKind, ViewFacts};
pub use value::{DecodeError, DecodeErrorKind, ValueType};

#[cfg(test)]
pub(crate) mod tests;
