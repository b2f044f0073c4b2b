//! The product's one entry point: connect to a database (schema, session, per-user calls, relay
//! options checked), call reducers on the right route, start the relay, close.

pub mod json;
