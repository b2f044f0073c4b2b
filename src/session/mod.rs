//! A session with one database: the websocket connection to SpacetimeDB and everything that keeps it
//! live. It subscribes, applies what the server sends to the projection in commit order, resolves
//! requests ([`calls`]), reconnects with backoff after an outage ([`backoff`]), rehydrating the
//! projection by diff, and refreshes its token ahead of expiry by switching to a new connection only once
//! it is live ([`alignment`], [`token`]).
//!
//! - [`handle`]: the [`Session`] apps hold, and its options;
//! - `driver`: the task that reads every connection ("link", [`link`]) and decides;
//! - [`connector`]: the seam links open through; [`websocket`]: the product's connector;
//! - [`uri`], [`http`]: server addresses, the schema over HTTP;
//! - [`state`]: the connection state users see; [`query_table`]: the table a query reads.
//!
//! Depends on `codec` and `projection`; `actors` and `gateway` build on it.

pub mod alignment;
pub mod backoff;
pub mod calls;
pub mod connector;
pub(crate) mod driver;
pub mod handle;
pub mod http;
pub mod link;
pub mod query_table;
pub mod state;
pub mod token;
pub mod uri;
#[cfg(test)]
mod views_loopback;
pub mod websocket;
#[cfg(test)]
mod websocket_loopback;

pub use calls::CallOutcome;
pub use handle::{PendingCall, Session, SessionOptions};
