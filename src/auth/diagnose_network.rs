//! The network half of the diagnostics: fetch the issuer's discovery document and JWKS the way
//! SpacetimeDB does, check the token's key and signature against them, and optionally ask the
//! SpacetimeDB server whether it accepts the token.
//!
//! Safety: HS* tokens are never sent to a server (an HS256 token naming an RSA `kid` crashes SpacetimeDB
//! 1.3.0), a dev issuer's token is never sent to a non-local server, and an issuer other than the
//! expected one is never fetched.

use std::time::Duration;

use serde_json::Value;

use super::alg::Alg;
use super::diagnose::{DiagnoseOptions, Finding, TokenFacts};
use super::identity::derive_identity;
use super::issuer::{discovery_url, is_dev_issuer, is_http_url, is_local_server};
use super::keyset::KeySet;
use super::remote_jwks::{fetch_json, is_unreachable, jwks_uri_of};

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn check_remote(token: &str, facts: &TokenFacts, options: &DiagnoseOptions, findings: &mut Vec<Finding>) {
    if let Some(iss) = &facts.iss {
        if is_http_url(iss) && options.expects_issuer(iss) {
            check_issuer_documents(iss, facts, findings).await;
        }
    }
    if let Some(server) = &options.spacetimedb_url {
        probe_server(server, token, facts, findings).await;
    }
}

/// Fetches `<iss>/.well-known/openid-configuration` and its `jwks_uri`, then checks the token against the keys.
async fn check_issuer_documents(iss: &str, facts: &TokenFacts, findings: &mut Vec<Finding>) {
    let url = discovery_url(iss);
    let document = match fetch_json(&url, "discovery document").await {
        Ok(document) => document,
        Err(e) => {
            let code = if is_unreachable(&e) { "DISCOVERY_UNREACHABLE" } else { "DISCOVERY_INVALID" };
            findings.push(Finding::error(
                code,
                format!("{}; SpacetimeDB fetches exactly this URL to find the keys", e.message),
                "serve broker.openidConfiguration() at <issuer>/.well-known/openid-configuration (Better Auth's jwt plugin alone serves only /api/auth/jwks)",
            ));
            return;
        }
    };
    if let Some(doc_issuer) = document.get("issuer").and_then(Value::as_str) {
        if doc_issuer != iss {
            findings.push(Finding::warning(
                "DISCOVERY_ISSUER_MISMATCH",
                format!("the discovery document says issuer {doc_issuer:?}, the token says {iss:?}"),
                "make the discovery `issuer` equal the tokens' `iss` exactly",
            ));
        }
    }
    let jwks_uri = match jwks_uri_of(&document, &url) {
        Ok(uri) => uri,
        Err(e) => {
            findings.push(Finding::error(
                "DISCOVERY_INVALID",
                e.message,
                "put the JWKS URL in the discovery document's `jwks_uri`",
            ));
            return;
        }
    };
    let keys = match fetch_json(&jwks_uri, "JWKS").await.and_then(|doc| KeySet::from_jwks(&doc)) {
        Ok(keys) => keys,
        Err(e) => {
            let code = if is_unreachable(&e) { "JWKS_UNREACHABLE" } else { "JWKS_INVALID" };
            findings.push(Finding::error(code, e.message, "serve broker.jwks() at the discovery document's jwks_uri"));
            return;
        }
    };
    check_key_set(&keys, facts, findings);
}

fn check_key_set(keys: &KeySet, facts: &TokenFacts, findings: &mut Vec<Finding>) {
    let without_kid = keys.keys_without_kid();
    if without_kid > 0 {
        findings.push(Finding::error(
            "JWKS_KEY_WITHOUT_KID",
            format!(
                "{without_kid} key(s) in the JWKS have no `kid`: SpacetimeDB refuses the whole JWKS (MissingKeyId)"
            ),
            "give every published key a kid",
        ));
    }
    for unusable in &keys.unusable {
        let kid = unusable.kid.as_deref().unwrap_or("(no kid)");
        findings.push(Finding::warning(
            "JWKS_KEY_UNUSABLE",
            format!("JWKS key {kid} cannot verify SpacetimeDB tokens: {}", unusable.reason.message),
            "publish ES256 (P-256) or RS256 (RSA ≥ 2048) keys; remove private or unsupported keys",
        ));
    }
    // Measured on 1.3.0 (docs/auth.md): without a kid the server tries every key, and an RSA key tried
    // with a non-RSA token panics the whole process.
    if facts.kid().is_none() && facts.alg != "RS256" && keys.usable.iter().any(|k| k.material.alg() == Alg::Rs256) {
        findings.push(Finding::error(
            "SERVER_CRASH_RISK",
            "the header has no `kid` and the issuer's JWKS holds an RSA key: SpacetimeDB 1.3.0 tries every key and crashes on the RSA one",
            "put the signing key's kid in the header (TokenBroker always does); never expose a 1.3.0 server to untrusted clients",
        ));
    }
    match facts.kid() {
        None if keys.len() > 1 => {
            if let Some(f) = findings.iter_mut().find(|f| f.code == "KID_MISSING") {
                f.severity = super::diagnose::Severity::Error;
                f.message = format!(
                    "the header has no `kid` and the JWKS has {} keys: which key signed it is ambiguous (jose's remote JWKS refuses such tokens)",
                    keys.len()
                );
            }
        }
        Some(kid) if !keys.contains_kid(kid) => {
            findings.push(Finding::error(
                "KID_NOT_FOUND",
                format!("no key with kid `{kid}` is published in the JWKS"),
                "keep a retiring key published until its last token expires; SpacetimeDB caches a JWKS for up to 5 minutes",
            ));
            return;
        }
        _ => {}
    }
    let Some(alg) = Alg::parse(&facts.alg) else {
        if let Some(description) = facts.kid().and_then(|kid| keys.describe_kid(kid)) {
            findings.push(Finding::error(
                "KEY_ALG_MISMATCH",
                format!("the token says {} and names {description}: an algorithm-confusion token", facts.alg),
                "sign with the algorithm the key is for; never HS* with a public key",
            ));
        }
        return;
    };
    let jwt_like = super::jwt::DecodedJwt {
        header: facts.header.clone(),
        payload: Default::default(),
        alg: facts.alg.clone(),
        signing_input: &facts.signing_input,
        signature: facts.signature.clone(),
    };
    match keys.verify_signature(&jwt_like, alg) {
        Ok(_) => findings.push(Finding::info("SIGNATURE_VALID", "the signature verifies with the published key")),
        Err(e) => findings.push(Finding::error(
            "SIGNATURE_INVALID",
            e.message,
            "sign with the private key whose public half is published under the token's kid",
        )),
    }
}

/// Asks the server: `GET /v1/identity/<derived identity>/verify` answers 204 when it accepts the token
/// *and* derives that Identity, 400 for another Identity, 401 when it refuses the token.
async fn probe_server(server: &str, token: &str, facts: &TokenFacts, findings: &mut Vec<Finding>) {
    let not_probed =
        |why: &str| Finding::info("SERVER_NOT_PROBED", format!("the token was not sent to {server}: {why}"));
    if Alg::parse(&facts.alg).is_none() {
        findings.push(not_probed("only ES256/RS256 tokens are sent (HS* tokens can crash SpacetimeDB 1.3.0)"));
        return;
    }
    let (Some(iss), Some(sub)) = (facts.iss.as_deref(), facts.payload.get("sub").and_then(Value::as_str)) else {
        findings.push(not_probed("it has no iss/sub"));
        return;
    };
    if is_dev_issuer(iss) && !is_local_server(server) {
        findings.push(not_probed("a development issuer's token is not sent to a non-local server"));
        return;
    }
    let identity = derive_identity(iss, sub);
    let url = format!("{}/v1/identity/{identity}/verify", server.trim_end_matches('/'));
    let client = match reqwest::Client::builder().timeout(PROBE_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => return findings.push(not_probed(&e.to_string())),
    };
    let response = match client.get(&url).bearer_auth(token).send().await {
        Ok(response) => response,
        Err(e) => {
            findings.push(Finding::warning(
                "SERVER_UNREACHABLE",
                format!("cannot reach SpacetimeDB at {server}: {e}"),
                "check spacetimedbUrl (e.g. http://127.0.0.1:3000)",
            ));
            return;
        }
    };
    let status = response.status().as_u16();
    let body: String = response.text().await.unwrap_or_default().chars().take(300).collect();
    match status {
        200 | 204 => findings.push(Finding::info(
            "SERVER_ACCEPTED",
            format!("SpacetimeDB at {server} accepts the token as Identity {identity}"),
        )),
        400 => findings.push(Finding::error(
            "SERVER_IDENTITY_MISMATCH",
            format!("SpacetimeDB at {server} accepts the token but as another Identity than {identity}"),
            "report this: the derived Identity should be bit-exact",
        )),
        401 | 403 => findings.push(Finding::error(
            "SERVER_REJECTED",
            format!("SpacetimeDB at {server} rejects the token (HTTP {status}): {}", body.trim()),
            "fix the errors above; the server's message names its reason",
        )),
        _ => findings.push(Finding::warning(
            "SERVER_PROBE_FAILED",
            format!("SpacetimeDB at {server} answered HTTP {status} to the probe: {}", body.trim()),
            "check that spacetimedbUrl points at a SpacetimeDB server",
        )),
    }
}
