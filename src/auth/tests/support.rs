//! Shared fixtures: generated keys, a broker, hand-made tokens, and a tiny HTTP server for JWKS tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::auth::alg::Alg;
use crate::auth::b64;
use crate::auth::broker::{BrokerOptions, TokenBroker};
use crate::auth::errors::{auth_code, AuthErrorCode};
use crate::auth::keygen::{generate_key_pair, GeneratedKeyPair};
use crate::error::Result;

pub const ISSUER: &str = "https://app.example.com/api/auth";
pub const AUDIENCE: &str = "spacetimedb";
pub const NOW: u64 = 1_750_000_000;

/// One ES256 and one RS256 key per test process (RSA generation is the slow part).
pub fn es256() -> &'static GeneratedKeyPair {
    static KEY: OnceLock<GeneratedKeyPair> = OnceLock::new();
    KEY.get_or_init(|| generate_key_pair(Alg::Es256, Some("es-1")).unwrap())
}

pub fn rs256() -> &'static GeneratedKeyPair {
    static KEY: OnceLock<GeneratedKeyPair> = OnceLock::new();
    KEY.get_or_init(|| generate_key_pair(Alg::Rs256, Some("rs-1")).unwrap())
}

pub fn options(keys: Value) -> BrokerOptions {
    BrokerOptions { issuer: ISSUER.into(), audience: vec![AUDIENCE.into()], keys, ..Default::default() }
}

pub fn broker(key: &GeneratedKeyPair) -> TokenBroker {
    TokenBroker::new(options(key.to_value())).unwrap()
}

pub fn claims(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

pub fn code<T: std::fmt::Debug>(result: Result<T>) -> AuthErrorCode {
    let err = result.expect_err("expected an error");
    auth_code(&err).unwrap_or_else(|| panic!("not an auth error: {err}"))
}

/// A token with any header and payload and a given signature (for attacks and malformed cases).
pub fn raw_token(header: Value, payload: Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64::encode(header.to_string()), b64::encode(payload.to_string()), b64::encode(signature))
}

/// HMAC-SHA256 over the signing input (what an HS256 forger computes).
pub fn hs256_token(header: Value, payload: Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64::encode(header.to_string()), b64::encode(payload.to_string()));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64::encode(tag.as_ref()))
}

/// Claims that pass every check at [`NOW`].
pub fn valid_payload() -> Value {
    json!({ "iss": ISSUER, "sub": "user_1", "aud": AUDIENCE, "iat": NOW, "exp": NOW + 300 })
}

/// A loopback HTTP server answering fixed bodies by path, counting requests per path.
pub struct TestServer {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, (u16, String)>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    pub total: Arc<AtomicUsize>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, (u16, String)>>> = Default::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Default::default();
        let total = Arc::new(AtomicUsize::new(0));
        let (r, h, t) = (routes.clone(), hits.clone(), total.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (r, h, t) = (r.clone(), h.clone(), t.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]);
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                    t.fetch_add(1, Ordering::SeqCst);
                    *h.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let (status, body) = r.lock().unwrap().get(&path).cloned().unwrap_or((404, "not found".into()));
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        TestServer { base, routes, hits, total }
    }

    pub fn route(&self, path: &str, status: u16, body: impl Into<String>) {
        self.routes.lock().unwrap().insert(path.to_string(), (status, body.into()));
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Serves discovery at `<base><prefix>/.well-known/openid-configuration` and `jwks` beside it.
    pub fn serve_issuer(&self, prefix: &str, jwks: &Value) -> String {
        let issuer = format!("{}{prefix}", self.base);
        self.route(
            &format!("{prefix}/.well-known/openid-configuration"),
            200,
            json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") }).to_string(),
        );
        self.route(&format!("{prefix}/jwks"), 200, jwks.to_string());
        issuer
    }
}

/// A token with a chosen header and payload, really signed by `key` (for claim and header cases).
pub fn signed_token(key: &GeneratedKeyPair, header: Value, payload: Value) -> String {
    signed_text(key, &header.to_string(), &payload.to_string())
}

/// [`signed_token`] from JSON text, which can say what a `Value` cannot (a key twice).
pub fn signed_text(key: &GeneratedKeyPair, header: &str, payload: &str) -> String {
    let signer = crate::auth::key_input::signing_key(&key.to_value()).unwrap();
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let signature = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(signature))
}

/// The standard header for `key`.
pub fn header_of(key: &GeneratedKeyPair) -> Value {
    json!({ "alg": key.alg.as_str(), "kid": key.kid, "typ": "JWT" })
}
