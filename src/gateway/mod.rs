//! The product's one entry point, [`Gateway`]: connect to a database (options checked, schema fetched,
//! relay options checked against it before the websocket opens, session opened, subscriptions applied),
//! call reducers on the route the caller chose, start the relay, close. Each `#[napi]` function of
//! `bindings` maps onto one call here.
//!
//! - [`options`]: the options of `Gateway.connect` and `callReducer`, with defaults and errors;
//! - [`connect`]: the [`Gateway`] and its connect sequence; [`calls`]: routes; [`relay`]: the relay's
//!   wiring; [`json`]: rows and change batches as the JSON the JS surface reads.

pub mod calls;
pub mod connect;
pub mod json;
pub mod options;
pub mod relay;

pub use calls::{CallResult, StartedCall, StartedProcedure};
pub use connect::Gateway;
pub use options::{CallOptions, ConnectOptions, ReconnectOptions};
pub use relay::RelayHandle;
