//! Errors with stable codes.
//!
//! Every failure a user can hit surfaces in JavaScript as an `Error` whose `code` is one of
//! [`ErrorCode`] and whose message names the cause. The core returns [`GatewayError`]; the binding
//! layer turns it into a JS error (see `bindings::to_napi_error`).

use std::fmt;

/// The stable error codes of the public contract. The string form (`as_str`) is what JS sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The caller passed a value that does not fit (wrong type, out of range, missing field, unknown
    /// table or reducer).
    InvalidArgument,
    /// The server could not be reached, or refused the websocket upgrade.
    ConnectFailed,
    /// The server rejected the token (HTTP 401).
    Unauthorized,
    /// The server has no database of that name or identity.
    NoSuchDatabase,
    /// The server rejected a subscription (bad SQL, unknown table, private table).
    SubscriptionFailed,
    /// The reducer ran and returned an error (or ran out of energy); the message is the module's.
    ReducerFailed,
    /// The procedure failed in the host (a panic, an unknown procedure, out of energy); the message is the
    /// server's. A procedure's own errors are part of its return value.
    ProcedureFailed,
    /// The connection cannot do this: e.g. procedures on a `v1` connection (they need `v2`/`v3`).
    Unsupported,
    /// A deadline passed.
    Timeout,
    /// The connection to SpacetimeDB was lost; for a request in flight, its outcome is unknown.
    Disconnected,
    /// The gateway or the object was closed before or during the operation.
    Closed,
    /// The SpacetimeDB server sent something the gateway cannot read: a malformed message or schema, or
    /// bytes that do not match the schema's types.
    Protocol,
    /// A bug or an unexpected state inside the gateway; the message says what happened.
    Internal,
    /// A failure of the auth part (keys, tokens, JWKS); see [`crate::auth::AuthErrorCode`].
    Auth(crate::auth::AuthErrorCode),
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::ConnectFailed => "CONNECT_FAILED",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::NoSuchDatabase => "NO_SUCH_DATABASE",
            ErrorCode::SubscriptionFailed => "SUBSCRIPTION_FAILED",
            ErrorCode::ReducerFailed => "REDUCER_FAILED",
            ErrorCode::ProcedureFailed => "PROCEDURE_FAILED",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Disconnected => "DISCONNECTED",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::Protocol => "PROTOCOL",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Auth(code) => code.as_str(),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the Rust core: a stable code and a message that names the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayError {
    pub code: ErrorCode,
    pub message: String,
}

impl GatewayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        GatewayError { code, message: message.into() }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// A [`ErrorCode::Protocol`] error: the server sent something the gateway cannot read.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Protocol, message)
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for GatewayError {}

pub type Result<T, E = GatewayError> = std::result::Result<T, E>;
