//! Diagnostics: each case the issue lists produces its finding, with a fix.

use serde_json::{json, Value};

use super::support::{
    broker, claims, es256, header_of, hs256_token, raw_token, rs256, signed_token, valid_payload, TestServer, AUDIENCE,
    ISSUER, NOW,
};
use crate::auth::diagnose::{diagnose, diagnose_offline, has_errors, DiagnoseOptions, Finding, Severity};
use crate::auth::identity::derive_identity;

fn offline(token: &str, options: DiagnoseOptions) -> Vec<Finding> {
    diagnose_offline(token, &DiagnoseOptions { now: NOW, ..options }).0
}

fn find<'a>(findings: &'a [Finding], code: &str) -> &'a Finding {
    findings.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("no {code} in {findings:#?}"))
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn payload_with(name: &str, value: Value) -> Value {
    let mut p = valid_payload();
    if value.is_null() {
        p.as_object_mut().unwrap().remove(name);
    } else {
        p[name] = value;
    }
    p
}

#[test]
fn a_broker_token_has_no_errors_and_names_its_identity() {
    let b = broker(es256());
    let token = b.mint_at(claims(json!({ "sub": "user_1" })), None, NOW).unwrap();
    let findings = offline(
        &token,
        DiagnoseOptions {
            expected_issuers: vec![ISSUER.into()],
            expected_audience: vec![AUDIENCE.into()],
            ..Default::default()
        },
    );
    assert!(!has_errors(&findings), "{findings:#?}");
    assert!(find(&findings, "IDENTITY").message.contains(&derive_identity(ISSUER, "user_1")));
}

#[test]
fn algorithm_findings() {
    let eddsa = raw_token(json!({ "alg": "EdDSA", "kid": "k" }), valid_payload(), &[1; 64]);
    let f = offline(&eddsa, Default::default());
    let finding = find(&f, "ALG_UNSUPPORTED");
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.fix.as_deref().unwrap().contains("keyPairConfig"));

    let hs = hs256_token(json!({ "alg": "HS256", "kid": "k" }), valid_payload(), b"secret");
    let f = offline(&hs, Default::default());
    assert!(find(&f, "ALG_HMAC").message.contains("forge"));
    let none = raw_token(json!({ "alg": "none" }), valid_payload(), b"");
    assert_eq!(find(&offline(&none, Default::default()), "ALG_NONE").severity, Severity::Error);
    let es384 = raw_token(json!({ "alg": "ES384", "kid": "k" }), valid_payload(), &[1; 96]);
    assert!(codes(&offline(&es384, Default::default())).contains(&"ALG_UNSUPPORTED"));
}

#[test]
fn claim_findings() {
    let t = |p: Value| signed_token(es256(), header_of(es256()), p);
    let f = offline(&t(payload_with("iat", Value::Null)), Default::default());
    assert_eq!(find(&f, "IAT_MISSING").severity, Severity::Error);
    assert!(
        codes(&offline(&t(payload_with("iat", json!(NOW as f64 + 0.5))), Default::default())).contains(&"IAT_INVALID")
    );
    let expired = offline(&t(payload_with("exp", json!(NOW - 30))), Default::default());
    assert!(find(&expired, "TOKEN_EXPIRED").message.contains("60 s leeway"));
    assert!(
        codes(&offline(&t(payload_with("nbf", json!(NOW + 100))), Default::default())).contains(&"TOKEN_NOT_YET_VALID")
    );
    assert!(
        codes(&offline(&t(payload_with("iat", json!(NOW + 600))), Default::default())).contains(&"TOKEN_NOT_YET_VALID")
    );
    assert_eq!(
        find(&offline(&t(payload_with("exp", Value::Null)), Default::default()), "EXP_MISSING").severity,
        Severity::Warning
    );
    assert!(
        codes(&offline(&t(payload_with("exp", json!(NOW + 86_400))), Default::default())).contains(&"LIFETIME_LONG")
    );
    assert_eq!(
        find(&offline(&t(payload_with("sub", json!("ada@example.com"))), Default::default()), "SUBJECT_EMAIL").severity,
        Severity::Warning
    );
    assert!(codes(&offline(&t(payload_with("sub", Value::Null)), Default::default())).contains(&"SUBJECT_MISSING"));
    assert!(codes(&offline(&t(payload_with("aud", Value::Null)), Default::default())).contains(&"AUDIENCE_MISSING"));
    let f = offline(
        &t(payload_with("aud", json!("other"))),
        DiagnoseOptions { expected_audience: vec![AUDIENCE.into()], ..Default::default() },
    );
    assert_eq!(find(&f, "AUDIENCE_MISMATCH").severity, Severity::Error);
    assert!(codes(&offline(&t(payload_with("hex_identity", json!("c200ff"))), Default::default()))
        .contains(&"HEX_IDENTITY_MISMATCH"));
    assert!(codes(&offline(&t(payload_with("token_type", json!("id"))), Default::default()))
        .contains(&"TOKEN_TYPE_UNEXPECTED"));
    let no_kid = signed_token(es256(), json!({ "alg": "ES256" }), valid_payload());
    assert_eq!(find(&offline(&no_kid, Default::default()), "KID_MISSING").severity, Severity::Warning);
}

#[test]
fn several_expected_issuers_accept_each_and_name_all_on_a_mismatch() {
    // An issuer migration's dual run: the old and the new issuer are both expected.
    const OLD: &str = "https://sso.example.com/realms/acme";
    let t = |iss: &str| signed_token(es256(), header_of(es256()), payload_with("iss", json!(iss)));
    let both = DiagnoseOptions { expected_issuers: vec![OLD.into(), ISSUER.into()], ..Default::default() };
    for iss in [OLD, ISSUER] {
        assert!(!codes(&offline(&t(iss), both.clone())).contains(&"ISSUER_MISMATCH"), "{iss}");
    }
    let other = find(&offline(&t("https://accounts.example.org"), both.clone()), "ISSUER_MISMATCH").message.clone();
    assert!(other.contains("one of") && other.contains(OLD) && other.contains(ISSUER), "{other}");
    assert!(!other.contains("trailing"), "{other}");
    let slash = find(&offline(&t(&format!("{OLD}/")), both), "ISSUER_MISMATCH").message.clone();
    assert!(slash.contains("trailing"), "{slash}");
}

#[test]
fn issuer_findings() {
    let t = |p: Value| signed_token(es256(), header_of(es256()), p);
    let slash = format!("{ISSUER}/");
    let f = offline(&t(payload_with("iss", json!(slash))), Default::default());
    assert_eq!(find(&f, "ISSUER_TRAILING_SLASH").severity, Severity::Warning);
    let f = offline(
        &t(payload_with("iss", json!(slash))),
        DiagnoseOptions { expected_issuers: vec![ISSUER.into()], ..Default::default() },
    );
    assert!(find(&f, "ISSUER_MISMATCH").message.contains("trailing"));
    assert!(codes(&offline(&t(payload_with("iss", json!("my-app"))), Default::default())).contains(&"ISSUER_NOT_URL"));
    assert!(codes(&offline(&t(payload_with("iss", Value::Null)), Default::default())).contains(&"ISSUER_MISSING"));
    assert!(codes(&offline(&t(payload_with("iss", json!("localhost"))), Default::default()))
        .contains(&"ISSUER_SERVER_LOCAL"));

    // A dev issuer is fine against a local server and fails closed against any other.
    let dev = t(payload_with("iss", json!("http://127.0.0.1:4000")));
    let local =
        offline(&dev, DiagnoseOptions { spacetimedb_url: Some("http://localhost:3000".into()), ..Default::default() });
    assert_eq!(find(&local, "ISSUER_DEV").severity, Severity::Info);
    for remote in ["https://maincloud.spacetimedb.com", "http://10.1.2.3:3000"] {
        let f = offline(&dev, DiagnoseOptions { spacetimedb_url: Some(remote.into()), ..Default::default() });
        assert_eq!(find(&f, "ISSUER_DEV_FOR_REMOTE_SERVER").severity, Severity::Error, "{remote}");
    }
    let http_public = t(payload_with("iss", json!("http://auth.example.com")));
    let f = offline(
        &http_public,
        DiagnoseOptions { spacetimedb_url: Some("https://db.example.com".into()), ..Default::default() },
    );
    assert!(codes(&f).contains(&"ISSUER_DEV_FOR_REMOTE_SERVER"));
}

#[test]
fn opaque_and_malformed_tokens() {
    let f = offline("kLx3UAb0EJVpKmQuNxT9e2cV7hRpY4wZ", Default::default());
    assert_eq!(codes(&f), vec!["TOKEN_OPAQUE"]);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("opaque access token"), "{}", f[0].message);
    let fix = f[0].fix.as_deref().unwrap();
    assert!(fix.contains("request a `resource`") && fix.contains("from the OAuth provider"), "{fix}");
    // What Better Auth's oauthProvider returns without a resource (32 letters), and with a prefix.
    for opaque in ["wkgUWyidCJpTpmhovZVFpXXiIFyMkBSi", "app_at_wkgUWyidCJpTpmhovZVFpXXiIFyMkBSi"] {
        assert_eq!(codes(&offline(opaque, Default::default())), vec!["TOKEN_OPAQUE"], "{opaque}");
    }
    for bad in ["a.b", "", "x.y.z", "Bearer a.b.c"] {
        assert_eq!(codes(&offline(bad, Default::default())), vec!["TOKEN_MALFORMED"], "{bad}");
    }
}

fn network_options(server: Option<&str>) -> DiagnoseOptions {
    DiagnoseOptions { network: true, now: NOW, spacetimedb_url: server.map(str::to_string), ..Default::default() }
}

fn payload_for(issuer: &str) -> Value {
    payload_with("iss", json!(issuer))
}

#[tokio::test]
async fn issuer_documents_are_checked_like_spacetimedb_does() {
    let server = TestServer::start().await;
    // Several keys, token without kid: an error once the JWKS is known.
    let issuer = server.serve_issuer("/multi", &json!({ "keys": [es256().public_jwk, rs256().public_jwk] }));
    let no_kid = signed_token(es256(), json!({ "alg": "ES256" }), payload_for(&issuer));
    let f = diagnose(&no_kid, &network_options(None)).await;
    assert_eq!(find(&f, "KID_MISSING").severity, Severity::Error);
    assert!(codes(&f).contains(&"SIGNATURE_VALID"));
    // ...and one that crashes a 1.3.0 server, which tries the RSA key too.
    assert_eq!(find(&f, "SERVER_CRASH_RISK").severity, Severity::Error);
    let rs_no_kid = signed_token(rs256(), json!({ "alg": "RS256" }), payload_for(&issuer));
    assert!(!codes(&diagnose(&rs_no_kid, &network_options(None)).await).contains(&"SERVER_CRASH_RISK"));
    let ec_only = server.serve_issuer("/ec-only", &json!({ "keys": [es256().public_jwk] }));
    let ec_no_kid = signed_token(es256(), json!({ "alg": "ES256" }), payload_for(&ec_only));
    assert!(!codes(&diagnose(&ec_no_kid, &network_options(None)).await).contains(&"SERVER_CRASH_RISK"));

    let good = signed_token(es256(), header_of(es256()), payload_for(&issuer));
    let f = diagnose(&good, &network_options(None)).await;
    assert!(!has_errors(&f), "{f:#?}");

    let unknown = signed_token(es256(), json!({ "alg": "ES256", "kid": "gone" }), payload_for(&issuer));
    assert!(codes(&diagnose(&unknown, &network_options(None)).await).contains(&"KID_NOT_FOUND"));
    let forged = signed_token(rs256(), json!({ "alg": "RS256", "kid": "es-1" }), payload_for(&issuer));
    assert!(codes(&diagnose(&forged, &network_options(None)).await).contains(&"SIGNATURE_INVALID"));
    let confusion = hs256_token(json!({ "alg": "HS256", "kid": "rs-1" }), payload_for(&issuer), b"x");
    let f = diagnose(&confusion, &network_options(None)).await;
    assert!(codes(&f).contains(&"KEY_ALG_MISMATCH") && codes(&f).contains(&"ALG_HMAC"));

    // A JWKS key without kid breaks the whole JWKS for SpacetimeDB.
    let mut no_kid_key = es256().public_jwk.clone();
    no_kid_key.as_object_mut().unwrap().remove("kid");
    let issuer2 = server.serve_issuer(
        "/nokid",
        &json!({ "keys": [no_kid_key, json!({"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "ed"})] }),
    );
    let f = diagnose(&signed_token(es256(), header_of(es256()), payload_for(&issuer2)), &network_options(None)).await;
    assert!(codes(&f).contains(&"JWKS_KEY_WITHOUT_KID") && codes(&f).contains(&"JWKS_KEY_UNUSABLE"), "{f:#?}");

    // An issuer that serves a JWKS but no discovery document (Better Auth's jwt plugin alone).
    server.route("/plain/jwks", 200, json!({ "keys": [es256().public_jwk] }).to_string());
    let f = diagnose(
        &signed_token(es256(), header_of(es256()), payload_for(&format!("{}/plain", server.base))),
        &network_options(None),
    )
    .await;
    assert!(find(&f, "DISCOVERY_UNREACHABLE").fix.as_deref().unwrap().contains("openid-configuration"));
    server.route("/nojwksuri/.well-known/openid-configuration", 200, "{}");
    let f = diagnose(
        &signed_token(es256(), header_of(es256()), payload_for(&format!("{}/nojwksuri", server.base))),
        &network_options(None),
    )
    .await;
    assert!(codes(&f).contains(&"DISCOVERY_INVALID"));
    // Errors sort first.
    assert_eq!(f[0].severity, Severity::Error);
}

#[tokio::test]
async fn the_server_probe_reports_and_never_sends_hmac() {
    let server = TestServer::start().await;
    let issuer = format!("{}/iss", server.base);
    let token = signed_token(es256(), header_of(es256()), payload_for(&issuer));
    let identity = derive_identity(&issuer, "user_1");
    let verify_path = format!("/v1/identity/{identity}/verify");
    server.route(&verify_path, 204, "");
    let f = diagnose(&token, &network_options(Some(&server.base))).await;
    assert!(find(&f, "SERVER_ACCEPTED").message.contains(&identity));
    server.route(&verify_path, 401, "InvalidToken");
    let f = diagnose(&token, &network_options(Some(&server.base))).await;
    assert!(find(&f, "SERVER_REJECTED").message.contains("InvalidToken"));

    let hs = hs256_token(json!({ "alg": "HS256", "kid": "rs-1" }), payload_for(&issuer), b"x");
    let before = server.hits(&verify_path);
    let f = diagnose(&hs, &network_options(Some(&server.base))).await;
    assert!(codes(&f).contains(&"SERVER_NOT_PROBED"));
    assert_eq!(server.hits(&verify_path), before, "an HS256 token is never sent to a server");

    let f = diagnose(&token, &network_options(Some("http://127.0.0.1:9"))).await;
    assert!(codes(&f).contains(&"SERVER_UNREACHABLE"));
}

#[tokio::test]
async fn an_unexpected_issuer_is_not_fetched() {
    let server = TestServer::start().await;
    let issuer = server.serve_issuer("/x", &json!({ "keys": [] }));
    let token = signed_token(es256(), header_of(es256()), payload_for(&issuer));
    let options = DiagnoseOptions { expected_issuers: vec![ISSUER.into()], ..network_options(None) };
    let f = diagnose(&token, &options).await;
    assert!(codes(&f).contains(&"ISSUER_MISMATCH"));
    assert_eq!(server.total.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn each_of_several_expected_issuers_is_fetched() {
    let server = TestServer::start().await;
    let issuer = server.serve_issuer("/new", &json!({ "keys": [es256().public_jwk] }));
    let token = signed_token(es256(), header_of(es256()), payload_for(&issuer));
    let options = DiagnoseOptions { expected_issuers: vec![ISSUER.into(), issuer.clone()], ..network_options(None) };
    let f = diagnose(&token, &options).await;
    assert!(!has_errors(&f), "{f:#?}");
    assert!(server.total.load(std::sync::atomic::Ordering::SeqCst) >= 2, "discovery and the JWKS were fetched");
}
