//! The access-token claim contract (DESIGN.md "Access-token claims") as checks on what `mint` is given.
//!
//! The caller supplies who and what (`sub`, `tenant_id`, `sid`, `actor_ref`, `scope`/`perms`,
//! `membership_version`, `azp`, `act`, extra claims); the broker alone sets `iss`, `aud`, `iat`, `exp`
//! and `token_type`, so those are refused as input.

use serde_json::{Map, Value};

use super::errors::{auth_error, AuthErrorCode};
use super::issuer::MAX_CLAIM_BYTES;
use crate::error::{GatewayError, Result};

/// The `token_type` every minted token carries: it is a SpacetimeDB access token, not a web session.
pub const TOKEN_TYPE: &str = "spacetime-access";

/// Claims only the broker sets. `hex_identity` is here because SpacetimeDB rejects a token whose
/// `hex_identity` differs from the derived Identity.
pub const RESERVED_CLAIMS: [&str; 7] = ["iss", "aud", "iat", "exp", "nbf", "token_type", "hex_identity"];

/// Largest serialized claim set: tokens travel in headers and query strings.
pub const MAX_CLAIMS_BYTES: usize = 8 * 1024;

fn invalid(message: impl Into<String>) -> GatewayError {
    auth_error(AuthErrorCode::ClaimInvalid, message)
}

/// The audiences a payload names (`aud` is a string or an array of strings).
pub fn audiences(payload: &Map<String, Value>) -> Vec<&str> {
    match payload.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Looks like an e-mail address: `local@domain.tld`, no spaces. Catches `sub = user.email`, whose
/// Identity would change when the user changes address.
pub fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !value.contains(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

/// Checks a subject: non-empty, no surrounding spaces, at most 128 bytes (SpacetimeDB's limit), and not
/// an e-mail address unless allowed.
pub fn check_subject(sub: &str, allow_email: bool) -> Result<()> {
    if sub.is_empty() {
        return Err(invalid("`sub` is empty; it must be a stable actor id (e.g. the user id)"));
    }
    if sub.trim() != sub {
        return Err(invalid(format!("`sub` {sub:?} has leading or trailing spaces (the Identity would differ)")));
    }
    if sub.len() > MAX_CLAIM_BYTES {
        return Err(invalid(format!("`sub` is {} bytes; SpacetimeDB accepts at most {MAX_CLAIM_BYTES}", sub.len())));
    }
    if !allow_email && looks_like_email(sub) {
        return Err(invalid(format!(
            "`sub` {sub:?} is an e-mail address; use the stable user id (an address can change, and the \
             SpacetimeDB Identity with it) or set allowEmailSubject"
        )));
    }
    Ok(())
}

fn non_empty_string<'a>(name: &str, value: &'a Value) -> Result<&'a str> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::String(_) => Err(invalid(format!("`{name}` is empty"))),
        _ => Err(invalid(format!("`{name}` must be a string"))),
    }
}

/// Validates the caller's claims in place: drops `null` members (JS `undefined`), refuses reserved
/// claims, and checks the types of the contract's claims. Extra claims pass through untouched.
pub fn check_claims(claims: &mut Map<String, Value>, allow_email: bool) -> Result<()> {
    claims.retain(|_, v| !v.is_null());
    for name in RESERVED_CLAIMS {
        if claims.contains_key(name) {
            return Err(invalid(format!("`{name}` is set by the broker; remove it from the claims")));
        }
    }
    let sub = claims.get("sub").ok_or_else(|| invalid("`sub` is required"))?;
    check_subject(non_empty_string("sub", sub)?, allow_email)?;
    for name in ["tenant_id", "sid", "actor_ref", "azp", "jti"] {
        if let Some(value) = claims.get(name) {
            non_empty_string(name, value)?;
        }
    }
    if let Some(scope) = claims.get("scope") {
        if !scope.is_string() {
            return Err(invalid("`scope` must be a space-separated string (use `perms` for a list)"));
        }
    }
    if let Some(perms) = claims.get("perms") {
        let all_strings = perms.as_array().is_some_and(|items| items.iter().all(Value::is_string));
        if !all_strings {
            return Err(invalid("`perms` must be an array of strings"));
        }
    }
    if let Some(version) = claims.get("membership_version") {
        if version.as_u64().is_none() {
            return Err(invalid("`membership_version` must be a non-negative integer"));
        }
    }
    if let Some(act) = claims.get("act") {
        let actor = act.as_object().and_then(|o| o.get("sub"));
        match actor {
            Some(sub) => check_subject(non_empty_string("act.sub", sub)?, true)?,
            None => return Err(invalid("`act` must be an object with the acting party's `sub`")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::errors::auth_code;
    use serde_json::json;

    fn check(value: Value) -> Result<Map<String, Value>> {
        let mut map = value.as_object().unwrap().clone();
        check_claims(&mut map, false).map(|_| map)
    }

    fn refused(value: Value, needle: &str) {
        let err = check(value).unwrap_err();
        assert_eq!(auth_code(&err), Some(AuthErrorCode::ClaimInvalid));
        assert!(err.message.contains(needle), "{:?} should mention {needle:?}", err.message);
    }

    #[test]
    fn accepts_the_contract_claims() {
        let claims = check(json!({
            "sub": "user_1", "tenant_id": "t1", "sid": "s1", "actor_ref": "a", "scope": "read write",
            "perms": ["doc.read"], "membership_version": 3, "azp": "web", "act": {"sub": "robot:ci"},
            "extra": {"any": [1, 2]}, "dropped": null,
        }))
        .unwrap();
        assert!(!claims.contains_key("dropped"));
        assert_eq!(claims["extra"]["any"][1], 2);
    }

    #[test]
    fn refuses_what_breaks_the_contract() {
        refused(json!({}), "`sub` is required");
        refused(json!({"sub": ""}), "empty");
        refused(json!({"sub": 5}), "must be a string");
        refused(json!({"sub": " a"}), "spaces");
        refused(json!({"sub": "x".repeat(129)}), "at most 128");
        refused(json!({"sub": "ada@example.com"}), "e-mail");
        for reserved in RESERVED_CLAIMS {
            let mut claims = json!({"sub": "u"});
            claims[reserved] = json!(1);
            refused(claims, "set by the broker");
        }
        refused(json!({"sub": "u", "tenant_id": ""}), "`tenant_id` is empty");
        refused(json!({"sub": "u", "scope": ["a"]}), "space-separated");
        refused(json!({"sub": "u", "perms": "a"}), "array of strings");
        refused(json!({"sub": "u", "perms": [1]}), "array of strings");
        refused(json!({"sub": "u", "membership_version": -1}), "non-negative integer");
        refused(json!({"sub": "u", "membership_version": 1.5}), "non-negative integer");
        refused(json!({"sub": "u", "act": "robot:x"}), "`act`");
    }

    #[test]
    fn e_mail_subjects_are_allowed_when_asked_and_only_real_addresses_are_caught() {
        check_subject("ada@example.com", true).unwrap();
        for not_email in ["robot:ci", "user@tenant", "a@b", "@example.com", "user_42"] {
            assert!(!looks_like_email(not_email), "{not_email}");
        }
        assert!(looks_like_email("first.last+tag@mail.example.co.uk"));
    }
}
