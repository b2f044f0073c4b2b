//! Rust core of `spacetime-gateway`.
//!
//! Each part of the product is a module of plain Rust that `cargo test` covers without Node:
//! - [`client`]: a generic SpacetimeDB client (no per-module code generation),
//! - [`connection`]: actor attribution — the per-user pool, the HTTP call route, the actor convention,
//! - [`auth`]: the token broker, verification and diagnostics,
//! - [`projection`]: the server-side cache of subscribed rows,
//! - [`relay`]: the SSE event log and fan-out,
//!
//! and [`bindings`] is the thin `#[napi]` layer that converts, validates and maps errors.

pub mod auth;
pub mod bindings;
pub mod client;
pub mod connection;
pub mod error;
pub mod projection;
pub mod relay;

pub use error::{ErrorCode, GatewayError};

/// Rust-side allocations of the addon (rows, messages, frames) use mimalloc; see `Cargo.toml`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
