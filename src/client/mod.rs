//! The generic SpacetimeDB client: no per-module code generation. It speaks the `v1.bsatn.spacetimedb`
//! websocket protocol, reads the module schema over HTTP, and decodes rows with it.
//!
//! - [`schema`]: the module's tables and reducers, read from its schema JSON at run time;
//! - [`value`]: the codec between BSATN (SpacetimeDB's binary values) and JSON, driven by the schema
//!   (the mapping is documented in `docs/value-mapping.md`);
//! - [`protocol`], [`connection`], [`session`]: the websocket protocol, one connection, and the session
//!   that applies what the server sends to the projection and resolves requests ([`calls`]);
//! - [`json_io`]: the JSON the JS surface reads and writes; [`http`], [`uri`]: addresses and HTTP.

pub mod alignment;
pub mod backoff;
pub mod calls;
pub mod connection;
pub(crate) mod driver;
pub mod http;
pub mod json_io;
pub mod link;
pub mod protocol;
pub mod query_table;
pub mod schema;
pub mod session;
pub mod state;
pub mod token;
pub mod uri;
pub mod value;

pub use schema::{ColumnDef, ReducerDef, Schema, TableDef};
pub use value::{DecodeError, DecodeErrorKind, ValueType};

#[cfg(test)]
pub(crate) mod tests;
