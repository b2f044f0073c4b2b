//! The SSE relay: a bounded, numbered event log of the projection's changes, per-stream selections
//! (tenant, tables, column equalities), snapshots, resume after `Last-Event-ID`, bounded per-stream
//! queues with an explicit slow-client policy, revocation and narrowing, heartbeats, and the SSE bytes
//! themselves. Everything here is plain Rust; `bindings::relay` only converts.
//!
//! - [`ids`]: event ids and what a `Last-Event-ID` means;
//! - [`log`]: the ring of recent events;
//! - [`tables`]: which tables have a tenant column, which are shared;
//! - [`selection`]: what one stream may see;
//! - [`event`], [`frame`], [`snapshot`]: the frames, encoded once per event and view;
//! - [`stream`]: one stream's queue and state; [`relay`]: the fan-out; [`options`]: option parsing;
//! - [`source`]: where the projection is read; [`timer`]: the heartbeat task;
//! - [`watch`]: `revokeOn`, streams that end in commit order when their authorization rows change.

pub mod event;
pub mod frame;
pub mod ids;
pub mod log;
pub mod options;
#[allow(clippy::module_inception)]
pub mod relay;
pub mod selection;
pub mod snapshot;
pub mod source;
pub mod stream;
pub mod tables;
pub mod timer;
pub mod watch;

pub use relay::{Output, Relay, RelayConfig, Selector, StreamDefaults, Wake};

#[cfg(test)]
mod tests;
