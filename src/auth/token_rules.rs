//! The shape rules a token's header and claims must follow, shared by verification and the diagnostics
//! so the two cannot disagree: verification refuses with the first [`Problem`], `diagnoseToken` reports
//! each one as a finding with the same stable code.
//!
//! What SpacetimeDB 1.3.0 does with the same input (crates.io sources of `spacetimedb-core`,
//! `spacetimedb-auth` 1.3.0 and the `spacetimedb-jsonwebtoken` 9.3.0 fork they use):
//! - The header is serde-derived `jsonwebtoken::Header` (`src/header.rs`): a repeated `alg`, `typ`,
//!   `cty`, `jku`, `jwk`, `kid`, `x5u`, `x5c`, `x5t` or `x5t#S256` fails with "duplicate field"; any of
//!   them with the wrong JSON type fails; `null` reads as absent; unknown members, `crit` included, are
//!   ignored (so SpacetimeDB accepts `crit`; the gateway, which implements no extension, refuses it).
//! - The payload is read twice, both serde-derived: `ClaimsForValidation` (`src/validation.rs`: `exp`,
//!   `nbf`, `sub`, `iss`, `aud`) and `IncomingClaims` (`spacetimedb-auth` `src/identity.rs`:
//!   `hex_identity`, `sub`, `iss`, `aud`, `iat`, `exp`). A repeated one of those fails; repeated other
//!   claims are ignored. `iss`/`sub` must be strings, `aud` a string or an array of strings, `iat` and
//!   `exp` JSON integers (`serde_with::TimestampSeconds` = strict `i64`: `1.5`, `1e9` and `"1"` fail).
//!   `nbf` is never checked there; the gateway checks it, so it must be an integer too.
//!
//! The gateway is stricter on purpose where SpacetimeDB is lenient: every repeated key at any depth is
//! refused (the first and the last value are different claims to different readers), and `null` is not
//! "absent".

use serde_json::{Map, Value};

use super::errors::{auth_error, AuthErrorCode};
use crate::error::Result;

/// One broken rule: `finding` is the diagnostics code, `message` names the member and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub finding: &'static str,
    pub message: String,
    pub fix: &'static str,
}

impl Problem {
    fn new(finding: &'static str, message: String, fix: &'static str) -> Self {
        Problem { finding, message, fix }
    }
}

/// Refuses with the first problem, as an auth error with `code`.
pub fn refuse_first(problems: Vec<Problem>, code: AuthErrorCode) -> Result<()> {
    match problems.into_iter().next() {
        Some(problem) => Err(auth_error(code, problem.message)),
        None => Ok(()),
    }
}

const JSON_FIX: &str = "serialize the header and the claims with a JSON library, never by pasting strings";

/// Repeated keys (paths as [`super::strict_json::parse`] records them) in the header and the payload.
pub fn duplicate_problems(header: &[String], payload: &[String]) -> Vec<Problem> {
    let parts = [
        (header, "DUPLICATE_HEADER_PARAM", "the header", "`alg`, `kid` or `typ`"),
        (payload, "DUPLICATE_CLAIM", "the payload", "`sub`, `iss`, `aud`, `iat`, `exp`, `nbf` or `hex_identity`"),
    ];
    parts
        .into_iter()
        .filter(|(paths, ..)| !paths.is_empty())
        .map(|(paths, finding, part, refused_upstream)| {
            let message = format!(
                "{part} repeats {}: readers disagree on which value counts (SpacetimeDB refuses a repeated {refused_upstream})",
                names(paths)
            );
            Problem::new(finding, message, JSON_FIX)
        })
        .collect()
}

fn names(paths: &[String]) -> String {
    paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
}

/// Header members RFC 7515 §4.1 defines as strings.
const STRING_HEADER_PARAMS: [&str; 6] = ["typ", "cty", "jku", "x5u", "x5t", "x5t#S256"];

/// The header beyond `alg` (which decoding already requires to be a string): `crit`, and the types of
/// the registered members.
pub fn header_problems(header: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    if header.contains_key("crit") {
        problems.push(Problem::new(
            "CRIT_UNSUPPORTED",
            "the header has `crit` (critical extensions): the gateway implements none, so it must refuse the token (SpacetimeDB ignores `crit`)".into(),
            "remove `crit` from the header",
        ));
    }
    if let Some(kid) = header.get("kid").filter(|v| !v.is_string()) {
        problems.push(Problem::new(
            "KID_INVALID",
            format!("the header's `kid` is {}, not a string", describe(kid)),
            "set `kid` to the signing key's kid (a string) or leave it out",
        ));
    }
    let mut wrong_type = |name: &str, expected: &str| {
        problems.push(Problem::new(
            "HEADER_PARAM_INVALID",
            format!("the header's `{name}` is {}, not {expected} (SpacetimeDB refuses it)", describe(&header[name])),
            "give registered header parameters their RFC 7515 types, or leave them out",
        ))
    };
    for name in STRING_HEADER_PARAMS {
        if header.get(name).is_some_and(|v| !v.is_string()) {
            wrong_type(name, "a string");
        }
    }
    if header.get("x5c").is_some_and(|v| !is_string_array(v)) {
        wrong_type("x5c", "an array of strings");
    }
    if header.get("jwk").is_some_and(|v| !v.is_object()) {
        wrong_type("jwk", "an object");
    }
    problems
}

/// `aud` as SpacetimeDB reads it: a string or an array of strings.
pub fn is_audience_shape(value: &Value) -> bool {
    value.is_string() || is_string_array(value)
}

fn is_string_array(value: &Value) -> bool {
    value.as_array().is_some_and(|items| items.iter().all(Value::is_string))
}

/// The NumericDate claims, which must be JSON integers in `i64` range.
const TIME_CLAIMS: [(&str, &str); 3] = [("iat", "IAT_INVALID"), ("exp", "EXP_INVALID"), ("nbf", "NBF_INVALID")];

/// The types of the registered claims verification reads. Presence is not checked here (each consumer
/// has its own rule for a missing claim); a present claim of the wrong type, `null` included, is.
pub fn claim_problems(payload: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (name, finding) in [("iss", "ISSUER_INVALID"), ("sub", "SUBJECT_INVALID")] {
        if let Some(value) = payload.get(name).filter(|v| !v.is_string()) {
            problems.push(Problem::new(
                finding,
                format!("`{name}` is {}, not a string: SpacetimeDB refuses it", describe(value)),
                "set `iss` and `sub` to strings",
            ));
        }
    }
    if let Some(aud) = payload.get("aud").filter(|v| !is_audience_shape(v)) {
        problems.push(Problem::new(
            "AUDIENCE_INVALID",
            format!("`aud` is {}, not a string or an array of strings: SpacetimeDB refuses it", describe(aud)),
            "set `aud` to a string (or an array of strings)",
        ));
    }
    for (name, finding) in TIME_CLAIMS {
        if let Some(value) = payload.get(name).filter(|v| v.as_i64().is_none()) {
            problems.push(Problem::new(
                finding,
                format!("`{name}` is {}, not an integer number of seconds since 1970", describe(value)),
                "write times as JSON integers (SpacetimeDB refuses `1.5`, `1e9` and strings in `iat` and `exp`)",
            ));
        }
    }
    problems
}

/// A JSON value named for a message, strings cut short (they come from the token).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("the string {:?}…", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings(problems: Vec<Problem>) -> Vec<&'static str> {
        problems.into_iter().map(|p| p.finding).collect()
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_well_formed_token_has_no_problem() {
        let header = map(json!({ "alg": "ES256", "kid": "k", "typ": "JWT", "x5c": ["a"], "jwk": {} }));
        assert!(header_problems(&header).is_empty());
        for aud in [json!("a"), json!(["a", "b"]), json!([])] {
            let payload = map(json!({ "iss": "i", "sub": "s", "aud": aud, "iat": 1, "exp": -1, "nbf": 0, "x": [1.5] }));
            assert!(claim_problems(&payload).is_empty());
        }
        assert!(duplicate_problems(&[], &[]).is_empty());
    }

    #[test]
    fn each_type_confusion_is_named() {
        for (kid, shown) in [(json!(1), "the number 1"), (json!(null), "null"), (json!(["k"]), "an array")] {
            let problems = header_problems(&map(json!({ "alg": "ES256", "kid": kid })));
            assert_eq!(problems[0].finding, "KID_INVALID");
            assert!(problems[0].message.contains(shown), "{}", problems[0].message);
        }
        let header = map(json!({ "alg": "ES256", "typ": 1, "x5c": "a", "jwk": "k", "crit": ["exp"] }));
        assert_eq!(
            findings(header_problems(&header)),
            ["CRIT_UNSUPPORTED", "HEADER_PARAM_INVALID", "HEADER_PARAM_INVALID", "HEADER_PARAM_INVALID"]
        );
        let payload = map(json!({ "iss": 1, "sub": null, "aud": ["a", 5], "iat": "1", "exp": 1.5, "nbf": 1e9 }));
        assert_eq!(
            findings(claim_problems(&payload)),
            ["ISSUER_INVALID", "SUBJECT_INVALID", "AUDIENCE_INVALID", "IAT_INVALID", "EXP_INVALID", "NBF_INVALID"]
        );
        assert!(claim_problems(&map(json!({ "exp": u64::MAX })))[0].message.contains("18446744073709551615"));
        assert!(claim_problems(&map(json!({ "sub": "x".repeat(100) }))).is_empty());
        assert!(claim_problems(&map(json!({ "sub": 5, "iat": "y".repeat(100) })))[1]
            .message
            .ends_with("…, not an integer number of seconds since 1970"));
    }

    #[test]
    fn duplicates_are_named_per_part() {
        let problems = duplicate_problems(&["kid".into()], &["sub".into(), "act.sub".into()]);
        assert_eq!(findings(problems.clone()), ["DUPLICATE_HEADER_PARAM", "DUPLICATE_CLAIM"]);
        assert!(problems[0].message.contains("repeats `kid`"));
        assert!(problems[1].message.contains("repeats `sub`, `act.sub`"));
        let err = refuse_first(problems, AuthErrorCode::TokenMalformed).unwrap_err();
        assert!(err.to_string().starts_with("TOKEN_MALFORMED: the header repeats `kid`"), "{err}");
    }
}
