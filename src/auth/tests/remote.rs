//! Remote JWKS: fetching by URI and by discovery, the cache, the cool-down, and fetch failures.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::support::{
    code, es256, header_of, hs256_token, rs256, signed_token, valid_payload, TestServer, AUDIENCE, NOW,
};
use crate::auth::broker::TokenBroker;
use crate::auth::errors::AuthErrorCode;
use crate::auth::remote_jwks::{RemoteJwks, RemoteSource};
use crate::auth::verify::{KeySource, Verifier, VerifyOptions};

fn verifier(remote: RemoteJwks, issuer: &str) -> Verifier {
    let options = VerifyOptions::new(issuer, vec![AUDIENCE.into()]).unwrap();
    Verifier { options, source: KeySource::Remote(Arc::new(remote)) }
}

fn payload_for(issuer: &str) -> serde_json::Value {
    let mut p = valid_payload();
    p["iss"] = json!(issuer);
    p
}

#[tokio::test]
async fn discovery_under_a_path_then_cached() {
    let server = TestServer::start().await;
    let issuer = server.serve_issuer("/api/auth", &json!({ "keys": [es256().public_jwk] }));
    let v = verifier(RemoteJwks::new(RemoteSource::Discovery { issuer: issuer.clone() }), &issuer);
    let token = signed_token(es256(), header_of(es256()), payload_for(&issuer));
    for _ in 0..3 {
        assert_eq!(v.verify(&token, NOW).await.unwrap()["sub"], "user_1");
    }
    assert_eq!(server.hits("/api/auth/.well-known/openid-configuration"), 1);
    assert_eq!(server.hits("/api/auth/jwks"), 1);
    // Sync verification needs in-memory keys.
    assert!(v.verify_sync(&token, NOW).is_err());
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_per_cooldown() {
    let server = TestServer::start().await;
    server.route("/jwks", 200, json!({ "keys": [es256().public_jwk] }).to_string());
    let uri = format!("{}/jwks", server.base);
    let issuer = "https://app.example.com/api/auth";
    let long = verifier(
        RemoteJwks::with_timing(RemoteSource::JwksUri(uri.clone()), Duration::from_secs(600), Duration::from_secs(30)),
        issuer,
    );
    let es_token = signed_token(es256(), header_of(es256()), payload_for(issuer));
    let rs_token = signed_token(rs256(), header_of(rs256()), payload_for(issuer));
    long.verify(&es_token, NOW).await.unwrap();
    // The RS key is not published yet: within the cool-down no new request is made.
    for _ in 0..3 {
        assert_eq!(code(long.verify(&rs_token, NOW).await), AuthErrorCode::TokenKeyNotFound);
    }
    assert_eq!(server.hits("/jwks"), 1);

    // Rotation with a verifier past its cool-down (zero here): a new kid triggers one refetch.
    let short =
        verifier(RemoteJwks::with_timing(RemoteSource::JwksUri(uri), Duration::from_secs(600), Duration::ZERO), issuer);
    short.verify(&es_token, NOW).await.unwrap();
    assert_eq!(server.hits("/jwks"), 2);
    server.route("/jwks", 200, json!({ "keys": [es256().public_jwk, rs256().public_jwk] }).to_string());
    short.verify(&rs_token, NOW).await.unwrap();
    short.verify(&es_token, NOW).await.unwrap();
    assert_eq!(server.hits("/jwks"), 3, "one refetch for the new kid, the known kid from the cache");
}

#[tokio::test]
async fn hmac_tokens_are_refused_before_any_request() {
    let server = TestServer::start().await;
    server.route("/jwks", 200, json!({ "keys": [rs256().public_jwk] }).to_string());
    let issuer = "https://app.example.com/api/auth";
    let v = verifier(RemoteJwks::new(RemoteSource::JwksUri(format!("{}/jwks", server.base))), issuer);
    let forged =
        hs256_token(json!({ "alg": "HS256", "kid": "rs-1" }), payload_for(issuer), rs256().public_key_pem.as_bytes());
    assert_eq!(code(v.verify(&forged, NOW).await), AuthErrorCode::TokenAlgRejected);
    assert_eq!(server.total.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn fetch_failures_are_coded() {
    let server = TestServer::start().await;
    server.route("/notjson", 200, "<html>");
    server.route("/notjwks", 200, "{}");
    server.route("/.well-known/openid-configuration", 200, "{\"issuer\":\"x\"}");
    let issuer = "https://app.example.com/api/auth";
    let token = signed_token(es256(), header_of(es256()), payload_for(issuer));
    let cases = [
        (RemoteSource::JwksUri(format!("{}/missing", server.base)), AuthErrorCode::JwksUnreachable),
        (RemoteSource::JwksUri("http://127.0.0.1:9/jwks".into()), AuthErrorCode::JwksUnreachable),
        (RemoteSource::JwksUri(format!("{}/notjson", server.base)), AuthErrorCode::JwksInvalid),
        (RemoteSource::JwksUri(format!("{}/notjwks", server.base)), AuthErrorCode::JwksInvalid),
        (RemoteSource::Discovery { issuer: server.base.clone() }, AuthErrorCode::JwksInvalid),
        (RemoteSource::Discovery { issuer: format!("{}/nothing-here", server.base) }, AuthErrorCode::JwksUnreachable),
    ];
    for (source, expected) in cases {
        let v = verifier(RemoteJwks::new(source.clone()), issuer);
        let err = v.verify(&token, NOW).await.unwrap_err();
        assert_eq!(crate::auth::errors::auth_code(&err), Some(expected), "{source:?}: {err}");
    }
}

#[tokio::test]
async fn a_broker_served_issuer_round_trips() {
    // What `issuer serve` does: serve a broker's documents, verify its tokens by discovery.
    let server = TestServer::start().await;
    let issuer = format!("{}/api/auth", server.base);
    let broker = TokenBroker::new(crate::auth::broker::BrokerOptions {
        issuer: issuer.clone(),
        audience: vec![AUDIENCE.into()],
        keys: es256().to_value(),
        ..Default::default()
    })
    .unwrap();
    let wk = broker.well_known(None).unwrap();
    server.route(&wk.discovery_path, 200, broker.openid_configuration(None).unwrap().to_string());
    server.route(&wk.jwks_path, 200, broker.jwks().to_string());
    let v = verifier(RemoteJwks::new(RemoteSource::Discovery { issuer: issuer.clone() }), &issuer);
    let token = broker.mint(serde_json::Map::from_iter([("sub".to_string(), json!("u"))]), None).unwrap();
    v.verify(&token, crate::auth::now_seconds()).await.unwrap();
}
