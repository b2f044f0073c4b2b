//! Actor attribution: who SpacetimeDB sees as the caller of a reducer (docs/actors.md).
//!
//! - *service*: the gateway's own connection calls, and the effective actor travels as the reducer's
//!   `actor` argument ([`actor`]); the module trusts it only from a trusted gateway.
//! - *per-user*: the call runs with the user's token, so the module sees the user as `ctx.sender`:
//!   over a bounded pool of per-user connections ([`pool`], [`pool_state`], [`session_pool`]) or over
//!   the HTTP call route ([`http_call`], with arguments in SpacetimeDB's JSON: [`sats_json`]).
//! - *hybrid*: both; [`user_calls`] takes the per-user calls of a gateway, [`token_check`] decides
//!   whether a user token may be used.

#![warn(missing_docs)]

pub mod actor;
pub mod http_call;
pub mod pool;
pub mod pool_state;
pub mod sats_json;
pub mod session_pool;
pub mod token_check;
pub mod user_calls;

pub use pool::PoolOptions;
pub use pool_state::PoolStats;
pub use user_calls::{UserCallOptions, UserCallOutcome, UserCalls, UserRoute};
