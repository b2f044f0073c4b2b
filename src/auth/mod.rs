//! The auth part: SpacetimeDB access tokens minted from the app's own verified sessions.
//!
//! SpacetimeDB (protocol doc §5) accepts an OIDC issuer's ES256/RS256 tokens: it fetches
//! `{iss}/.well-known/openid-configuration`, then the JWKS, and derives the caller's Identity from
//! `(iss, sub)`. This module mints such tokens ([`broker`]), publishes the documents SpacetimeDB reads,
//! verifies tokens with per-key algorithm pinning ([`verify`], [`remote_jwks`]) and explains why a token
//! would be rejected ([`diagnose`]). Everything here is plain Rust; `crate::bindings::auth` adapts it to JS.

pub mod alg;
pub mod b64;
pub mod broker;
pub mod claims;
mod der;
pub mod diagnose;
mod diagnose_network;
pub mod errors;
pub mod identity;
pub mod issuer;
pub mod issuer_config;
pub mod jwt;
pub mod key_import;
pub mod key_input;
pub mod keygen;
pub mod keys;
pub mod keyset;
mod pem;
pub mod remote_jwks;
mod strict_json;
pub mod token_rules;
pub mod trusted_issuers;
pub mod verify;

#[cfg(test)]
mod tests;

pub use errors::AuthErrorCode;

/// Seconds since the Unix epoch (the unit of `iat`/`exp`). A clock before 1970 reads as 0.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
