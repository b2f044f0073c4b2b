//! Tests that cross modules: known-answer vectors, the broker, every verification rejection, the
//! remote JWKS cache and the diagnostics. Module-local tests sit beside their code.

mod broker;
mod diagnose;
mod keys;
mod parsing;
mod remote;
mod support;
mod trusted_issuers;
mod vectors;
mod verify;
