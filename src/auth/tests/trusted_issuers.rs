//! Several trusted issuers: each token is verified by exactly the issuer it names, with that issuer's
//! keys, algorithms and audience; an issuer nobody configured is refused by name, before any key.

use std::sync::Arc;

use serde_json::{json, Value};

use super::support::{code, es256, header_of, rs256, signed_token, valid_payload, TestServer, NOW};
use crate::auth::errors::AuthErrorCode;
use crate::auth::keyset::KeySet;
use crate::auth::remote_jwks::{RemoteJwks, RemoteSource};
use crate::auth::trusted_issuers::{AnyVerifier, TrustedIssuers};
use crate::auth::verify::{KeySource, Verifier, VerifyOptions};
use crate::error::ErrorCode;

/// The old IdP of a migration (RS256, like Keycloak's default realm keys).
const OLD: &str = "http://127.0.0.1:8080/realms/acme";
/// The app's own issuer (ES256, like the broker).
const NEW: &str = "https://app.example.com/spacetime";

fn local(issuer: &str, audience: &str, algorithms: &[&str], jwks: Value) -> Verifier {
    let names: Vec<String> = algorithms.iter().map(|a| a.to_string()).collect();
    let options = VerifyOptions::new(issuer, vec![audience.into()]).unwrap().with_algorithms(&names).unwrap();
    Verifier { options, source: KeySource::Local(Arc::new(KeySet::from_jwks(&jwks).unwrap())) }
}

/// Both keys published by both issuers, so only the per-issuer algorithm list keeps them apart.
fn both_keys() -> Value {
    json!({ "keys": [es256().public_jwk, rs256().public_jwk] })
}

fn trusted() -> TrustedIssuers {
    TrustedIssuers::new(vec![
        local(OLD, "account-console", &["RS256"], both_keys()),
        local(NEW, "spacetimedb", &["ES256"], both_keys()),
    ])
    .unwrap()
}

fn token(key: &crate::auth::keygen::GeneratedKeyPair, iss: &str, aud: &str) -> String {
    let mut payload = valid_payload();
    payload["iss"] = json!(iss);
    payload["aud"] = json!(aud);
    signed_token(key, header_of(key), payload)
}

#[test]
fn each_issuer_verifies_its_own_tokens() {
    let t = trusted();
    assert_eq!(t.verify_sync(&token(rs256(), OLD, "account-console"), NOW).unwrap()["iss"], OLD);
    assert_eq!(t.verify_sync(&token(es256(), NEW, "spacetimedb"), NOW).unwrap()["iss"], NEW);
    assert_eq!(t.issuers(), vec![OLD.to_string(), NEW.to_string()]);
}

#[test]
fn an_unconfigured_issuer_is_refused_by_name() {
    let other = "http://127.0.0.1:9999/common/v2.0";
    let err = trusted().verify_sync(&token(es256(), other, "spacetimedb"), NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::Auth(AuthErrorCode::TokenIssuerUntrusted));
    assert_eq!(err.message, format!("the token's issuer `{other}` is not trusted; trusted issuers: `{OLD}`, `{NEW}`"));
}

#[test]
fn an_algorithm_allowed_for_one_issuer_is_refused_for_the_other() {
    let t = trusted();
    // Signed by a key both issuers publish, with the algorithm the *other* issuer allows.
    assert_eq!(code(t.verify_sync(&token(es256(), OLD, "account-console"), NOW)), AuthErrorCode::TokenAlgRejected);
    assert_eq!(code(t.verify_sync(&token(rs256(), NEW, "spacetimedb"), NOW)), AuthErrorCode::TokenAlgRejected);
}

#[test]
fn never_falls_through_to_another_issuers_keys() {
    // The old issuer publishes only the RSA key; the new one only the EC key. A token claiming the new
    // issuer, signed with the old issuer's RSA key, finds no key: the old issuer's keys are never tried.
    let t = TrustedIssuers::new(vec![
        local(OLD, "spacetimedb", &["RS256", "ES256"], json!({ "keys": [rs256().public_jwk] })),
        local(NEW, "spacetimedb", &["RS256", "ES256"], json!({ "keys": [es256().public_jwk] })),
    ])
    .unwrap();
    assert_eq!(code(t.verify_sync(&token(rs256(), NEW, "spacetimedb"), NOW)), AuthErrorCode::TokenKeyNotFound);
    assert_eq!(code(t.verify_sync(&token(es256(), OLD, "spacetimedb"), NOW)), AuthErrorCode::TokenKeyNotFound);
    t.verify_sync(&token(rs256(), OLD, "spacetimedb"), NOW).unwrap();
}

#[test]
fn each_issuer_checks_its_own_audience() {
    let err = trusted().verify_sync(&token(es256(), NEW, "account-console"), NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::Auth(AuthErrorCode::TokenAudience));
    assert!(err.message.contains("[\"spacetimedb\"]"), "{}", err.message);
}

#[test]
fn a_missing_or_odd_iss_and_a_trailing_slash_are_named() {
    let t = trusted();
    let mut payload = valid_payload();
    payload.as_object_mut().unwrap().remove("iss");
    let err = t.verify_sync(&signed_token(es256(), header_of(es256()), payload.clone()), NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::Auth(AuthErrorCode::TokenIssuer));
    assert!(err.message.contains("no `iss`") && err.message.contains(NEW), "{}", err.message);
    payload["iss"] = json!(5);
    assert_eq!(
        code(t.verify_sync(&signed_token(es256(), header_of(es256()), payload), NOW)),
        AuthErrorCode::TokenClaimInvalid
    );
    let err = t.verify_sync(&token(es256(), &format!("{NEW}/"), "spacetimedb"), NOW).unwrap_err();
    assert_eq!(err.code, ErrorCode::Auth(AuthErrorCode::TokenIssuerUntrusted));
    assert!(err
        .message
        .ends_with(&format!("(`{NEW}` differs only by a trailing `/`, which is another SpacetimeDB Identity)")));
}

#[test]
fn a_long_untrusted_issuer_is_quoted_cut_short() {
    let long = format!("https://{}.example/\u{7}", "a".repeat(300));
    let err = trusted().verify_sync(&token(es256(), &long, "spacetimedb"), NOW).unwrap_err();
    assert!(err.message.contains(&format!("`https://{}… ({} bytes)`", "a".repeat(120), long.len())), "{}", err.message);
    let bell = trusted().verify_sync(&token(es256(), "https://x\u{7}", "spacetimedb"), NOW).unwrap_err();
    assert!(bell.message.starts_with("the token's issuer `https://x?` "), "{}", bell.message);
}

#[test]
fn configuration_refuses_no_issuer_and_an_issuer_twice() {
    assert_eq!(TrustedIssuers::new(vec![]).err().unwrap().code, ErrorCode::InvalidArgument);
    let twice =
        TrustedIssuers::new(vec![local(NEW, "a", &["ES256"], both_keys()), local(NEW, "b", &["RS256"], both_keys())]);
    let err = twice.err().unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains(&format!("issuer `{NEW}` is configured twice")), "{}", err.message);
}

#[tokio::test]
async fn remote_issuers_are_fetched_only_for_their_own_tokens() {
    let server = TestServer::start().await;
    let old = server.serve_issuer("/realms/acme", &json!({ "keys": [rs256().public_jwk] }));
    let new = server.serve_issuer("/spacetime", &json!({ "keys": [es256().public_jwk] }));
    let remote = |issuer: &str, alg: &str| {
        let options = VerifyOptions::new(issuer, vec!["spacetimedb".into()])
            .unwrap()
            .with_algorithms(&[alg.to_string()])
            .unwrap();
        let source = RemoteJwks::new(RemoteSource::Discovery { issuer: issuer.to_string() });
        Verifier { options, source: KeySource::Remote(Arc::new(source)) }
    };
    let any = AnyVerifier::Trusted(Arc::new(
        TrustedIssuers::new(vec![remote(&old, "RS256"), remote(&new, "ES256")]).unwrap(),
    ));
    let stranger = format!("{}/elsewhere", server.base);
    assert_eq!(
        code(any.verify(&token(es256(), &stranger, "spacetimedb"), crate::auth::now_seconds()).await),
        AuthErrorCode::TokenIssuerUntrusted
    );
    assert_eq!(server.total.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing fetched for an untrusted issuer");
    let now = crate::auth::now_seconds();
    let fresh = |key, iss: &str| {
        let mut payload = valid_payload();
        payload["iss"] = json!(iss);
        payload["iat"] = json!(now);
        payload["exp"] = json!(now + 300);
        signed_token(key, header_of(key), payload)
    };
    assert_eq!(any.verify(&fresh(es256(), &new), now).await.unwrap()["iss"], json!(new));
    assert_eq!(server.hits("/realms/acme/.well-known/openid-configuration"), 0, "the old issuer is not asked");
    assert_eq!(any.verify(&fresh(rs256(), &old), now).await.unwrap()["iss"], json!(old));
    assert_eq!(server.hits("/realms/acme/.well-known/openid-configuration"), 1);
    assert!(any.verify_sync(&fresh(rs256(), &old), now).is_err(), "remote keys need the async verify");
}
