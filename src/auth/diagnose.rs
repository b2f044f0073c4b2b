//! Token diagnostics: why SpacetimeDB (or the gateway) would refuse a token, each finding with a
//! stable code, a severity and a one-line fix.
//!
//! [`diagnose_offline`] reads only the token and the options; [`diagnose`] adds network checks
//! (the issuer's discovery document and JWKS, and optionally asking the SpacetimeDB server itself).

use serde_json::{Map, Value};

use super::alg::{is_hmac, rejection_reason, Alg};
use super::claims::{audiences, looks_like_email, TOKEN_TYPE};
use super::identity::derive_identity;
use super::issuer::{differ_only_by_trailing_slash, is_dev_issuer, is_http_url, is_local_server, MAX_CLAIM_BYTES};
use super::jwt::{self, shape_problem};
use super::token_rules::{claim_problems, duplicate_problems, header_problems, is_audience_shape, Problem};

/// How bad a finding is. `Error`: SpacetimeDB or the gateway will refuse the token, or using it is
/// unsafe. `Warning`: works, but is fragile or risky. `Info`: facts worth knowing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One diagnostic finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable code, e.g. `ALG_UNSUPPORTED`.
    pub code: &'static str,
    pub severity: Severity,
    /// What is wrong (or what is the case), naming the values involved.
    pub message: String,
    /// One line saying what to do; `None` for facts that need no action.
    pub fix: Option<String>,
}

impl Finding {
    pub fn error(code: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding { code, severity: Severity::Error, message: message.into(), fix: Some(fix.into()) }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding { code, severity: Severity::Warning, message: message.into(), fix: Some(fix.into()) }
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Finding { code, severity: Severity::Info, message: message.into(), fix: None }
    }
}

/// A broken shape rule is an error finding: verification refuses the token for it.
impl From<Problem> for Finding {
    fn from(problem: Problem) -> Self {
        Finding::error(problem.finding, problem.message, problem.fix)
    }
}

/// What to check the token against.
#[derive(Clone, Debug, Default)]
pub struct DiagnoseOptions {
    /// The SpacetimeDB server the token is meant for (enables the local-issuer check and the probe).
    pub spacetimedb_url: Option<String>,
    /// The issuers the token may come from (empty: any). Several during an issuer migration's dual run.
    pub expected_issuers: Vec<String>,
    pub expected_audience: Vec<String>,
    /// Fetch the issuer's discovery document and JWKS (and probe `spacetimedb_url`).
    pub network: bool,
    /// Seconds since the epoch to judge `exp`/`nbf`/`iat` against.
    pub now: u64,
}

impl DiagnoseOptions {
    /// Whether `iss` is one of the expected issuers (any, when none are named).
    pub fn expects_issuer(&self, iss: &str) -> bool {
        self.expected_issuers.is_empty() || self.expected_issuers.iter().any(|e| e == iss)
    }
}

/// SpacetimeDB's leeway on `exp` (protocol doc §5.1).
pub const SPACETIMEDB_EXP_LEEWAY_SECONDS: f64 = 60.0;
/// Lifetimes above this are flagged: an access token is checked only at connect, keep it short.
pub const LONG_LIFETIME_SECONDS: f64 = 3600.0;

/// The parts of a decodable token that the network stage needs.
pub struct TokenFacts {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    pub alg: String,
    /// The issuer, when it is a string.
    pub iss: Option<String>,
    /// The signing input and signature, to check against fetched keys.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl TokenFacts {
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Looks like an opaque OAuth access token: no dots, a long run of token characters.
fn looks_opaque(token: &str) -> bool {
    !token.contains('.')
        && token.len() >= 16
        && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_~+/=".contains(c))
}

/// The checks that need only the token and the options.
pub fn diagnose_offline(token: &str, options: &DiagnoseOptions) -> (Vec<Finding>, Option<TokenFacts>) {
    let token = token.trim();
    let mut findings = Vec::new();
    if looks_opaque(token) {
        findings.push(Finding::error(
            "TOKEN_OPAQUE",
            "this is an opaque access token, not a JWT: SpacetimeDB cannot verify it (HTTP 401 InvalidToken); OAuth providers issue opaque access tokens when the client names no resource (audience)",
            "request a `resource` (RFC 8707: the audience, e.g. your SpacetimeDB URL) from the OAuth provider in the authorization or token request, so it issues a JWT for that audience — Better Auth's oauthProvider: list it in `resources` and link the client to it — or mint the token with TokenBroker.mint",
        ));
        return (findings, None);
    }
    if let Some(problem) = shape_problem(token) {
        findings.push(Finding::error(
            "TOKEN_MALFORMED",
            problem,
            "pass the compact JWT itself: header.payload.signature",
        ));
        return (findings, None);
    }
    let (jwt, repeated) = match jwt::parse(token) {
        Ok(parsed) => parsed,
        Err(e) => {
            findings.push(Finding::error(
                "TOKEN_MALFORMED",
                e.message,
                "pass the compact JWT itself: header.payload.signature",
            ));
            return (findings, None);
        }
    };
    // The rules verification applies, each reported; the checks below skip members they found broken.
    findings.extend(duplicate_problems(&repeated.header, &repeated.payload).into_iter().map(Finding::from));
    findings.extend(header_problems(&jwt.header).into_iter().map(Finding::from));
    findings.extend(claim_problems(&jwt.payload).into_iter().map(Finding::from));
    check_algorithm(&jwt.alg, jwt.header.contains_key("kid"), &mut findings);
    check_times(&jwt.payload, options.now as f64, &mut findings);
    let iss = check_issuer(&jwt.payload, options, &mut findings);
    check_subject_and_identity(&jwt.payload, iss.as_deref(), &mut findings);
    check_audience(&jwt.payload, &options.expected_audience, &mut findings);
    if let Some(kind) = jwt.payload.get("token_type").and_then(Value::as_str) {
        if kind != TOKEN_TYPE {
            findings.push(Finding::info(
                "TOKEN_TYPE_UNEXPECTED",
                format!("token_type is `{kind}`, not `{TOKEN_TYPE}`: this is not a gateway access token (a session or ID token reused?)"),
            ));
        }
    }
    let facts = TokenFacts {
        header: jwt.header.clone(),
        payload: jwt.payload.clone(),
        alg: jwt.alg.clone(),
        iss,
        signing_input: jwt.signing_input.to_string(),
        signature: jwt.signature.clone(),
    };
    (findings, Some(facts))
}

fn check_algorithm(alg: &str, has_kid: bool, findings: &mut Vec<Finding>) {
    let fix = "sign with ES256 (P-256) or RS256 (RSA ≥ 2048) and publish the key in a JWKS (TokenBroker does both)";
    if alg.eq_ignore_ascii_case("none") {
        findings.push(Finding::error("ALG_NONE", rejection_reason(alg), fix));
    } else if is_hmac(alg) {
        findings.push(Finding::error(
            "ALG_HMAC",
            format!(
                "{alg}: {} An HS256 token naming an RSA kid crashes a SpacetimeDB 1.3.0 server.",
                "shared-secret tokens cannot be verified through a JWKS, and SpacetimeDB 1.3.0 accepts HS256 signed with a *public* key (anyone can forge tokens)."
            ),
            "never use HS*: switch to ES256/RS256, rotate the secret, and keep SpacetimeDB 1.3.0 away from untrusted clients",
        ));
    } else if Alg::parse(alg).is_none() {
        let fix = if alg == "EdDSA" {
            "Better Auth: jwt({ jwks: { keyPairConfig: { alg: \"ES256\" } } }) — then delete the old EdDSA keys from the jwks table"
        } else {
            fix
        };
        findings.push(Finding::error("ALG_UNSUPPORTED", rejection_reason(alg), fix));
    }
    if !has_kid {
        findings.push(Finding::warning(
            "KID_MISSING",
            "the header has no `kid`: verifiers must try every key, and key rotation becomes ambiguous",
            "put the signing key's kid in the header (TokenBroker always does)",
        ));
    }
}

/// A time claim of the right type ([`claim_problems`] reports any other), as seconds.
fn seconds(payload: &Map<String, Value>, name: &str) -> Option<f64> {
    payload.get(name).and_then(Value::as_i64).map(|n| n as f64)
}

fn check_times(payload: &Map<String, Value>, now: f64, findings: &mut Vec<Finding>) {
    // Whole seconds, as verification reads the clock.
    let now = now.floor();
    if !payload.contains_key("iat") {
        findings.push(Finding::error(
            "IAT_MISSING",
            "the token has no `iat`: SpacetimeDB rejects it",
            "add `iat` (issued-at, integer seconds)",
        ));
    }
    let iat = seconds(payload, "iat");
    // The same rule as verification (verify.rs): a token issued after now is refused (a verifier's
    // clockToleranceSeconds may allow some skew; diagnose assumes none).
    if let Some(iat) = iat.filter(|iat| *iat > now) {
        findings.push(Finding::error(
            "TOKEN_NOT_YET_VALID",
            format!("`iat` is {} s in the future: the gateway's verifier refuses it", (iat - now) as i64),
            "sync the clocks of the issuing server (NTP), or allow the skew with clockToleranceSeconds",
        ));
    }
    if !payload.contains_key("exp") {
        findings.push(Finding::warning(
            "EXP_MISSING",
            "the token has no `exp`: SpacetimeDB accepts it, and it never expires",
            "give access tokens a short lifetime (TokenBroker: 5 minutes by default)",
        ));
    }
    if let Some(exp) = seconds(payload, "exp") {
        // Expired strictly after `exp`, as verification reads it (verify.rs: `now > exp`).
        if exp < now {
            let leeway = if exp + SPACETIMEDB_EXP_LEEWAY_SECONDS > now {
                " (SpacetimeDB still accepts it within its 60 s leeway; the gateway does not)"
            } else {
                ""
            };
            findings.push(Finding::error(
                "TOKEN_EXPIRED",
                format!("the token expired {} s ago{leeway}", (now - exp) as i64),
                "mint a fresh token right before connecting (TokenBroker.mint)",
            ));
        }
        if let Some(iat) = iat.filter(|iat| exp - iat > LONG_LIFETIME_SECONDS) {
            findings.push(Finding::warning(
                "LIFETIME_LONG",
                format!("the token lives {} s; SpacetimeDB checks it only at connect, so a leaked token stays usable that long", (exp - iat) as i64),
                "keep access tokens short (minutes) and mint a new one per connection",
            ));
        }
    }
    if let Some(nbf) = seconds(payload, "nbf").filter(|nbf| *nbf > now) {
        findings.push(Finding::error(
            "TOKEN_NOT_YET_VALID",
            format!("`nbf` is {} s in the future (SpacetimeDB ignores nbf; the gateway does not)", (nbf - now) as i64),
            "do not set nbf in the future, or wait; check the issuer's clock",
        ));
    }
}

/// Issuer checks; returns the issuer string when there is one.
fn check_issuer(
    payload: &Map<String, Value>,
    options: &DiagnoseOptions,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    let Some(iss) = payload.get("iss") else {
        findings.push(Finding::error(
            "ISSUER_MISSING",
            "the token has no `iss`: SpacetimeDB requires it",
            "set `iss` to your issuer URL",
        ));
        return None;
    };
    let iss = iss.as_str()?; // another type: ISSUER_INVALID, from claim_problems
    if iss.is_empty() || iss.len() > MAX_CLAIM_BYTES {
        findings.push(Finding::error(
            "ISSUER_INVALID",
            format!("`iss` is {} bytes; SpacetimeDB accepts 1 to {MAX_CLAIM_BYTES}", iss.len()),
            "use a shorter issuer URL",
        ));
    }
    if iss == "localhost" {
        findings.push(Finding::info(
            "ISSUER_SERVER_LOCAL",
            "`iss` is `localhost`, the SpacetimeDB server's own issuer: only tokens signed with the server's private key pass",
        ));
    } else if !is_http_url(iss) {
        findings.push(Finding::error(
            "ISSUER_NOT_URL",
            format!("`iss` {iss:?} is not an http(s) URL: SpacetimeDB cannot discover its keys at <iss>/.well-known/openid-configuration"),
            "use the URL where your app serves discovery, e.g. https://app.example.com/api/auth",
        ));
    }
    if iss.ends_with('/') && iss.len() > 1 {
        findings.push(Finding::warning(
            "ISSUER_TRAILING_SLASH",
            format!("`iss` {iss:?} ends with `/`: the Identity includes it, so `…/` and `…` are different users"),
            "pick one form and never change it (the broker refuses the other unless allowIssuerTrailingSlash)",
        ));
    }
    if !options.expects_issuer(iss) {
        let expected = match options.expected_issuers.as_slice() {
            [one] => format!("{one:?}"),
            several => format!("one of {several:?}"),
        };
        let hint = if options.expected_issuers.iter().any(|e| differ_only_by_trailing_slash(iss, e)) {
            " — only the trailing `/` differs, and it changes every Identity"
        } else {
            ""
        };
        findings.push(Finding::error(
            "ISSUER_MISMATCH",
            format!("`iss` is {iss:?}, expected {expected}{hint}"),
            "mint with the exact expected issuer string",
        ));
    }
    if is_dev_issuer(iss) {
        match &options.spacetimedb_url {
            Some(server) if !is_local_server(server) => findings.push(Finding::error(
                "ISSUER_DEV_FOR_REMOTE_SERVER",
                format!("`iss` {iss:?} is a local/development issuer (http or loopback) but the SpacetimeDB server {server} is not local: refusing it (fail closed)"),
                "use an https issuer reachable by that server; keep `issuer serve` and http issuers for local development",
            )),
            _ => findings.push(Finding::info(
                "ISSUER_DEV",
                format!("`iss` {iss:?} is a local/development issuer (http or loopback): fine against a local SpacetimeDB only"),
            )),
        }
    }
    Some(iss.to_string())
}

fn check_subject_and_identity(payload: &Map<String, Value>, iss: Option<&str>, findings: &mut Vec<Finding>) {
    let Some(sub) = payload.get("sub") else {
        findings.push(Finding::error(
            "SUBJECT_MISSING",
            "the token has no `sub`: SpacetimeDB requires it",
            "set `sub` to the stable user id",
        ));
        return;
    };
    let Some(sub) = sub.as_str() else { return }; // another type: SUBJECT_INVALID, from claim_problems
    if sub.is_empty() || sub.len() > MAX_CLAIM_BYTES {
        findings.push(Finding::error(
            "SUBJECT_INVALID",
            format!("`sub` is {} bytes; SpacetimeDB accepts 1 to {MAX_CLAIM_BYTES}", sub.len()),
            "use a short stable id (the user id)",
        ));
    }
    if looks_like_email(sub) {
        findings.push(Finding::warning(
            "SUBJECT_EMAIL",
            format!("`sub` {sub:?} is an e-mail address: when the user changes it, their SpacetimeDB Identity changes"),
            "use the stable user id as `sub`",
        ));
    }
    let Some(iss) = iss else { return };
    let identity = derive_identity(iss, sub);
    if let Some(claimed) = payload.get("hex_identity").and_then(Value::as_str) {
        if claimed != identity {
            findings.push(Finding::error(
                "HEX_IDENTITY_MISMATCH",
                format!("`hex_identity` is {claimed}, but SpacetimeDB derives {identity} from iss and sub and rejects the mismatch"),
                "remove `hex_identity` (it is optional) or compute it with deriveIdentity(iss, sub)",
            ));
        }
    }
    findings.push(Finding::info("IDENTITY", format!("SpacetimeDB Identity for this token: {identity}")));
}

fn check_audience(payload: &Map<String, Value>, expected: &[String], findings: &mut Vec<Finding>) {
    if payload.get("aud").is_some_and(|aud| !is_audience_shape(aud)) {
        return; // AUDIENCE_INVALID, from claim_problems
    }
    let audiences = audiences(payload);
    if audiences.is_empty() {
        findings.push(Finding::warning(
            "AUDIENCE_MISSING",
            "the token has no `aud`: SpacetimeDB never checks it, so nothing ties the token to your gateway",
            "set `aud` (TokenBroker requires an audience) and check it in the gateway",
        ));
    } else if !expected.is_empty() && !audiences.iter().any(|a| expected.iter().any(|e| e == a)) {
        findings.push(Finding::error(
            "AUDIENCE_MISMATCH",
            format!("`aud` is {audiences:?}, expected one of {expected:?}"),
            "mint the token for the expected audience (TokenBroker `audience`)",
        ));
    }
}

/// All checks: offline, then (with `options.network`) the issuer's documents and the server probe.
pub async fn diagnose(token: &str, options: &DiagnoseOptions) -> Vec<Finding> {
    let (mut findings, facts) = diagnose_offline(token, options);
    if let (true, Some(facts)) = (options.network, facts) {
        super::diagnose_network::check_remote(token.trim(), &facts, options, &mut findings).await;
    }
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Whether any finding is an error (the CLI's exit status).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
