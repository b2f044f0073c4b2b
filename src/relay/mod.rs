//! The SSE relay: a bounded, numbered event log of the projection's changes, per-stream selections
//! (tenant, tables, column equalities), snapshots, resume after `Last-Event-ID`, bounded per-stream
//! queues with an explicit slow-client policy, revocation and narrowing, heartbeats, and the SSE bytes
//! themselves. Everything here is plain Rust; `bindings::relay` only converts.
//!
//! - [`ids`]: event ids and what a `Last-Event-ID` means; [`positions`]: database ids, the same on
//!   every replica;
//! - [`log`]: the ring of recent events;
//! - [`tables`]: which tables have a tenant column, which are shared;
//! - [`selection`]: what one stream may see;
//! - [`event`], [`frame`], [`snapshot`]: the frames, encoded once per event and view;
//! - [`shared`]: snapshot rows frames shared by the streams of one view; [`admission`]: snapshot limits;
//! - [`stream`]: one stream's queue and state; [`relay`] and [`state`]: the fan-out; [`options`]: option
//!   parsing; [`read`]: rows and a resume id for server rendering;
//! - [`take`]: the layout of a take's buffer (what `lib/stream.js` reads);
//! - [`source`]: where the projection is read; [`timer`]: the heartbeat task;
//! - [`watch`]: `revokeOn`, streams that end in commit order when their authorization rows change;
//!   [`revocations`]: revoke requests published through a module table, applied by every replica;
//! - [`positions`] with `transactions`: how a transaction becomes keyed, ordered events in the log.

pub mod admission;
pub mod event;
pub mod frame;
pub mod ids;
pub mod log;
pub mod options;
pub mod positions;
pub mod read;
#[allow(clippy::module_inception)]
pub mod relay;
pub mod revocations;
pub mod selection;
pub mod shared;
pub mod snapshot;
pub mod source;
mod state;
pub mod stream;
pub mod tables;
pub mod take;
pub mod timer;
mod transactions;
pub mod watch;

pub use relay::{Output, Relay, RelayConfig, RelayStats, Selector, StreamDefaults, ViewRows, Wake};

#[cfg(test)]
mod tests;
