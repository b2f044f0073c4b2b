//! JS bindings of the auth part (`crate::auth`): argument conversion and validation, error mapping.
//!
//! Free-form JSON (claims, keys, JWKS) arrives as a JSON string: the JS layer (`lib/auth.js`) runs
//! `JSON.stringify`, which drops `undefined` members and serialises `Date`s the way users expect, and a
//! string crosses the boundary cheaper than an object walked property by property. The public, precise
//! types are in `lib/auth.d.ts`; this file's generated declarations are the internal layer.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};

use super::to_napi_error;
use crate::auth::alg::Alg;
use crate::auth::broker::{BrokerOptions, RobotGrant, TokenBroker};
use crate::auth::diagnose::{diagnose, DiagnoseOptions};
use crate::auth::issuer_config::{self, IssuerConfig};
use crate::auth::trusted_issuers::AnyVerifier;
use crate::auth::{identity, jwt, keygen, now_seconds};
use crate::error::GatewayError;

fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi_error(GatewayError::invalid_argument(message))
}

/// A whole number of seconds from a JS number (see `issuer_config::whole_seconds`).
fn seconds(name: &str, value: Option<f64>) -> Result<Option<u64>> {
    issuer_config::whole_seconds(name, value).map_err(to_napi_error)
}

fn parse_json(name: &str, text: &str) -> Result<Value> {
    issuer_config::parse_json(name, text).map_err(to_napi_error)
}

fn parse_object(name: &str, text: &str) -> Result<Map<String, Value>> {
    match parse_json(name, text)? {
        Value::Object(map) => Ok(map),
        _ => Err(invalid(format!("{name} must be an object"))),
    }
}

fn parse_alg(name: &str) -> Result<Alg> {
    Alg::parse(name).ok_or_else(|| {
        to_napi_error(crate::auth::errors::auth_error(
            crate::auth::AuthErrorCode::KeyUnsupported,
            crate::auth::alg::rejection_reason(name),
        ))
    })
}

/// A key pair from `generateKeyPair`, in the shape every key parameter accepts as-is.
#[napi(object)]
pub struct GeneratedKeyPair {
    /// `ES256` or `RS256`.
    #[napi(ts_type = "'ES256' | 'RS256'")]
    pub alg: String,
    /// The key id (default: the RFC 7638 thumbprint).
    pub kid: String,
    /// PKCS#8 PEM. Keep it secret.
    pub private_key_pem: String,
    /// SPKI PEM.
    pub public_key_pem: String,
    /// The public JWK as published in the JWKS (`kid`, `alg`, `use: "sig"`).
    #[napi(ts_type = "Record<string, string>")]
    pub public_jwk: Value,
}

/// Generates an ES256 (P-256) or RS256 (RSA-2048) key pair. RSA generation takes up to a second.
#[napi]
pub fn generate_key_pair(alg: String, kid: Option<String>) -> Result<GeneratedKeyPair> {
    let pair = keygen::generate_key_pair(parse_alg(&alg)?, kid.as_deref()).map_err(to_napi_error)?;
    Ok(GeneratedKeyPair {
        alg: pair.alg.as_str().into(),
        kid: pair.kid,
        private_key_pem: pair.private_key_pem,
        public_key_pem: pair.public_key_pem,
        public_jwk: pair.public_jwk,
    })
}

/// The SpacetimeDB Identity (64 lowercase hex digits) of tokens with this `iss` and `sub`.
#[napi]
pub fn derive_identity(issuer: String, subject: String) -> String {
    identity::derive_identity(&issuer, &subject)
}

/// A token's header and payload, decoded without verification.
#[napi(object)]
pub struct DecodedToken {
    #[napi(ts_type = "Record<string, unknown>")]
    pub header: Value,
    #[napi(ts_type = "Record<string, unknown>")]
    pub payload: Value,
}

/// Decodes a JWT without verifying it (diagnostics only; never trust the result).
#[napi]
pub fn decode_token(token: String) -> Result<DecodedToken> {
    let jwt = jwt::decode(&token).map_err(to_napi_error)?;
    Ok(DecodedToken { header: Value::Object(jwt.header), payload: Value::Object(jwt.payload) })
}

/// Options of the native broker (the JS layer normalises `audience` and serialises `keys`).
#[napi(object)]
pub struct NativeBrokerOptions {
    pub issuer: String,
    pub audience: Vec<String>,
    /// `JSON.stringify(keys)`.
    pub keys_json: String,
    pub ttl_seconds: Option<f64>,
    pub max_ttl_seconds: Option<f64>,
    pub allow_email_subject: Option<bool>,
    pub canonical_issuer: Option<String>,
    pub allow_issuer_trailing_slash: Option<bool>,
}

/// A robot's token request.
#[napi(object)]
pub struct NativeRobotGrant {
    pub id: String,
    pub tenant_id: Option<String>,
    pub perms: Option<Vec<String>>,
    /// `JSON.stringify` of further claims.
    pub claims_json: Option<String>,
}

/// Where a broker's discovery document and JWKS live.
#[napi(object)]
pub struct WellKnown {
    pub discovery_url: String,
    /// The path to route (e.g. `/api/auth/.well-known/openid-configuration`).
    pub discovery_path: String,
    pub jwks_url: String,
    pub jwks_path: String,
}

/// The token broker (native half of `TokenBroker`).
#[napi(js_name = "NativeTokenBroker")]
pub struct NativeTokenBroker {
    pub(crate) inner: Arc<TokenBroker>,
}

#[napi]
impl NativeTokenBroker {
    /// Checks the issuer, the keys and the lifetimes; throws a coded error for anything SpacetimeDB refuses.
    #[napi(constructor)]
    pub fn new(options: NativeBrokerOptions) -> Result<Self> {
        let broker = TokenBroker::new(BrokerOptions {
            issuer: options.issuer,
            audience: options.audience,
            keys: parse_json("keys", &options.keys_json)?,
            ttl_seconds: seconds("ttlSeconds", options.ttl_seconds)?,
            max_ttl_seconds: seconds("maxTtlSeconds", options.max_ttl_seconds)?,
            allow_email_subject: options.allow_email_subject.unwrap_or(false),
            canonical_issuer: options.canonical_issuer,
            allow_issuer_trailing_slash: options.allow_issuer_trailing_slash.unwrap_or(false),
        })
        .map_err(to_napi_error)?;
        Ok(NativeTokenBroker { inner: Arc::new(broker) })
    }

    /// Mints a token from `JSON.stringify(claims)`.
    #[napi]
    pub fn mint(&self, claims_json: String, ttl_seconds: Option<f64>) -> Result<String> {
        let claims = parse_object("claims", &claims_json)?;
        self.inner.mint(claims, seconds("ttlSeconds", ttl_seconds)?).map_err(to_napi_error)
    }

    /// Mints `sub = robot:<id>`.
    #[napi]
    pub fn mint_robot(&self, grant: NativeRobotGrant, ttl_seconds: Option<f64>) -> Result<String> {
        let claims = match grant.claims_json {
            Some(text) => parse_object("claims", &text)?,
            None => Map::new(),
        };
        let grant = RobotGrant { id: grant.id, tenant_id: grant.tenant_id, perms: grant.perms, claims };
        self.inner.mint_robot(grant, seconds("ttlSeconds", ttl_seconds)?).map_err(to_napi_error)
    }

    /// Mints `claims` with `act: { sub: actor }`.
    #[napi]
    pub fn mint_delegated(&self, claims_json: String, actor: String, ttl_seconds: Option<f64>) -> Result<String> {
        let claims = parse_object("claims", &claims_json)?;
        self.inner.mint_delegated(claims, &actor, seconds("ttlSeconds", ttl_seconds)?).map_err(to_napi_error)
    }

    /// The JWKS document.
    #[napi(ts_return_type = "{ keys: Record<string, string>[] }")]
    pub fn jwks(&self) -> Value {
        self.inner.jwks()
    }

    /// The OpenID discovery document.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn openid_configuration(&self, jwks_uri: Option<String>) -> Result<Value> {
        self.inner.openid_configuration(jwks_uri.as_deref()).map_err(to_napi_error)
    }

    /// Where the documents live.
    #[napi]
    pub fn well_known(&self, jwks_uri: Option<String>) -> Result<WellKnown> {
        let wk = self.inner.well_known(jwks_uri.as_deref()).map_err(to_napi_error)?;
        Ok(WellKnown {
            discovery_url: wk.discovery_url,
            discovery_path: wk.discovery_path,
            jwks_url: wk.jwks_url,
            jwks_path: wk.jwks_path,
        })
    }

    /// The SpacetimeDB Identity of this issuer's tokens for `sub`.
    #[napi]
    pub fn identity_for(&self, sub: String) -> String {
        self.inner.identity_for(&sub)
    }

    /// Verifies a token against this broker's keys, issuer and audience.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn verify(&self, token: String) -> Result<Value> {
        self.inner.verify(&token).map(Value::Object).map_err(to_napi_error)
    }

    /// The exact `iss` of every token.
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.inner.issuer().to_string()
    }

    /// The `aud` of every token.
    #[napi(getter)]
    pub fn audience(&self) -> Vec<String> {
        self.inner.audience().to_vec()
    }

    /// The `kid` new tokens are signed with.
    #[napi(getter)]
    pub fn active_kid(&self) -> String {
        self.inner.active_kid().to_string()
    }

    /// The default token lifetime.
    #[napi(getter)]
    pub fn ttl_seconds(&self) -> u32 {
        self.inner.default_ttl() as u32
    }

    /// The largest lifetime `mint` accepts.
    #[napi(getter)]
    pub fn max_ttl_seconds(&self) -> u32 {
        self.inner.max_ttl() as u32
    }
}

/// Options of the native verifier: exactly one of `jwksJson`, `jwksUri`, `discovery`.
#[napi(object)]
pub struct NativeVerifierOptions {
    pub issuer: String,
    pub audience: Vec<String>,
    /// `JSON.stringify(jwks)` for an in-memory JWKS.
    pub jwks_json: Option<String>,
    pub jwks_uri: Option<String>,
    pub discovery: Option<bool>,
    pub algorithms: Option<Vec<String>>,
    pub clock_tolerance_seconds: Option<f64>,
}

/// A token verifier bound to its keys (native half of `TokenVerifier`): one issuer, or several.
#[napi(js_name = "NativeTokenVerifier")]
pub struct NativeTokenVerifier {
    pub(crate) inner: AnyVerifier,
}

impl From<NativeVerifierOptions> for IssuerConfig {
    fn from(o: NativeVerifierOptions) -> IssuerConfig {
        IssuerConfig {
            issuer: o.issuer,
            audience: o.audience,
            jwks_json: o.jwks_json,
            jwks_uri: o.jwks_uri,
            discovery: o.discovery.unwrap_or(false),
            algorithms: o.algorithms,
            clock_tolerance_seconds: o.clock_tolerance_seconds,
        }
    }
}

#[napi]
impl NativeTokenVerifier {
    /// One issuer: an in-memory JWKS, or the process-wide cache of a remote one.
    #[napi(constructor)]
    pub fn new(options: NativeVerifierOptions) -> Result<Self> {
        let verifier = IssuerConfig::from(options).into_verifier().map_err(to_napi_error)?;
        Ok(NativeTokenVerifier { inner: AnyVerifier::Single(verifier) })
    }

    /// Several issuers, each token verified by the one its `iss` names.
    #[napi(factory)]
    pub fn trusting(issuers: Vec<NativeVerifierOptions>) -> Result<Self> {
        let trusted = issuer_config::trusted_issuers(issuers.into_iter().map(IssuerConfig::from).collect())
            .map_err(to_napi_error)?;
        Ok(NativeTokenVerifier { inner: AnyVerifier::Trusted(Arc::new(trusted)) })
    }

    /// The issuers this verifier accepts, in configuration order.
    #[napi(getter)]
    pub fn issuers(&self) -> Vec<String> {
        self.inner.issuers()
    }

    /// Verifies synchronously against an in-memory JWKS; returns the payload.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn verify_sync(&self, token: String) -> Result<Value> {
        self.inner.verify_sync(&token, now_seconds()).map(Value::Object).map_err(to_napi_error)
    }

    /// Verifies, fetching the remote JWKS when needed; resolves with the payload.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn verify(&self, token: String) -> Result<Value> {
        let verifier = self.inner.clone();
        verifier.verify(&token, now_seconds()).await.map(Value::Object).map_err(to_napi_error)
    }
}

/// Options of `diagnoseToken`.
#[napi(object)]
pub struct NativeDiagnoseOptions {
    pub spacetimedb_url: Option<String>,
    /// The issuers the token may come from (absent or empty: any).
    pub expected_issuer: Option<Vec<String>>,
    pub expected_audience: Option<Vec<String>>,
    /// Fetch the issuer's documents and probe the server (default true).
    pub network: Option<bool>,
}

/// One finding of `diagnoseToken`.
#[napi(object)]
pub struct Finding {
    /// Stable code, e.g. `ALG_UNSUPPORTED`.
    pub code: String,
    #[napi(ts_type = "'error' | 'warning' | 'info'")]
    pub severity: String,
    pub message: String,
    /// One line saying what to do (absent for plain facts).
    pub fix: Option<String>,
}

/// Explains why SpacetimeDB or the gateway would refuse a token; errors sort first.
#[napi]
pub async fn diagnose_token(token: String, options: Option<NativeDiagnoseOptions>) -> Result<Vec<Finding>> {
    let options = options.unwrap_or(NativeDiagnoseOptions {
        spacetimedb_url: None,
        expected_issuer: None,
        expected_audience: None,
        network: None,
    });
    let options = DiagnoseOptions {
        spacetimedb_url: options.spacetimedb_url,
        expected_issuers: options.expected_issuer.unwrap_or_default(),
        expected_audience: options.expected_audience.unwrap_or_default(),
        network: options.network.unwrap_or(true),
        now: now_seconds(),
    };
    Ok(diagnose(&token, &options)
        .await
        .into_iter()
        .map(|f| Finding { code: f.code.into(), severity: f.severity.as_str().into(), message: f.message, fix: f.fix })
        .collect())
}
