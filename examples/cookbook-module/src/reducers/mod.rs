//! The module's reducers, by topic. Every reducer a user or robot calls takes `actor: Option<ActorClaim>`
//! first (see `caller.rs`); administration reducers are for the owner and trusted gateways.

pub mod admin;
pub mod documents;
pub mod impersonation;
pub mod keys;
pub mod session;
pub mod tenancy;
