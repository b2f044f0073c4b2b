//! Rust core of `spacetime-gateway`.
//!
//! Each part of the product is a folder of plain Rust that `cargo test` covers without Node. Imports
//! between the folders run one way, from the top of this list to the bottom (docs/architecture.md):
//! - [`bindings`]: the thin `#[napi]` layer that converts, validates at the boundary and maps errors,
//! - [`gateway`]: the product's entry point (connect, call, relay, close),
//! - [`actors`]: actor attribution — the per-user pool, the HTTP call route, the actor convention,
//! - [`session`]: the connection to a database: links, reconnect, token rotation, calls,
//! - [`relay`]: the SSE event log and fan-out,
//! - [`projection`]: the server-side cache of subscribed rows and its change types,
//! - [`codec`]: the schema, BSATN ⇄ JSON values and the websocket protocol messages,
//! - [`auth`]: the token broker, verification and diagnostics (used by `actors` and `bindings`),
//! - [`diagnostics`]: the core's log records (written with `tracing`), collected for a gateway's log function.

pub mod actors;
pub mod auth;
pub mod bindings;
pub mod codec;
pub mod diagnostics;
pub mod error;
pub mod gateway;
pub mod projection;
pub mod relay;
pub mod session;

#[cfg(test)]
mod layers;

pub use error::{ErrorCode, GatewayError};

/// Rust-side allocations of the addon (rows, messages, frames) use mimalloc; see `Cargo.toml`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
