//! The stable error codes of the auth part, and shorthands to build coded errors.
//!
//! They live here rather than as flat variants of `crate::error::ErrorCode` so the shared error file
//! only needs one variant (`ErrorCode::Auth`); JS sees the same `code` strings either way.

use crate::error::{ErrorCode, GatewayError};

/// Why a key, an issuer, a claim, a token or a JWKS was refused. `as_str` is the JS `error.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthErrorCode {
    /// A key could not be read (bad PEM/DER/JWK, inconsistent parts, encrypted key).
    KeyInvalid,
    /// A readable key SpacetimeDB would not accept (EdDSA, ES384, PS*, HS*, RSA under 2048 bits).
    KeyUnsupported,
    /// A key has no usable `kid` (missing, empty, too long, duplicated).
    KeyIdInvalid,
    /// The issuer string is not usable (not an http(s) URL, too long, or a trailing-`/` variant).
    IssuerInvalid,
    /// A claim passed to `mint` breaks the claim contract (e-mail `sub`, reserved claim, TTL out of range…).
    ClaimInvalid,
    /// The token is not a well-formed compact JWS (segments, base64url, JSON, a repeated JSON key, size),
    /// or its header breaks a rule (`crit`, a `kid` or other registered member of the wrong type).
    TokenMalformed,
    /// The token's `alg` is not allowed (`none`, HS*, EdDSA…) or does not match the key's type.
    TokenAlgRejected,
    /// The signature does not verify with the selected key.
    TokenBadSignature,
    /// No published key matches the token's `kid` (or its algorithm, without `kid`).
    TokenKeyNotFound,
    /// `exp` is in the past (beyond the clock tolerance).
    TokenExpired,
    /// `nbf` or `iat` is in the future (beyond the clock tolerance).
    TokenNotYetValid,
    /// A required claim (`iat`, `exp`, `sub`) is missing, or a registered claim (`iss`, `sub`, `aud`,
    /// `iat`, `exp`, `nbf`) has the wrong type.
    TokenClaimInvalid,
    /// `aud` does not name the expected audience.
    TokenAudience,
    /// `iss` is not the expected issuer.
    TokenIssuer,
    /// `iss` names an issuer a several-issuer verifier does not trust (no key of any other issuer is tried).
    TokenIssuerUntrusted,
    /// The JWKS (or the discovery document) could not be fetched.
    JwksUnreachable,
    /// The JWKS (or the discovery document) was fetched but is not usable.
    JwksInvalid,
}

impl AuthErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthErrorCode::KeyInvalid => "KEY_INVALID",
            AuthErrorCode::KeyUnsupported => "KEY_UNSUPPORTED",
            AuthErrorCode::KeyIdInvalid => "KEY_ID_INVALID",
            AuthErrorCode::IssuerInvalid => "ISSUER_INVALID",
            AuthErrorCode::ClaimInvalid => "CLAIM_INVALID",
            AuthErrorCode::TokenMalformed => "TOKEN_MALFORMED",
            AuthErrorCode::TokenAlgRejected => "TOKEN_ALG_REJECTED",
            AuthErrorCode::TokenBadSignature => "TOKEN_BAD_SIGNATURE",
            AuthErrorCode::TokenKeyNotFound => "TOKEN_KEY_NOT_FOUND",
            AuthErrorCode::TokenExpired => "TOKEN_EXPIRED",
            AuthErrorCode::TokenNotYetValid => "TOKEN_NOT_YET_VALID",
            AuthErrorCode::TokenClaimInvalid => "TOKEN_CLAIM_INVALID",
            AuthErrorCode::TokenAudience => "TOKEN_AUDIENCE",
            AuthErrorCode::TokenIssuer => "TOKEN_ISSUER",
            AuthErrorCode::TokenIssuerUntrusted => "TOKEN_ISSUER_UNTRUSTED",
            AuthErrorCode::JwksUnreachable => "JWKS_UNREACHABLE",
            AuthErrorCode::JwksInvalid => "JWKS_INVALID",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: [AuthErrorCode; 17] = [
        AuthErrorCode::KeyInvalid,
        AuthErrorCode::KeyUnsupported,
        AuthErrorCode::KeyIdInvalid,
        AuthErrorCode::IssuerInvalid,
        AuthErrorCode::ClaimInvalid,
        AuthErrorCode::TokenMalformed,
        AuthErrorCode::TokenAlgRejected,
        AuthErrorCode::TokenBadSignature,
        AuthErrorCode::TokenKeyNotFound,
        AuthErrorCode::TokenExpired,
        AuthErrorCode::TokenNotYetValid,
        AuthErrorCode::TokenClaimInvalid,
        AuthErrorCode::TokenAudience,
        AuthErrorCode::TokenIssuer,
        AuthErrorCode::TokenIssuerUntrusted,
        AuthErrorCode::JwksUnreachable,
        AuthErrorCode::JwksInvalid,
    ];
}

/// A coded error of the auth part.
pub fn auth_error(code: AuthErrorCode, message: impl Into<String>) -> GatewayError {
    GatewayError::new(ErrorCode::Auth(code), message)
}

/// The auth code of an error, if it is one (tests and diagnostics match on it).
pub fn auth_code(err: &GatewayError) -> Option<AuthErrorCode> {
    match err.code {
        ErrorCode::Auth(code) => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed_in_the_public_types() {
        let published = include_str!("../../lib/auth.d.ts");
        let mut seen = std::collections::HashSet::new();
        for code in AuthErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{name}");
            assert!(published.contains(&format!("'{name}'")), "{name} is missing from the AuthErrorCode type");
            assert_eq!(auth_error(code, "x").to_string(), format!("{name}: x"));
        }
    }
}
