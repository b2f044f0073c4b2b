//! Token parsing that must not differ from SpacetimeDB's (issue #11, item 9): repeated JSON keys,
//! `crit`, and members of the wrong type. Every case is checked on both sides: verification refuses it
//! with a code, and the diagnostics name it with the finding code of the shared rule.

use std::sync::Arc;

use serde_json::{json, Value};

use super::support::{
    es256, header_of, rs256, signed_text, signed_token, valid_payload, TestServer, AUDIENCE, ISSUER, NOW,
};
use crate::auth::broker::TokenBroker;
use crate::auth::diagnose::{diagnose_offline, DiagnoseOptions, Finding, Severity};
use crate::auth::errors::{auth_code, AuthErrorCode};
use crate::auth::key_input::public_key;
use crate::auth::keyset::KeySet;
use crate::auth::remote_jwks::{RemoteJwks, RemoteSource};
use crate::auth::verify::{verify_with_keys, KeySource, Verifier, VerifyOptions};
use crate::error::GatewayError;

fn keys() -> KeySet {
    let es = public_key(&es256().public_jwk).unwrap();
    let rs = public_key(&rs256().public_jwk).unwrap();
    KeySet::from_public_keys([&es, &rs])
}

fn refused(token: &str) -> GatewayError {
    let options = VerifyOptions::new(ISSUER, vec![AUDIENCE.into()]).unwrap();
    verify_with_keys(token, &keys(), &options, NOW).expect_err("verification should refuse the token")
}

fn findings(token: &str) -> Vec<Finding> {
    diagnose_offline(token, &DiagnoseOptions { now: NOW, ..Default::default() }).0
}

/// Verification refuses `token` with `code` and a message containing `needle`, and the diagnostics
/// report `finding` as an error with that same message.
fn both_refuse(token: &str, code: AuthErrorCode, needle: &str, finding: &str) {
    let err = refused(token);
    assert_eq!(auth_code(&err), Some(code), "{err}");
    assert!(err.message.contains(needle), "{:?} should mention {needle:?}", err.message);
    let found = findings(token);
    let f = found.iter().find(|f| f.code == finding).unwrap_or_else(|| panic!("no {finding} in {found:#?}"));
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.message, err.message, "verify and diagnose say the same");
    assert!(f.fix.is_some());
}

/// `json` as text with `extra` members appended (`"sub":"x"`), which may repeat its own: the way to
/// write a key twice, which a `Value` cannot hold.
fn appended(json: &Value, extra: &str) -> String {
    let text = json.to_string();
    format!("{},{extra}}}", &text[..text.len() - 1])
}

/// A token signed with the right key whose header or payload repeats a member.
fn repeating(header_extra: Option<&str>, payload_extra: Option<&str>) -> String {
    let text = |json: Value, extra: Option<&str>| extra.map_or_else(|| json.to_string(), |e| appended(&json, e));
    signed_text(es256(), &text(header_of(es256()), header_extra), &text(valid_payload(), payload_extra))
}

fn with_header(header: Value) -> String {
    signed_token(es256(), header, valid_payload())
}

fn with_claim(name: &str, value: Value) -> String {
    let mut payload = valid_payload();
    payload[name] = value;
    signed_token(es256(), header_of(es256()), payload)
}

#[test]
fn a_repeated_top_level_claim_is_refused_whatever_value_comes_last() {
    // Signed with the right key: only the repetition is wrong. serde_json alone would read `mallory`.
    for (extra, name) in [
        (r#""sub":"mallory""#, "sub"),
        (r#""iss":"https://evil.example""#, "iss"),
        (r#""tenant_id":"a","tenant_id":"b""#, "tenant_id"),
    ] {
        let token = repeating(None, Some(extra));
        both_refuse(&token, AuthErrorCode::TokenMalformed, &format!("repeats `{name}`"), "DUPLICATE_CLAIM");
    }
    // The same claim once more with the same value is still a repetition.
    let same = repeating(None, Some(r#""sub":"user_1""#));
    both_refuse(&same, AuthErrorCode::TokenMalformed, "repeats `sub`", "DUPLICATE_CLAIM");
}

#[test]
fn a_repeated_nested_claim_is_refused_with_its_path() {
    let token = repeating(None, Some(r#""act":{"sub":"robot:a","sub":"robot:b"}"#));
    both_refuse(&token, AuthErrorCode::TokenMalformed, "repeats `act.sub`", "DUPLICATE_CLAIM");
}

#[test]
fn a_repeated_header_member_is_refused() {
    for (extra, name) in [(r#""kid":"rs-1""#, "kid"), (r#""alg":"ES256""#, "alg"), (r#""typ":"JWT""#, "typ")] {
        let token = repeating(Some(extra), None);
        both_refuse(&token, AuthErrorCode::TokenMalformed, &format!("repeats `{name}`"), "DUPLICATE_HEADER_PARAM");
    }
}

#[test]
fn crit_is_refused_by_verify_and_reported_by_diagnose() {
    let token = with_header(json!({ "alg": "ES256", "kid": "es-1", "crit": ["exp"], "exp": 1 }));
    both_refuse(&token, AuthErrorCode::TokenMalformed, "`crit`", "CRIT_UNSUPPORTED");
}

#[test]
fn a_non_string_kid_is_refused_not_read_as_absent() {
    // Without the rule, `kid: null` or `kid: 1` selected every ES256 key and the token passed.
    for (kid, shown) in [(json!(1), "the number 1"), (json!(null), "null"), (json!({ "k": 1 }), "an object")] {
        let token = with_header(json!({ "alg": "ES256", "kid": kid }));
        both_refuse(&token, AuthErrorCode::TokenMalformed, &format!("`kid` is {shown}"), "KID_INVALID");
        let found = findings(&token);
        assert!(found.iter().all(|f| f.code != "KID_MISSING"), "a kid of the wrong type is not a missing kid");
    }
}

#[tokio::test]
async fn a_non_string_kid_is_refused_before_a_remote_jwks_is_fetched() {
    let server = TestServer::start().await;
    server.route("/jwks", 200, json!({ "keys": [es256().public_jwk] }).to_string());
    let remote = RemoteJwks::new(RemoteSource::JwksUri(format!("{}/jwks", server.base)));
    let options = VerifyOptions::new(ISSUER, vec![AUDIENCE.into()]).unwrap();
    let verifier = Verifier { options, source: KeySource::Remote(Arc::new(remote)) };
    let err = verifier.verify(&with_header(json!({ "alg": "ES256", "kid": null })), NOW).await.unwrap_err();
    assert_eq!(auth_code(&err), Some(AuthErrorCode::TokenMalformed));
    assert_eq!(server.hits("/jwks"), 0);
}

#[test]
fn header_members_of_the_wrong_type() {
    for header in [
        json!({ "alg": "ES256", "kid": "es-1", "typ": 1 }),
        json!({ "alg": "ES256", "kid": "es-1", "cty": null }),
        json!({ "alg": "ES256", "kid": "es-1", "x5c": "cert" }),
        json!({ "alg": "ES256", "kid": "es-1", "jwk": "key" }),
    ] {
        both_refuse(&with_header(header), AuthErrorCode::TokenMalformed, "the header's `", "HEADER_PARAM_INVALID");
    }
}

#[test]
fn claims_of_the_wrong_type() {
    let cases = [
        ("iss", json!(1), "ISSUER_INVALID"),
        ("iss", Value::Null, "ISSUER_INVALID"),
        ("sub", json!(["user_1"]), "SUBJECT_INVALID"),
        ("sub", Value::Null, "SUBJECT_INVALID"),
        // An array naming the audience next to a non-string: accepted before, SpacetimeDB refuses it.
        ("aud", json!([AUDIENCE, 5]), "AUDIENCE_INVALID"),
        ("aud", Value::Null, "AUDIENCE_INVALID"),
        ("aud", json!({ "a": AUDIENCE }), "AUDIENCE_INVALID"),
        ("iat", json!(NOW.to_string()), "IAT_INVALID"),
        ("iat", json!(NOW as f64 + 0.5), "IAT_INVALID"),
        ("iat", json!(NOW as f64), "IAT_INVALID"), // 1750000000.0 is a float to SpacetimeDB's i64
        ("exp", json!((NOW + 300) as f64 + 0.5), "EXP_INVALID"),
        ("exp", json!("soon"), "EXP_INVALID"),
        ("exp", Value::Null, "EXP_INVALID"),
        ("nbf", json!("now"), "NBF_INVALID"),
        ("nbf", json!(NOW as f64 - 0.5), "NBF_INVALID"),
    ];
    for (name, value, finding) in cases {
        let token = with_claim(name, value.clone());
        both_refuse(&token, AuthErrorCode::TokenClaimInvalid, &format!("`{name}` is "), finding);
        let found = findings(&token);
        let missing = ["ISSUER_MISSING", "SUBJECT_MISSING", "AUDIENCE_MISSING", "IAT_MISSING", "EXP_MISSING"];
        assert!(found.iter().all(|f| !missing.contains(&f.code)), "{name}: {value} is not missing: {found:#?}");
    }
}

#[test]
fn the_broker_refuses_them_too_and_still_accepts_its_own_tokens() {
    let broker = TokenBroker::new(super::support::options(es256().to_value())).unwrap();
    let good = broker.mint_at(super::support::claims(json!({ "sub": "user_1" })), None, NOW).unwrap();
    broker.verify_at(&good, NOW).unwrap();
    assert!(findings(&good).iter().all(|f| f.severity != Severity::Error), "{:#?}", findings(&good));
    let repeated = repeating(None, Some(r#""sub":"mallory""#));
    let err = broker.verify_at(&repeated, NOW).unwrap_err();
    assert_eq!(auth_code(&err), Some(AuthErrorCode::TokenMalformed));
    let null_kid = with_header(json!({ "alg": "ES256", "kid": null }));
    assert_eq!(auth_code(&broker.verify_at(&null_kid, NOW).unwrap_err()), Some(AuthErrorCode::TokenMalformed));
}

/// Verification and the diagnostics draw the time lines at the same second: `exp == now` is still valid,
/// `exp == now - 1` expired; `iat == now` is fine, `iat == now + 1` from the future.
#[test]
fn verify_and_diagnose_agree_on_time_boundaries() {
    let options = VerifyOptions::new(ISSUER, vec![AUDIENCE.into()]).unwrap();
    let with = |name: &str, value: u64| {
        let mut payload = valid_payload();
        payload[name] = json!(value);
        signed_token(es256(), header_of(es256()), payload)
    };
    let cases = [
        ("exp", NOW, None),
        ("exp", NOW - 1, Some("TOKEN_EXPIRED")),
        ("iat", NOW, None),
        ("iat", NOW + 1, Some("TOKEN_NOT_YET_VALID")),
    ];
    for (claim, value, finding) in cases {
        let token = with(claim, value);
        let verified = verify_with_keys(&token, &keys(), &options, NOW);
        let found: Vec<&str> =
            findings(&token).iter().filter(|f| f.severity == Severity::Error).map(|f| f.code).collect();
        match finding {
            None => {
                assert!(verified.is_ok(), "{claim}={value}: {verified:?}");
                assert!(found.is_empty(), "{claim}={value}: diagnose says {found:?}");
            }
            Some(code) => {
                assert!(verified.is_err(), "{claim}={value} verified");
                assert_eq!(found, vec![code], "{claim}={value}");
            }
        }
    }
}
