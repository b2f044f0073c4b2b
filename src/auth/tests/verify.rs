//! Every way verification refuses a token, with its code.

use serde_json::{json, Value};

use super::support::{
    code, es256, header_of, hs256_token, raw_token, rs256, signed_token, valid_payload, AUDIENCE, ISSUER, NOW,
};
use crate::auth::errors::AuthErrorCode;
use crate::auth::key_input::public_key;
use crate::auth::keys::PublicMaterial;
use crate::auth::keyset::KeySet;
use crate::auth::pem;
use crate::auth::verify::{verify_with_keys, VerifyOptions};
use crate::error::ErrorCode;

fn keys() -> KeySet {
    let es = public_key(&es256().public_jwk).unwrap();
    let rs = public_key(&rs256().public_jwk).unwrap();
    KeySet::from_public_keys([&es, &rs])
}

fn opts() -> VerifyOptions {
    VerifyOptions::new(ISSUER, vec![AUDIENCE.into()]).unwrap()
}

fn verify(token: &str) -> crate::error::Result<serde_json::Map<String, Value>> {
    verify_with_keys(token, &keys(), &opts(), NOW)
}

fn with(mut payload: Value, name: &str, value: Value) -> Value {
    if value.is_null() {
        payload.as_object_mut().unwrap().remove(name);
    } else {
        payload[name] = value;
    }
    payload
}

#[test]
fn accepts_valid_es256_and_rs256_tokens() {
    for key in [es256(), rs256()] {
        let payload = verify(&signed_token(key, header_of(key), valid_payload())).unwrap();
        assert_eq!(payload["sub"], "user_1");
    }
    // Without kid, every key of the token's algorithm is tried.
    let no_kid = signed_token(es256(), json!({ "alg": "ES256" }), valid_payload());
    verify(&no_kid).unwrap();
    // aud may be an array naming the expected audience.
    let multi = signed_token(es256(), header_of(es256()), with(valid_payload(), "aud", json!(["other", AUDIENCE])));
    verify(&multi).unwrap();
}

#[test]
fn never_accepts_none_or_hmac() {
    let unsigned = raw_token(json!({ "alg": "none" }), valid_payload(), b"");
    assert_eq!(code(verify(&unsigned)), AuthErrorCode::TokenAlgRejected);

    // HS256 "signed" with the public key's bytes, naming that key: the algorithm-confusion forgery that
    // SpacetimeDB 1.3.0 accepts.
    let signer = crate::auth::key_input::signing_key(&es256().to_value()).unwrap();
    let point = signer.ec_public_point().unwrap().to_vec();
    let spki_der = pem::decode(&es256().public_key_pem).unwrap().der;
    for secret in [point.as_slice(), spki_der.as_slice(), es256().public_key_pem.as_bytes()] {
        let forged = hs256_token(json!({ "alg": "HS256", "kid": "es-1" }), valid_payload(), secret);
        let err = verify(&forged).unwrap_err();
        assert_eq!(crate::auth::errors::auth_code(&err), Some(AuthErrorCode::TokenAlgRejected));
        assert!(err.message.contains("es-1") && err.message.contains("EC P-256"), "{}", err.message);
    }
    let rsa_kid =
        hs256_token(json!({ "alg": "HS256", "kid": "rs-1" }), valid_payload(), rs256().public_key_pem.as_bytes());
    assert_eq!(code(verify(&rsa_kid)), AuthErrorCode::TokenAlgRejected);
    for alg in ["HS384", "HS512", "EdDSA", "ES384", "PS256", "RS512", "foo"] {
        let token = raw_token(json!({ "alg": alg, "kid": "es-1" }), valid_payload(), &[1; 64]);
        assert_eq!(code(verify(&token)), AuthErrorCode::TokenAlgRejected, "{alg}");
    }
}

#[test]
fn the_key_decides_the_algorithm() {
    // An RS256 header naming the EC key, and the reverse: refused before any signature check.
    let cross = signed_token(rs256(), json!({ "alg": "RS256", "kid": "es-1" }), valid_payload());
    let err = verify(&cross).unwrap_err();
    assert_eq!(crate::auth::errors::auth_code(&err), Some(AuthErrorCode::TokenAlgRejected));
    assert!(err.message.contains("pinned to ES256"));
    let cross = signed_token(es256(), json!({ "alg": "ES256", "kid": "rs-1" }), valid_payload());
    assert_eq!(code(verify(&cross)), AuthErrorCode::TokenAlgRejected);
    // An allow-list narrower than the key types.
    let only_es = opts().with_algorithms(&["ES256".into()]).unwrap();
    let rs_token = signed_token(rs256(), header_of(rs256()), valid_payload());
    assert_eq!(code(verify_with_keys(&rs_token, &keys(), &only_es, NOW)), AuthErrorCode::TokenAlgRejected);
}

#[test]
fn bad_signatures_and_unknown_keys() {
    let good = signed_token(es256(), header_of(es256()), valid_payload());
    let (input, _) = good.rsplit_once('.').unwrap();
    let other = crate::auth::keygen::generate_key_pair(crate::auth::alg::Alg::Es256, Some("es-1")).unwrap();
    let foreign = signed_token(&other, header_of(&other), valid_payload());
    assert_eq!(code(verify(&foreign)), AuthErrorCode::TokenBadSignature);
    // Payload swapped under a valid signature.
    let tampered_payload = crate::auth::b64::encode(with(valid_payload(), "sub", json!("admin")).to_string());
    let (header, _) = input.split_once('.').unwrap();
    let (_, sig) = good.rsplit_once('.').unwrap();
    assert_eq!(code(verify(&format!("{header}.{tampered_payload}.{sig}"))), AuthErrorCode::TokenBadSignature);
    // A DER-encoded or truncated ECDSA signature is not a JWS signature.
    assert_eq!(
        code(verify(&format!("{input}.{}", crate::auth::b64::encode([0x30u8; 70])))),
        AuthErrorCode::TokenBadSignature
    );
    assert_eq!(code(verify(&format!("{input}."))), AuthErrorCode::TokenBadSignature);

    let unknown = signed_token(es256(), json!({ "alg": "ES256", "kid": "nope" }), valid_payload());
    let err = verify(&unknown).unwrap_err();
    assert_eq!(crate::auth::errors::auth_code(&err), Some(AuthErrorCode::TokenKeyNotFound));
    assert!(err.message.contains("es-1, rs-1"), "{}", err.message);
    let es_only = KeySet::from_public_keys([&public_key(&es256().public_jwk).unwrap()]);
    let rs_no_kid = signed_token(rs256(), json!({ "alg": "RS256" }), valid_payload());
    assert_eq!(code(verify_with_keys(&rs_no_kid, &es_only, &opts(), NOW)), AuthErrorCode::TokenKeyNotFound);
    let other_no_kid = signed_token(&other, json!({ "alg": "ES256" }), valid_payload());
    assert_eq!(code(verify(&other_no_kid)), AuthErrorCode::TokenBadSignature);
}

#[test]
fn time_claims() {
    let token = |payload: Value| signed_token(es256(), header_of(es256()), payload);
    let expired = token(with(valid_payload(), "exp", json!(NOW - 1)));
    assert_eq!(code(verify(&expired)), AuthErrorCode::TokenExpired);
    let tolerant = opts().with_clock_tolerance(5).unwrap();
    verify_with_keys(&expired, &keys(), &tolerant, NOW).unwrap();
    verify(&token(with(valid_payload(), "exp", json!(NOW)))).unwrap();
    assert_eq!(code(verify(&token(with(valid_payload(), "nbf", json!(NOW + 30))))), AuthErrorCode::TokenNotYetValid);
    verify(&token(with(valid_payload(), "nbf", json!(NOW)))).unwrap();
    assert_eq!(code(verify(&token(with(valid_payload(), "iat", json!(NOW + 30))))), AuthErrorCode::TokenNotYetValid);
    assert_eq!(code(verify(&token(with(valid_payload(), "iat", Value::Null)))), AuthErrorCode::TokenClaimInvalid);
    assert_eq!(code(verify(&token(with(valid_payload(), "exp", Value::Null)))), AuthErrorCode::TokenClaimInvalid);
    assert_eq!(code(verify(&token(with(valid_payload(), "exp", json!("soon"))))), AuthErrorCode::TokenClaimInvalid);
    assert_eq!(code(verify(&token(with(valid_payload(), "sub", Value::Null)))), AuthErrorCode::TokenClaimInvalid);
    assert_eq!(
        code(verify(&token(with(valid_payload(), "sub", json!("x".repeat(129)))))),
        AuthErrorCode::TokenClaimInvalid
    );
}

#[test]
fn issuer_and_audience() {
    let token = |payload: Value| signed_token(es256(), header_of(es256()), payload);
    let slash = verify(&token(with(valid_payload(), "iss", json!(format!("{ISSUER}/"))))).unwrap_err();
    assert_eq!(crate::auth::errors::auth_code(&slash), Some(AuthErrorCode::TokenIssuer));
    assert!(slash.message.contains("trailing"));
    assert_eq!(
        code(verify(&token(with(valid_payload(), "iss", json!("https://evil.example"))))),
        AuthErrorCode::TokenIssuer
    );
    assert_eq!(code(verify(&token(with(valid_payload(), "iss", Value::Null)))), AuthErrorCode::TokenIssuer);
    assert_eq!(code(verify(&token(with(valid_payload(), "aud", json!("other"))))), AuthErrorCode::TokenAudience);
    assert_eq!(code(verify(&token(with(valid_payload(), "aud", json!(["a", "b"]))))), AuthErrorCode::TokenAudience);
    assert_eq!(code(verify(&token(with(valid_payload(), "aud", Value::Null)))), AuthErrorCode::TokenAudience);
}

#[test]
fn header_extensions_and_malformed_tokens() {
    let crit =
        signed_token(es256(), json!({ "alg": "ES256", "kid": "es-1", "crit": ["exp"], "exp": 1 }), valid_payload());
    assert_eq!(code(verify(&crit)), AuthErrorCode::TokenMalformed);
    for token in ["", "a.b", "....", "x".repeat(20_000).as_str(), "e30.e30.", "!.!.!"] {
        assert_eq!(code(verify(token)), AuthErrorCode::TokenMalformed, "{token:.20}");
    }
}

#[test]
fn options_are_validated() {
    assert_eq!(VerifyOptions::new("", vec!["a".into()]).err().unwrap().code, ErrorCode::InvalidArgument);
    assert_eq!(VerifyOptions::new(ISSUER, vec![]).err().unwrap().code, ErrorCode::InvalidArgument);
    assert_eq!(VerifyOptions::new(ISSUER, vec!["".into()]).err().unwrap().code, ErrorCode::InvalidArgument);
    for algs in [vec!["HS256".to_string()], vec!["none".into()], vec![]] {
        assert_eq!(opts().with_algorithms(&algs).err().unwrap().code, ErrorCode::InvalidArgument, "{algs:?}");
    }
    assert!(opts().with_clock_tolerance(301).is_err());
}

#[test]
fn a_published_private_key_is_unusable() {
    let mut leaked = es256().public_jwk.clone();
    leaked["d"] = json!("AAAA");
    let set = KeySet::from_jwks(&json!({ "keys": [leaked] })).unwrap();
    assert!(set.usable.is_empty());
    assert!(set.unusable[0].reason.message.contains("private key"));
    assert_eq!(code(KeySet::from_jwks(&json!({ "nokeys": [] }))), AuthErrorCode::JwksInvalid);
    assert_eq!(code(KeySet::from_jwks(&json!({ "keys": [1] }))), AuthErrorCode::JwksInvalid);
    let many: Vec<Value> = (0..101).map(|_| es256().public_jwk.clone()).collect();
    assert_eq!(code(KeySet::from_jwks(&json!({ "keys": many }))), AuthErrorCode::JwksInvalid);
    let _ = PublicMaterial::ec_from_point(&[4; 65]).unwrap();
}
