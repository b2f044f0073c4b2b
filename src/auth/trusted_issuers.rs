//! Several trusted issuers in one verifier: the dual run of an issuer migration (the old IdP and the
//! app's own issuer side by side), or customer SSO (one IdP per customer).
//!
//! Each issuer keeps its own [`Verifier`]: its key source, audience, algorithms and clock tolerance. A
//! token is checked by exactly the verifier its `iss` names, read before the signature — the only way to
//! know whose keys to use — and never by any other: trying each issuer in turn would let one issuer's
//! keys or algorithms vouch for a token claiming another, and would fetch every issuer's JWKS for a
//! token nobody trusts. An `iss` nobody configured is refused before any key is looked at or fetched.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::errors::{auth_error, AuthErrorCode};
use super::issuer::{differ_only_by_trailing_slash, MAX_CLAIM_BYTES};
use super::jwt::{self, DecodedJwt};
use super::verify::Verifier;
use crate::error::{GatewayError, Result};

/// Issuers a verifier trusts, each with its own verification options and keys.
pub struct TrustedIssuers {
    /// In configuration order; issuers are unique (exact strings).
    verifiers: Vec<Verifier>,
}

impl TrustedIssuers {
    /// Refuses an empty list and an issuer configured twice (which of its two key sources would decide?).
    pub fn new(verifiers: Vec<Verifier>) -> Result<Self> {
        if verifiers.is_empty() {
            return Err(GatewayError::invalid_argument("verify: `issuers` is empty; trust at least one issuer"));
        }
        for (i, v) in verifiers.iter().enumerate() {
            if verifiers[..i].iter().any(|earlier| earlier.options.issuer == v.options.issuer) {
                return Err(GatewayError::invalid_argument(format!(
                    "verify: issuer `{}` is configured twice; give each issuer once, with all its audiences",
                    v.options.issuer
                )));
            }
        }
        Ok(TrustedIssuers { verifiers })
    }

    /// The trusted issuers, in configuration order.
    pub fn issuers(&self) -> Vec<String> {
        self.verifiers.iter().map(|v| v.options.issuer.clone()).collect()
    }

    /// The verifier of the issuer the token names, or the reason there is none.
    fn select(&self, jwt: &DecodedJwt<'_>) -> Result<&Verifier> {
        let iss = match jwt.payload.get("iss") {
            Some(Value::String(iss)) => iss,
            Some(_) => return Err(auth_error(AuthErrorCode::TokenClaimInvalid, "`iss` must be a string")),
            None => {
                return Err(auth_error(
                    AuthErrorCode::TokenIssuer,
                    format!("the token has no `iss`; trusted issuers: {}", self.listed()),
                ))
            }
        };
        self.verifiers.iter().find(|v| &v.options.issuer == iss).ok_or_else(|| self.untrusted(iss))
    }

    fn listed(&self) -> String {
        self.verifiers.iter().map(|v| format!("`{}`", v.options.issuer)).collect::<Vec<_>>().join(", ")
    }

    fn untrusted(&self, iss: &str) -> GatewayError {
        let near = self.verifiers.iter().find(|v| differ_only_by_trailing_slash(iss, &v.options.issuer));
        let hint = match near {
            Some(v) => format!(
                " (`{}` differs only by a trailing `/`, which is another SpacetimeDB Identity)",
                v.options.issuer
            ),
            None => String::new(),
        };
        auth_error(
            AuthErrorCode::TokenIssuerUntrusted,
            format!("the token's issuer `{}` is not trusted; trusted issuers: {}{hint}", shown(iss), self.listed()),
        )
    }

    /// Verifies synchronously with the token's issuer's in-memory keys; returns the payload.
    pub fn verify_sync(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        let jwt = jwt::decode(token)?;
        self.select(&jwt)?.verify_decoded_sync(jwt, now)
    }

    /// Verifies with the token's issuer's keys (fetched when remote); returns the payload.
    pub async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        let jwt = jwt::decode(token)?;
        self.select(&jwt)?.verify_decoded(jwt, now).await
    }
}

/// An untrusted `iss` as quoted in a message: the token's author chose it, so at most
/// [`MAX_CLAIM_BYTES`] of it (SpacetimeDB's own limit) and no control characters.
fn shown(iss: &str) -> String {
    let mut end = iss.len().min(MAX_CLAIM_BYTES);
    while !iss.is_char_boundary(end) {
        end -= 1;
    }
    let cut: String = iss[..end].chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    if end < iss.len() {
        format!("{cut}… ({} bytes)", iss.len())
    } else {
        cut
    }
}

/// What a `TokenVerifier` holds: one issuer (checked as [`Verifier`] always did: keys first, then `iss`),
/// or several chosen by `iss`.
#[derive(Clone)]
pub enum AnyVerifier {
    Single(Verifier),
    Trusted(Arc<TrustedIssuers>),
}

impl AnyVerifier {
    /// The issuers this verifier accepts.
    pub fn issuers(&self) -> Vec<String> {
        match self {
            AnyVerifier::Single(v) => vec![v.options.issuer.clone()],
            AnyVerifier::Trusted(t) => t.issuers(),
        }
    }

    pub fn verify_sync(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        match self {
            AnyVerifier::Single(v) => v.verify_sync(token, now),
            AnyVerifier::Trusted(t) => t.verify_sync(token, now),
        }
    }

    pub async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        match self {
            AnyVerifier::Single(v) => v.verify(token, now).await,
            AnyVerifier::Trusted(t) => t.verify(token, now).await,
        }
    }
}
