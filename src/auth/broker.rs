//! The token broker: turns the app's verified session into a short-lived SpacetimeDB access token, and
//! publishes the documents SpacetimeDB reads to verify it (OIDC discovery + JWKS).

use serde_json::{json, Map, Value};

use super::claims::{check_claims, check_subject, TOKEN_TYPE};
use super::errors::{auth_error, AuthErrorCode};
use super::identity::derive_identity;
use super::issuer::{check_canonical, default_jwks_url, discovery_url, parse_issuer, path_of};
use super::jwt;
use super::key_input::KeyRing;
use super::keyset::KeySet;
use super::verify::{verify_with_keys, VerifyOptions};
use crate::error::{GatewayError, Result};

/// Token lifetime when none is given: short, because SpacetimeDB checks a token only at connect.
pub const DEFAULT_TTL_SECONDS: u64 = 300;
/// Default upper bound of a token lifetime.
pub const DEFAULT_MAX_TTL_SECONDS: u64 = 3600;
/// Upper bound for `maxTtlSeconds` itself: an access token living longer than a day is a credential.
pub const MAX_TTL_LIMIT_SECONDS: u64 = 86_400;

/// How a broker is configured.
#[derive(Clone, Debug, Default)]
pub struct BrokerOptions {
    /// The exact `iss` (an http(s) URL where discovery is served); Identities derive from it.
    pub issuer: String,
    /// `aud` of every token (one or more); SpacetimeDB ignores it, the gateway and modules check it.
    pub audience: Vec<String>,
    /// One key, or `{ active, retiring: [...] }` (see `key_input`).
    pub keys: Value,
    pub ttl_seconds: Option<u64>,
    pub max_ttl_seconds: Option<u64>,
    /// Allow `sub` values that look like e-mail addresses.
    pub allow_email_subject: bool,
    /// The issuer string the deployment's Identities were derived from (default: `issuer` without `/`).
    pub canonical_issuer: Option<String>,
    /// Accept an issuer that differs from the canonical one only by trailing `/`.
    pub allow_issuer_trailing_slash: bool,
}

/// A machine actor's token request: `sub = robot:<id>`.
#[derive(Clone, Debug, Default)]
pub struct RobotGrant {
    pub id: String,
    pub tenant_id: Option<String>,
    pub perms: Option<Vec<String>>,
    /// Further claims (the same rules as for `mint`).
    pub claims: Map<String, Value>,
}

/// Where the broker's documents live, for mounting routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WellKnown {
    pub discovery_url: String,
    pub discovery_path: String,
    pub jwks_url: String,
    pub jwks_path: String,
}

/// Mints, publishes and checks SpacetimeDB access tokens for one issuer.
pub struct TokenBroker {
    issuer: String,
    audience: Vec<String>,
    keys: KeyRing,
    published: KeySet,
    default_ttl: u64,
    max_ttl: u64,
    allow_email_subject: bool,
    verify_options: VerifyOptions,
}

impl std::fmt::Debug for TokenBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBroker")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("active_kid", &self.active_kid())
            .finish_non_exhaustive()
    }
}

fn ttl_invalid(message: String) -> GatewayError {
    auth_error(AuthErrorCode::ClaimInvalid, message)
}

impl TokenBroker {
    pub fn new(options: BrokerOptions) -> Result<Self> {
        parse_issuer(&options.issuer)?;
        check_canonical(&options.issuer, options.canonical_issuer.as_deref(), options.allow_issuer_trailing_slash)?;
        if options.audience.is_empty() || options.audience.iter().any(|a| a.trim().is_empty()) {
            return Err(GatewayError::invalid_argument(
                "TokenBroker: `audience` is required (SpacetimeDB ignores `aud`; your gateway and module check it)",
            ));
        }
        let max_ttl = options.max_ttl_seconds.unwrap_or(DEFAULT_MAX_TTL_SECONDS);
        if max_ttl == 0 || max_ttl > MAX_TTL_LIMIT_SECONDS {
            return Err(GatewayError::invalid_argument(format!(
                "TokenBroker: maxTtlSeconds must be 1 to {MAX_TTL_LIMIT_SECONDS}, got {max_ttl}"
            )));
        }
        let default_ttl = options.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS.min(max_ttl));
        if default_ttl == 0 || default_ttl > max_ttl {
            return Err(GatewayError::invalid_argument(format!(
                "TokenBroker: ttlSeconds must be 1 to maxTtlSeconds ({max_ttl}), got {default_ttl}"
            )));
        }
        let keys = KeyRing::from_value(&options.keys)?;
        let published = KeySet::from_public_keys(keys.published());
        let verify_options = VerifyOptions::new(options.issuer.clone(), options.audience.clone())?;
        Ok(TokenBroker {
            issuer: options.issuer,
            audience: options.audience,
            keys,
            published,
            default_ttl,
            max_ttl,
            allow_email_subject: options.allow_email_subject,
            verify_options,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &[String] {
        &self.audience
    }

    /// The `kid` new tokens are signed with.
    pub fn active_kid(&self) -> &str {
        self.keys.active.kid()
    }

    pub fn default_ttl(&self) -> u64 {
        self.default_ttl
    }

    pub fn max_ttl(&self) -> u64 {
        self.max_ttl
    }

    fn ttl(&self, requested: Option<u64>) -> Result<u64> {
        match requested {
            None => Ok(self.default_ttl),
            Some(0) => Err(ttl_invalid("ttlSeconds must be at least 1".into())),
            Some(t) if t > self.max_ttl => {
                Err(ttl_invalid(format!("ttlSeconds {t} is above this broker's maxTtlSeconds ({})", self.max_ttl)))
            }
            Some(t) => Ok(t),
        }
    }

    /// Mints a token for `claims` (must hold `sub`) valid for `ttl` seconds (default: the broker's).
    pub fn mint(&self, claims: Map<String, Value>, ttl: Option<u64>) -> Result<String> {
        self.mint_at(claims, ttl, super::now_seconds())
    }

    /// [`TokenBroker::mint`] at a given time (tests).
    pub fn mint_at(&self, mut claims: Map<String, Value>, ttl: Option<u64>, now: u64) -> Result<String> {
        let ttl = self.ttl(ttl)?;
        check_claims(&mut claims, self.allow_email_subject)?;
        claims.insert("iss".into(), Value::String(self.issuer.clone()));
        claims.insert("aud".into(), self.audience_claim());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + ttl).into());
        claims.insert("token_type".into(), TOKEN_TYPE.into());
        let size = serde_json::to_string(&claims).map(|s| s.len()).unwrap_or(usize::MAX);
        if size > super::claims::MAX_CLAIMS_BYTES {
            return Err(auth_error(
                AuthErrorCode::ClaimInvalid,
                format!("the claims are {size} bytes as JSON; at most {} fit a token", super::claims::MAX_CLAIMS_BYTES),
            ));
        }
        jwt::sign(&self.keys.active, &claims)
    }

    fn audience_claim(&self) -> Value {
        match self.audience.as_slice() {
            [one] => Value::String(one.clone()),
            many => json!(many),
        }
    }

    /// A token for a machine actor: `sub = robot:<id>`, plus `tenant_id` and `perms` when given.
    pub fn mint_robot(&self, robot: RobotGrant, ttl: Option<u64>) -> Result<String> {
        self.mint_robot_at(robot, ttl, super::now_seconds())
    }

    pub fn mint_robot_at(&self, robot: RobotGrant, ttl: Option<u64>, now: u64) -> Result<String> {
        if robot.id.is_empty() || robot.id.contains(char::is_whitespace) || robot.id.starts_with("robot:") {
            return Err(auth_error(
                AuthErrorCode::ClaimInvalid,
                format!("robot id {:?} must be non-empty, without spaces, and without the `robot:` prefix", robot.id),
            ));
        }
        let mut claims = robot.claims;
        for (name, present) in
            [("sub", true), ("tenant_id", robot.tenant_id.is_some()), ("perms", robot.perms.is_some())]
        {
            if present && claims.contains_key(name) {
                return Err(auth_error(
                    AuthErrorCode::ClaimInvalid,
                    format!("`{name}` is given twice (in the grant and in its claims)"),
                ));
            }
        }
        claims.insert("sub".into(), Value::String(format!("robot:{}", robot.id)));
        if let Some(tenant) = robot.tenant_id {
            claims.insert("tenant_id".into(), Value::String(tenant));
        }
        if let Some(perms) = robot.perms {
            claims.insert("perms".into(), json!(perms));
        }
        self.mint_at(claims, ttl, now)
    }

    /// A token for `claims.sub` with `act: { sub: actor }`: `actor` (a robot or an admin) acts for `sub`.
    pub fn mint_delegated(&self, claims: Map<String, Value>, actor: &str, ttl: Option<u64>) -> Result<String> {
        self.mint_delegated_at(claims, actor, ttl, super::now_seconds())
    }

    pub fn mint_delegated_at(
        &self,
        mut claims: Map<String, Value>,
        actor: &str,
        ttl: Option<u64>,
        now: u64,
    ) -> Result<String> {
        if claims.contains_key("act") {
            return Err(auth_error(AuthErrorCode::ClaimInvalid, "pass the acting party as `actor`, not as `act`"));
        }
        check_subject(actor, true).map_err(|e| GatewayError::new(e.code, format!("actor: {}", e.message)))?;
        if claims.get("sub").and_then(Value::as_str) == Some(actor) {
            return Err(auth_error(AuthErrorCode::ClaimInvalid, "the actor is the subject itself; use mint"));
        }
        claims.insert("act".into(), json!({ "sub": actor }));
        self.mint_at(claims, ttl, now)
    }

    /// The JWKS document: the active key first, then the retiring ones (all public, all with `kid`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.published().map(|k| k.to_jwk()).collect::<Vec<_>>() })
    }

    /// Where discovery and the JWKS live for this issuer; `jwks_uri` overrides the default
    /// `<issuer>/.well-known/jwks.json`.
    pub fn well_known(&self, jwks_uri: Option<&str>) -> Result<WellKnown> {
        let jwks_url = match jwks_uri {
            Some(uri) => {
                let url = reqwest::Url::parse(uri)
                    .map_err(|e| GatewayError::invalid_argument(format!("jwksUri `{uri}` is not a URL ({e})")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(GatewayError::invalid_argument(format!("jwksUri `{uri}` must be an http(s) URL")));
                }
                uri.to_string()
            }
            None => default_jwks_url(&self.issuer),
        };
        let discovery = discovery_url(&self.issuer);
        Ok(WellKnown {
            discovery_path: path_of(&discovery),
            discovery_url: discovery,
            jwks_path: path_of(&jwks_url),
            jwks_url,
        })
    }

    /// The OpenID discovery document SpacetimeDB reads at `<issuer>/.well-known/openid-configuration`.
    /// Only what a token verifier needs: this broker is not a full OpenID provider (no login endpoints).
    pub fn openid_configuration(&self, jwks_uri: Option<&str>) -> Result<Value> {
        let well_known = self.well_known(jwks_uri)?;
        let mut algs: Vec<&str> = self.keys.published().map(|k| k.alg().as_str()).collect();
        algs.sort_unstable();
        algs.dedup();
        Ok(json!({
            "issuer": self.issuer,
            "jwks_uri": well_known.jwks_url,
            "id_token_signing_alg_values_supported": algs,
            "subject_types_supported": ["public"],
            "response_types_supported": ["id_token"],
        }))
    }

    /// The SpacetimeDB Identity (hex) of this issuer's tokens for `sub`.
    pub fn identity_for(&self, sub: &str) -> String {
        derive_identity(&self.issuer, sub)
    }

    /// Verifies a token against this broker's own published keys, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>> {
        self.verify_at(token, super::now_seconds())
    }

    pub fn verify_at(&self, token: &str, now: u64) -> Result<Map<String, Value>> {
        verify_with_keys(token, &self.published, &self.verify_options, now)
    }

    /// The published keys as a key set (for verifiers built from this broker).
    pub fn key_set(&self) -> &KeySet {
        &self.published
    }
}
