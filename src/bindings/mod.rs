//! The `#[napi]` layer: converts JS values, validates arguments and maps core errors to JS errors.
//! No product logic lives here.

use napi_derive::napi;

pub mod auth;
pub mod gateway;
pub mod relay;
mod user_calls;

use crate::error::GatewayError;

/// Maps a core error to a JS error. The message carries the stable code as a `CODE: ` prefix, which
/// the JS surface (`lib/errors.js`) turns into `error.code`; napi-rs cannot attach a custom `code`
/// to errors returned from async functions.
pub(crate) fn to_napi_error(err: GatewayError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, err.to_string())
}

/// The version of the native addon (the crate version), for diagnostics.
#[napi]
pub fn native_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// How the native addon was compiled: `'release'` (what `npm pack` ships) or `'debug'` (a development
/// build), for diagnostics.
#[napi]
pub fn native_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}
