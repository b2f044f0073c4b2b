//! Compact JWS (RFC 7515) as JWTs use it: `base64url(header).base64url(payload).base64url(signature)`.
//!
//! Decoding never trusts the token: size, segment count, alphabet, JSON shape, repeated JSON keys and
//! `alg` presence are checked, and each failure is a `TOKEN_MALFORMED` error that says which part is
//! wrong.

use serde_json::{Map, Value};

use super::b64;
use super::errors::{auth_error, AuthErrorCode};
use super::keys::SigningKey;
use super::strict_json;
use super::token_rules::{duplicate_problems, refuse_first};
use crate::error::{GatewayError, Result};

/// Longest token accepted. SpacetimeDB access tokens are well under 2 KB; the bound keeps hostile
/// input from costing base64/JSON work.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A token split and decoded, not verified.
#[derive(Debug)]
pub struct DecodedJwt<'a> {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    /// The header's `alg`.
    pub alg: String,
    /// `header.payload` exactly as received: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

impl DecodedJwt<'_> {
    /// The header's `kid`, when it is a string (verification refuses any other `kid` first).
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

fn malformed(message: impl Into<String>) -> GatewayError {
    auth_error(AuthErrorCode::TokenMalformed, message)
}

/// Why `token` is not a compact JWT at all (`None` if its outer shape is fine). Also used by the
/// diagnostics to tell an opaque access token from a broken JWT.
pub fn shape_problem(token: &str) -> Option<String> {
    if token.is_empty() {
        return Some("the token is empty".into());
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Some(format!("the token is {} bytes; more than the {MAX_TOKEN_BYTES} accepted", token.len()));
    }
    if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
        return Some("the token starts with `Bearer `: pass the token alone, without the Authorization scheme".into());
    }
    if token.chars().any(|c| c.is_whitespace()) {
        return Some("the token contains whitespace".into());
    }
    match token.bytes().filter(|&b| b == b'.').count() {
        2 => None,
        0 => Some("the token has no `.`: it is an opaque token, not a JWT".into()),
        4 => Some(
            "the token has 5 segments: an encrypted JWT (JWE) is not supported; SpacetimeDB needs a signed JWT".into(),
        ),
        dots => Some(format!("the token has {} segments; a JWT has 3 (header.payload.signature)", dots + 1)),
    }
}

/// Keys that a token's JSON has more than once (paths such as `sub` or `act.sub`), which [`parse`]
/// resolves as serde_json does (the last wins) and [`decode`] refuses.
#[derive(Debug, Default)]
pub struct RepeatedKeys {
    pub header: Vec<String>,
    pub payload: Vec<String>,
}

fn json_object(segment: &str, name: &str) -> Result<(Map<String, Value>, Vec<String>)> {
    let bytes = b64::decode(segment).ok_or_else(|| malformed(format!("the {name} segment is not base64url")))?;
    match strict_json::parse(&bytes) {
        Ok((Value::Object(map), repeated)) => Ok((map, repeated)),
        Ok(_) => Err(malformed(format!("the {name} is JSON but not an object"))),
        Err(e) => Err(malformed(format!("the {name} is not JSON: {e}"))),
    }
}

/// Splits and decodes a compact JWT without checking its signature; refuses repeated JSON keys.
pub fn decode(token: &str) -> Result<DecodedJwt<'_>> {
    let (jwt, repeated) = parse(token)?;
    refuse_first(duplicate_problems(&repeated.header, &repeated.payload), AuthErrorCode::TokenMalformed)?;
    Ok(jwt)
}

/// [`decode`] that reports repeated keys instead of refusing them (for the diagnostics, which name
/// every problem of a token).
pub fn parse(token: &str) -> Result<(DecodedJwt<'_>, RepeatedKeys)> {
    if let Some(problem) = shape_problem(token) {
        return Err(malformed(problem));
    }
    let mut parts = token.splitn(3, '.');
    let (header_b64, payload_b64, signature_b64) = match (parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s)) => (h, p, s),
        _ => return Err(malformed("the token does not have 3 segments")),
    };
    let (header, header_repeats) = json_object(header_b64, "header")?;
    let (payload, payload_repeats) = json_object(payload_b64, "payload")?;
    let signature = b64::decode(signature_b64).ok_or_else(|| malformed("the signature segment is not base64url"))?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        Some(_) => return Err(malformed("the header's `alg` is not a string")),
        None => return Err(malformed("the header has no `alg`")),
    };
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    let repeated = RepeatedKeys { header: header_repeats, payload: payload_repeats };
    Ok((DecodedJwt { header, payload, alg, signing_input, signature }, repeated))
}

/// Signs `payload` with `key` and returns the compact token.
pub fn sign(key: &SigningKey, payload: &Map<String, Value>) -> Result<String> {
    let payload_json = serde_json::to_vec(payload)
        .map_err(|e| auth_error(AuthErrorCode::ClaimInvalid, format!("the claims cannot be serialized: {e}")))?;
    let mut token = String::with_capacity(key.header_b64().len() + payload_json.len() * 4 / 3 + 360);
    token.push_str(key.header_b64());
    token.push('.');
    token.push_str(&b64::encode(&payload_json));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::errors::auth_code;

    fn code_of(token: &str) -> (AuthErrorCode, String) {
        let err = decode(token).unwrap_err();
        (auth_code(&err).unwrap(), err.message)
    }

    fn seg(json: &str) -> String {
        b64::encode(json)
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let token =
            format!("{}.{}.{}", seg(r#"{"alg":"ES256","kid":"k"}"#), seg(r#"{"sub":"a"}"#), b64::encode([1, 2]));
        let jwt = decode(&token).unwrap();
        assert_eq!(jwt.alg, "ES256");
        assert_eq!(jwt.kid(), Some("k"));
        assert_eq!(jwt.payload["sub"], "a");
        assert_eq!(jwt.signature, vec![1, 2]);
        assert_eq!(jwt.signing_input, &token[..token.rfind('.').unwrap()]);
    }

    #[test]
    fn malformed_input_is_a_coded_error_never_a_panic() {
        let h = seg(r#"{"alg":"ES256"}"#);
        let p = seg(r#"{"sub":"a"}"#);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            ("abc".into(), "opaque"),
            ("a.b".into(), "2 segments"),
            ("a.b.c.d.e".into(), "JWE"),
            ("a.b.c.d".into(), "4 segments"),
            (format!("Bearer {h}.{p}.AA"), "Bearer"),
            (format!("{h}.{p}.AA\n"), "whitespace"),
            (format!("{}.{p}.AA", "x".repeat(MAX_TOKEN_BYTES)), "bytes"),
            (format!("!!.{p}.AA"), "header segment is not base64url"),
            (format!("{}.{p}.AA", seg("not json")), "header is not JSON"),
            (format!("{}.{p}.AA", seg("[1]")), "not an object"),
            (format!("{h}.{}.AA", seg("{")), "payload is not JSON"),
            (format!("{h}.{p}.A+A"), "signature segment"),
            (format!("{}.{p}.AA", seg("{}")), "no `alg`"),
            (format!("{}.{p}.AA", seg(r#"{"alg":5}"#)), "not a string"),
            (format!("{h}.{p}.A"), "signature segment"),
            (format!("{h}={p}.AA"), "2 segments"),
            (format!("{}.{p}.AA", b64::encode([0xff, 0xfe, 0x00])), "header is not JSON"),
            (format!("{}.{p}.AA", seg(r#"{"alg":"ES256","alg":"none"}"#)), "header repeats `alg`"),
            (format!("{h}.{}.AA", seg(r#"{"sub":"a","sub":"b"}"#)), "payload repeats `sub`"),
        ];
        for (token, expected) in cases {
            let (code, message) = code_of(&token);
            assert_eq!(code, AuthErrorCode::TokenMalformed, "{token}");
            assert!(message.contains(expected), "{message:?} should mention {expected:?}");
        }
    }

    #[test]
    fn parse_reports_repeated_keys_that_decode_refuses() {
        let token =
            format!("{}.{}.AA", seg(r#"{"alg":"ES256","kid":"a","kid":"b"}"#), seg(r#"{"act":{"sub":"a","sub":"b"}}"#));
        let (jwt, repeated) = parse(&token).unwrap();
        assert_eq!((repeated.header, repeated.payload), (vec!["kid".to_string()], vec!["act.sub".to_string()]));
        assert_eq!(jwt.kid(), Some("b"));
        assert!(code_of(&token).1.contains("repeats `kid`"));
    }

    #[test]
    fn deeply_nested_json_is_refused_not_overflowed() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
        let token = format!("{}.{}.AA", seg(r#"{"alg":"ES256"}"#), seg(&deep));
        assert_eq!(code_of(&token).0, AuthErrorCode::TokenMalformed);
    }
}
