//! Token verification: algorithm pinned per key, header members, signature, then the claims' types and
//! `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`.
//!
//! Order matters: nothing about a token's claims is reported before its signature is known good, and
//! the algorithm is checked against an allow-list (ES256/RS256 only — never `none`, never HS*) before
//! any key is touched.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::alg::{rejection_reason, Alg};
use super::claims::audiences;
use super::errors::{auth_error, AuthErrorCode};
use super::issuer::{differ_only_by_trailing_slash, MAX_CLAIM_BYTES};
use super::jwt::{self, DecodedJwt};
use super::keyset::KeySet;
use super::remote_jwks::RemoteJwks;
use super::token_rules::{claim_problems, header_problems, refuse_first};
use crate::error::{GatewayError, Result};

/// Longest clock tolerance accepted (a larger one would make `exp` meaningless for 5-minute tokens).
pub const MAX_CLOCK_TOLERANCE_SECONDS: u64 = 300;

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The exact expected `iss` (the Identity depends on the exact string).
    pub issuer: String,
    /// Accepted audiences: `aud` must name at least one.
    pub audience: Vec<String>,
    /// Allowed algorithms, a subset of ES256/RS256.
    pub algorithms: Vec<Alg>,
    /// Seconds of clock skew tolerated for `exp`, `nbf` and `iat`.
    pub clock_tolerance: u64,
}

impl VerifyOptions {
    /// Options with both algorithms allowed and no clock tolerance.
    pub fn new(issuer: impl Into<String>, audience: Vec<String>) -> Result<Self> {
        let issuer = issuer.into();
        if issuer.is_empty() {
            return Err(GatewayError::invalid_argument("verify: `issuer` is required (the exact iss to accept)"));
        }
        if audience.is_empty() || audience.iter().any(String::is_empty) {
            return Err(GatewayError::invalid_argument(
                "verify: `audience` is required; SpacetimeDB never checks `aud`, so the gateway must",
            ));
        }
        Ok(VerifyOptions { issuer, audience, algorithms: vec![Alg::Es256, Alg::Rs256], clock_tolerance: 0 })
    }

    /// Restricts the algorithms; names outside ES256/RS256 are refused with the reason.
    pub fn with_algorithms(mut self, names: &[String]) -> Result<Self> {
        if names.is_empty() {
            return Err(GatewayError::invalid_argument("verify: `algorithms` is empty"));
        }
        self.algorithms = names
            .iter()
            .map(|n| {
                Alg::parse(n).ok_or_else(|| GatewayError::invalid_argument(format!("verify: {}", rejection_reason(n))))
            })
            .collect::<Result<_>>()?;
        Ok(self)
    }

    pub fn with_clock_tolerance(mut self, seconds: u64) -> Result<Self> {
        if seconds > MAX_CLOCK_TOLERANCE_SECONDS {
            return Err(GatewayError::invalid_argument(format!(
                "verify: clockToleranceSeconds is {seconds}; at most {MAX_CLOCK_TOLERANCE_SECONDS} is accepted"
            )));
        }
        self.clock_tolerance = seconds;
        Ok(self)
    }
}

/// Checks the header: `alg` allowed, then its other members ([`header_problems`]: no `crit`, a string
/// `kid`, registered members of their RFC 7515 types). `keys`, when known, enriches the message for a
/// mismatched key (the algorithm-confusion case).
pub fn check_header(jwt: &DecodedJwt<'_>, options: &VerifyOptions, keys: Option<&KeySet>) -> Result<Alg> {
    let allowed = Alg::parse(&jwt.alg).filter(|a| options.algorithms.contains(a));
    let Some(alg) = allowed else {
        let mut message = match Alg::parse(&jwt.alg) {
            Some(a) => format!("{a} is not among the allowed algorithms"),
            None => rejection_reason(&jwt.alg),
        };
        if let (Some(kid), Some(keys)) = (jwt.kid(), keys) {
            if let Some(description) = keys.describe_kid(kid) {
                message.push_str(&format!(" (the token names key `{kid}`, {description})"));
            }
        }
        return Err(auth_error(AuthErrorCode::TokenAlgRejected, message));
    };
    // Before any key lookup: a non-string `kid` must not read as "no kid" and select every key.
    refuse_first(header_problems(&jwt.header), AuthErrorCode::TokenMalformed)?;
    Ok(alg)
}

fn claim_invalid(message: impl Into<String>) -> GatewayError {
    auth_error(AuthErrorCode::TokenClaimInvalid, message)
}

/// A NumericDate claim (integer seconds), if present; [`claim_problems`] has already refused any other type.
fn numeric_date(payload: &Map<String, Value>, name: &str) -> Option<i64> {
    payload.get(name).and_then(Value::as_i64)
}

/// Checks the claims of a token whose signature is already verified.
pub fn check_claims(payload: &Map<String, Value>, options: &VerifyOptions, now: u64) -> Result<()> {
    refuse_first(claim_problems(payload), AuthErrorCode::TokenClaimInvalid)?;
    match payload.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == options.issuer => {}
        Some(iss) => {
            let hint = if differ_only_by_trailing_slash(iss, &options.issuer) {
                " (they differ only by a trailing `/`, which changes the SpacetimeDB Identity)"
            } else {
                ""
            };
            return Err(auth_error(
                AuthErrorCode::TokenIssuer,
                format!("the token's issuer is `{iss}`, expected `{}`{hint}", options.issuer),
            ));
        }
        None => return Err(auth_error(AuthErrorCode::TokenIssuer, "the token has no `iss`")),
    }
    let audiences = audiences(payload);
    if !audiences.iter().any(|a| options.audience.iter().any(|want| want == a)) {
        let got = if audiences.is_empty() { "no `aud`".to_string() } else { format!("aud {audiences:?}") };
        return Err(auth_error(
            AuthErrorCode::TokenAudience,
            format!("the token has {got}; expected one of {:?}", options.audience),
        ));
    }
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let tolerance = options.clock_tolerance as i64; // at most MAX_CLOCK_TOLERANCE_SECONDS
    let exp = numeric_date(payload, "exp")
        .ok_or_else(|| claim_invalid("the token has no `exp`; access tokens must expire"))?;
    if now > exp.saturating_add(tolerance) {
        return Err(auth_error(
            AuthErrorCode::TokenExpired,
            format!("the token expired {} s ago", now.saturating_sub(exp)),
        ));
    }
    if let Some(nbf) = numeric_date(payload, "nbf") {
        if nbf > now.saturating_add(tolerance) {
            return Err(auth_error(
                AuthErrorCode::TokenNotYetValid,
                format!("the token is not valid for another {} s (nbf)", nbf.saturating_sub(now)),
            ));
        }
    }
    let iat =
        numeric_date(payload, "iat").ok_or_else(|| claim_invalid("the token has no `iat`; SpacetimeDB requires it"))?;
    if iat > now.saturating_add(tolerance) {
        return Err(auth_error(
            AuthErrorCode::TokenNotYetValid,
            format!("the token was issued {} s in the future (iat): are the clocks in sync?", iat.saturating_sub(now)),
        ));
    }
    match payload.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() && sub.len() <= MAX_CLAIM_BYTES => Ok(()),
        Some(_) => Err(claim_invalid(format!("`sub` must be 1 to {MAX_CLAIM_BYTES} bytes (SpacetimeDB's limit)"))),
        None => Err(claim_invalid("the token has no `sub`; SpacetimeDB requires it")),
    }
}

/// Verifies `token` against an in-memory key set; returns the payload.
pub fn verify_with_keys(token: &str, keys: &KeySet, options: &VerifyOptions, now: u64) -> Result<Map<String, Value>> {
    verify_decoded_with_keys(jwt::decode(token)?, keys, options, now)
}

/// [`verify_with_keys`] for a token already decoded (a caller that read its `iss` first decodes once).
fn verify_decoded_with_keys(
    jwt: DecodedJwt<'_>,
    keys: &KeySet,
    options: &VerifyOptions,
    now: u64,
) -> Result<Map<String, Value>> {
    let alg = check_header(&jwt, options, Some(keys))?;
    keys.verify_signature(&jwt, alg)?;
    check_claims(&jwt.payload, options, now)?;
    Ok(jwt.payload)
}

/// Where a verifier gets its keys.
#[derive(Clone)]
pub enum KeySource {
    /// A JWKS given in memory (sync verification possible).
    Local(Arc<KeySet>),
    /// A remote JWKS (by URI or by the issuer's discovery document), cached.
    Remote(Arc<RemoteJwks>),
}

/// Verification options bound to a key source: build once, verify many.
#[derive(Clone)]
pub struct Verifier {
    pub options: VerifyOptions,
    pub source: KeySource,
}

impl Verifier {
    /// Verifies synchronously; only for an in-memory JWKS (remote keys need I/O: use [`Verifier::verify`]).
    pub fn verify_sync(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        self.verify_decoded_sync(jwt::decode(token)?, now)
    }

    /// Verifies, fetching (or refreshing, within the cool-down) a remote JWKS when needed.
    pub async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        self.verify_decoded(jwt::decode(token)?, now).await
    }

    /// [`Verifier::verify_sync`] of a decoded token.
    pub fn verify_decoded_sync(&self, jwt: DecodedJwt<'_>, now: u64) -> Result<Map<String, Value>> {
        match &self.source {
            KeySource::Local(keys) => verify_decoded_with_keys(jwt, keys, &self.options, now),
            KeySource::Remote(_) => Err(GatewayError::invalid_argument(
                "verifySync needs an in-memory `jwks`; with `jwksUri` or `discovery` use the async verify",
            )),
        }
    }

    /// [`Verifier::verify`] of a decoded token.
    pub async fn verify_decoded(&self, jwt: DecodedJwt<'_>, now: u64) -> Result<Map<String, Value>> {
        let keys = match &self.source {
            KeySource::Local(keys) => return verify_decoded_with_keys(jwt, keys, &self.options, now),
            KeySource::Remote(remote) => {
                check_header(&jwt, &self.options, None)?; // refuse HS*/none before any network I/O
                remote.key_set_for(jwt.kid()).await?
            }
        };
        verify_decoded_with_keys(jwt, &keys, &self.options, now)
    }
}
