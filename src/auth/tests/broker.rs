//! The broker: what a minted token holds, what construction refuses, the published documents, rotation.

use serde_json::{json, Value};

use super::support::{broker, claims, code, es256, options, rs256, AUDIENCE, ISSUER, NOW};
use crate::auth::broker::{RobotGrant, TokenBroker};
use crate::auth::errors::AuthErrorCode;
use crate::auth::identity::derive_identity;
use crate::auth::jwt;
use crate::auth::keyset::KeySet;
use crate::auth::verify::{verify_with_keys, VerifyOptions};
use crate::error::ErrorCode;

#[test]
fn mint_adds_the_contract_claims_and_signs_with_the_active_key() {
    for key in [es256(), rs256()] {
        let b = broker(key);
        let token = b
            .mint_at(claims(json!({ "sub": "user_1", "tenant_id": "t1", "sid": "s", "perms": ["doc.read"], "membership_version": 2, "custom": true })), None, NOW)
            .unwrap();
        let decoded = jwt::decode(&token).unwrap();
        assert_eq!(
            decoded.header,
            json!({ "alg": key.alg.as_str(), "kid": key.kid, "typ": "JWT" }).as_object().unwrap().clone()
        );
        let p = &decoded.payload;
        assert_eq!(p["iss"], ISSUER);
        assert_eq!(p["aud"], AUDIENCE);
        assert_eq!(p["iat"], NOW);
        assert_eq!(p["exp"], NOW + 300);
        assert_eq!(p["token_type"], "spacetime-access");
        assert_eq!(p["tenant_id"], "t1");
        assert_eq!(p["custom"], true);
        assert_eq!(b.verify_at(&token, NOW + 10).unwrap()["sub"], "user_1");
    }
}

#[test]
fn ttl_is_bounded() {
    let b = broker(es256());
    let exp = |ttl| {
        jwt::decode(&b.mint_at(claims(json!({ "sub": "u" })), ttl, NOW).unwrap()).unwrap().payload["exp"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(exp(Some(60)), NOW + 60);
    assert_eq!(exp(Some(3600)), NOW + 3600);
    assert_eq!(code(b.mint_at(claims(json!({ "sub": "u" })), Some(3601), NOW)), AuthErrorCode::ClaimInvalid);
    assert_eq!(code(b.mint_at(claims(json!({ "sub": "u" })), Some(0), NOW)), AuthErrorCode::ClaimInvalid);

    let mut o = options(es256().to_value());
    o.max_ttl_seconds = Some(120);
    o.ttl_seconds = Some(600);
    assert_eq!(TokenBroker::new(o.clone()).err().unwrap().code, ErrorCode::InvalidArgument);
    o.ttl_seconds = None;
    let short = TokenBroker::new(o).unwrap();
    assert_eq!(short.default_ttl(), 120, "the default TTL never exceeds the configured maximum");
    let mut o = options(es256().to_value());
    o.max_ttl_seconds = Some(10 * 86_400);
    assert!(TokenBroker::new(o).is_err());
}

#[test]
fn subjects_follow_the_contract() {
    let b = broker(es256());
    assert_eq!(code(b.mint_at(claims(json!({ "sub": "ada@example.com" })), None, NOW)), AuthErrorCode::ClaimInvalid);
    assert_eq!(code(b.mint_at(claims(json!({ "sub": "" })), None, NOW)), AuthErrorCode::ClaimInvalid);
    assert_eq!(code(b.mint_at(claims(json!({ "sub": "x".repeat(129) })), None, NOW)), AuthErrorCode::ClaimInvalid);
    assert_eq!(
        code(b.mint_at(claims(json!({ "sub": "u", "iss": "https://evil.example" })), None, NOW)),
        AuthErrorCode::ClaimInvalid
    );
    let mut o = options(es256().to_value());
    o.allow_email_subject = true;
    TokenBroker::new(o).unwrap().mint_at(claims(json!({ "sub": "ada@example.com" })), None, NOW).unwrap();
}

#[test]
fn robots_and_delegation() {
    let b = broker(es256());
    let robot = RobotGrant {
        id: "ci".into(),
        tenant_id: Some("t1".into()),
        perms: Some(vec!["doc.write".into()]),
        ..Default::default()
    };
    let p = jwt::decode(&b.mint_robot_at(robot, None, NOW).unwrap()).unwrap().payload;
    assert_eq!(
        (p["sub"].as_str(), p["tenant_id"].as_str(), &p["perms"]),
        (Some("robot:ci"), Some("t1"), &json!(["doc.write"]))
    );
    for bad in ["", "a b", "robot:x"] {
        let robot = RobotGrant { id: bad.into(), ..Default::default() };
        assert_eq!(code(b.mint_robot_at(robot, None, NOW)), AuthErrorCode::ClaimInvalid, "{bad:?}");
    }

    let p = jwt::decode(&b.mint_delegated_at(claims(json!({ "sub": "user_1" })), "robot:ci", None, NOW).unwrap())
        .unwrap()
        .payload;
    assert_eq!(p["act"], json!({ "sub": "robot:ci" }));
    assert_eq!(p["sub"], "user_1");
    assert_eq!(
        code(b.mint_delegated_at(claims(json!({ "sub": "u", "act": {"sub": "x"} })), "robot:ci", None, NOW)),
        AuthErrorCode::ClaimInvalid
    );
    assert_eq!(code(b.mint_delegated_at(claims(json!({ "sub": "u" })), "", None, NOW)), AuthErrorCode::ClaimInvalid);
    assert_eq!(code(b.mint_delegated_at(claims(json!({ "sub": "u" })), "u", None, NOW)), AuthErrorCode::ClaimInvalid);
}

#[test]
fn construction_refuses_bad_issuers_and_keys() {
    let mut o = options(es256().to_value());
    o.issuer = format!("{ISSUER}/");
    assert_eq!(code(TokenBroker::new(o.clone())), AuthErrorCode::IssuerInvalid);
    o.allow_issuer_trailing_slash = true;
    TokenBroker::new(o.clone()).unwrap();
    o.allow_issuer_trailing_slash = false;
    o.canonical_issuer = Some(format!("{ISSUER}/"));
    TokenBroker::new(o.clone()).unwrap(); // the canonical form itself
    o.issuer = ISSUER.into();
    assert_eq!(code(TokenBroker::new(o)), AuthErrorCode::IssuerInvalid);

    for issuer in ["app.example.com", "localhost", ""] {
        let mut o = options(es256().to_value());
        o.issuer = issuer.into();
        assert_eq!(code(TokenBroker::new(o)), AuthErrorCode::IssuerInvalid, "{issuer}");
    }
    let mut o = options(es256().to_value());
    o.audience = vec![];
    assert_eq!(TokenBroker::new(o).err().unwrap().code, ErrorCode::InvalidArgument);

    let eddsa = json!({ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "AA", "kid": "k" });
    assert_eq!(code(TokenBroker::new(options(eddsa))), AuthErrorCode::KeyUnsupported);
    assert_eq!(
        code(TokenBroker::new(options(Value::String(es256().private_key_pem.clone())))),
        AuthErrorCode::KeyIdInvalid
    );
    assert_eq!(code(TokenBroker::new(options(json!([es256().to_value()])))), AuthErrorCode::KeyInvalid);
    assert_eq!(
        code(TokenBroker::new(options(es256().public_jwk.clone()))),
        AuthErrorCode::KeyInvalid,
        "the active key must sign"
    );
}

#[test]
fn documents_for_a_path_mounted_issuer() {
    let b = broker(es256());
    let config = b.openid_configuration(None).unwrap();
    assert_eq!(config["issuer"], ISSUER);
    assert_eq!(config["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(config["id_token_signing_alg_values_supported"], json!(["ES256"]));
    let wk = b.well_known(Some("https://app.example.com/api/auth/jwks")).unwrap();
    assert_eq!(wk.discovery_url, "https://app.example.com/api/auth/.well-known/openid-configuration");
    assert_eq!(wk.discovery_path, "/api/auth/.well-known/openid-configuration");
    assert_eq!(wk.jwks_path, "/api/auth/jwks");
    assert!(b.openid_configuration(Some("not a url")).is_err());
    assert!(b.openid_configuration(Some("ftp://x.example/jwks")).is_err());

    let jwks = b.jwks();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    let key = &jwks["keys"][0];
    assert_eq!((key["kid"].as_str(), key["use"].as_str(), key.get("d")), (Some("es-1"), Some("sig"), None));
}

#[test]
fn rotation_publishes_retiring_keys_and_they_still_verify() {
    let old = broker(rs256());
    let old_token = old.mint_at(claims(json!({ "sub": "u" })), None, NOW).unwrap();
    let rotated =
        TokenBroker::new(options(json!({ "active": es256().to_value(), "retiring": [rs256().public_jwk] }))).unwrap();
    assert_eq!(rotated.active_kid(), "es-1");
    let jwks = rotated.jwks();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec!["es-1", "rs-1"]);
    assert_eq!(rotated.verify_at(&old_token, NOW).unwrap()["sub"], "u");
    let new_token = rotated.mint_at(claims(json!({ "sub": "u" })), None, NOW).unwrap();
    assert_eq!(jwt::decode(&new_token).unwrap().kid(), Some("es-1"));
    // Once the old key is dropped, its tokens no longer verify.
    let done = broker(es256());
    assert_eq!(code(done.verify_at(&old_token, NOW)), AuthErrorCode::TokenKeyNotFound);
    // And a verifier fed the published JWKS agrees.
    let keys = KeySet::from_jwks(&rotated.jwks()).unwrap();
    let opts = VerifyOptions::new(ISSUER, vec![AUDIENCE.into()]).unwrap();
    verify_with_keys(&old_token, &keys, &opts, NOW).unwrap();
    verify_with_keys(&new_token, &keys, &opts, NOW).unwrap();
}

#[test]
fn identity_for_is_from_claims_of_the_exact_issuer() {
    let b = broker(es256());
    assert_eq!(b.identity_for("user-123"), derive_identity(ISSUER, "user-123"));
    assert!(b.identity_for("x").starts_with("c200"));
}
