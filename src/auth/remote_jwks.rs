//! Remote JWKS: fetched over HTTP(S) by URI or through the issuer's OIDC discovery document, cached,
//! refreshed on an unknown `kid` at most once per cool-down (the behaviour of `jose`'s
//! `createRemoteJWKSet`: 10-minute cache, 30-second cool-down, 5-second timeout).
//!
//! Discovery starts from the *configured* issuer, never from a token's `iss`: a verifier must not
//! fetch URLs an attacker chose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::errors::{auth_error, AuthErrorCode};
use super::issuer::{discovery_url, is_http_url};
use super::keyset::KeySet;
use crate::error::{GatewayError, Result};

/// How long fetched keys are used without asking again.
pub const CACHE_MAX_AGE: Duration = Duration::from_secs(600);
/// Minimum time between two fetches triggered by an unknown `kid` (protects the issuer from token spam).
pub const COOLDOWN: Duration = Duration::from_secs(30);
/// Per-request timeout (connect + response).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS or discovery document read.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
/// How many distinct remote sources the process-wide cache keeps.
const REGISTRY_CAPACITY: usize = 64;

/// Where the keys come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RemoteSource {
    /// A JWKS URL.
    JwksUri(String),
    /// `<issuer>/.well-known/openid-configuration` → `jwks_uri`.
    Discovery { issuer: String },
}

struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
}

/// A cached remote key set.
pub struct RemoteJwks {
    source: RemoteSource,
    cache: Mutex<Option<Cached>>,
    /// One fetch at a time; waiters reuse its result.
    refresh: tokio::sync::Mutex<()>,
    max_age: Duration,
    cooldown: Duration,
}

impl RemoteJwks {
    pub fn new(source: RemoteSource) -> Self {
        Self::with_timing(source, CACHE_MAX_AGE, COOLDOWN)
    }

    pub fn with_timing(source: RemoteSource, max_age: Duration, cooldown: Duration) -> Self {
        RemoteJwks { source, cache: Mutex::new(None), refresh: tokio::sync::Mutex::new(()), max_age, cooldown }
    }

    /// The process-wide cached instance for `source`, so `verifyToken(…, { jwksUri })` called per request
    /// still fetches once per cache period.
    pub fn shared(source: RemoteSource) -> Arc<RemoteJwks> {
        static REGISTRY: OnceLock<Mutex<HashMap<RemoteSource, Arc<RemoteJwks>>>> = OnceLock::new();
        let mut registry = REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        if registry.len() >= REGISTRY_CAPACITY && !registry.contains_key(&source) {
            registry.clear(); // crude but bounded: a process verifying for >64 issuers re-fetches
        }
        registry.entry(source.clone()).or_insert_with(|| Arc::new(RemoteJwks::new(source))).clone()
    }

    /// Cached keys if they can answer for `kid` now (fresh, and either know the kid or are in cool-down).
    fn usable_cache(&self, kid: Option<&str>, fetched_after: Option<Instant>) -> Option<Arc<KeySet>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let cached = cache.as_ref()?;
        let age = cached.fetched_at.elapsed();
        if age >= self.max_age {
            return None;
        }
        let knows_kid = kid.is_none_or(|k| cached.keys.contains_kid(k));
        let refreshed_meanwhile = fetched_after.is_some_and(|t| cached.fetched_at >= t);
        (knows_kid || age < self.cooldown || refreshed_meanwhile).then(|| cached.keys.clone())
    }

    /// The key set to verify a token with `kid`, fetching when the cache cannot answer.
    pub async fn key_set_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>> {
        if let Some(keys) = self.usable_cache(kid, None) {
            return Ok(keys);
        }
        let waiting_since = Instant::now();
        let _one_fetch = self.refresh.lock().await;
        if let Some(keys) = self.usable_cache(kid, Some(waiting_since)) {
            return Ok(keys);
        }
        let keys = Arc::new(self.fetch().await?);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Cached { keys: keys.clone(), fetched_at: Instant::now() });
        Ok(keys)
    }

    /// Fetches the key set now (no cache).
    pub async fn fetch(&self) -> Result<KeySet> {
        let jwks_uri = match &self.source {
            RemoteSource::JwksUri(uri) => uri.clone(),
            RemoteSource::Discovery { issuer } => discover_jwks_uri(issuer).await?,
        };
        KeySet::from_jwks(&fetch_json(&jwks_uri, "JWKS").await?)
    }
}

/// Reads `jwks_uri` from `<issuer>/.well-known/openid-configuration`.
pub async fn discover_jwks_uri(issuer: &str) -> Result<String> {
    let url = discovery_url(issuer);
    let document = fetch_json(&url, "discovery document").await?;
    jwks_uri_of(&document, &url)
}

/// The `jwks_uri` member of a discovery document, checked to be an http(s) URL.
pub fn jwks_uri_of(document: &Value, url: &str) -> Result<String> {
    match document.get("jwks_uri").and_then(Value::as_str) {
        Some(uri) if is_http_url(uri) => Ok(uri.to_string()),
        Some(uri) => Err(auth_error(
            AuthErrorCode::JwksInvalid,
            format!("the discovery document at {url} has a jwks_uri that is not an http(s) URL: {uri}"),
        )),
        None => {
            Err(auth_error(AuthErrorCode::JwksInvalid, format!("the discovery document at {url} has no `jwks_uri`")))
        }
    }
}

fn http_client() -> Result<&'static reqwest::Client> {
    static CLIENT: OnceLock<std::result::Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .connect_timeout(FETCH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::limited(3))
                .user_agent(concat!("spacetime-gateway/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| auth_error(AuthErrorCode::JwksUnreachable, format!("cannot create the HTTP client: {e}")))
}

/// GETs a JSON document of at most [`MAX_DOCUMENT_BYTES`]. Network and HTTP failures are
/// `JWKS_UNREACHABLE`; a body that is not JSON is `JWKS_INVALID`. `what` names the document in messages.
pub async fn fetch_json(url: &str, what: &str) -> Result<Value> {
    let unreachable = |detail: String| {
        auth_error(AuthErrorCode::JwksUnreachable, format!("cannot fetch the {what} at {url}: {detail}"))
    };
    let mut response = http_client()?
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| unreachable(describe_reqwest_error(&e)))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("HTTP {}", response.status().as_u16())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(describe_reqwest_error(&e)))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(auth_error(
                AuthErrorCode::JwksInvalid,
                format!("the {what} at {url} is larger than {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| auth_error(AuthErrorCode::JwksInvalid, format!("the {what} at {url} is not JSON: {e}")))
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_builder() {
        "bad URL"
    } else {
        "request failed"
    };
    // The source chain carries the useful part (e.g. "Connection refused").
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}

/// The error code of a fetch failure, for callers that report rather than fail.
pub fn is_unreachable(err: &GatewayError) -> bool {
    err.code == crate::error::ErrorCode::Auth(AuthErrorCode::JwksUnreachable)
}
