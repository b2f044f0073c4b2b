//! What the per-user path needs to know about a user's token before using it.
//!
//! The pool keys connections by the token's `(iss, sub)` — the pair SpacetimeDB derives the Identity
//! from — read **without** verification. Reading is not trusting: a pooled connection carries a call only
//! if the call's token is the exact string the connection was opened with (SpacetimeDB verified that one)
//! or a token the gateway's own verifier accepted ([`VerifiedTokens`]). Token text never appears in an
//! error message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::auth::broker::TokenBroker;
use crate::auth::jwt;
use crate::auth::trusted_issuers::AnyVerifier;
use crate::error::{ErrorCode, GatewayError, Result};

/// Seconds of `exp` leeway SpacetimeDB grants when it checks a token (protocol doc §5.1): the gateway
/// refuses a reused token exactly when the server would refuse it on a new connection.
pub const SERVER_EXP_LEEWAY_SECONDS: u64 = 60;

/// The identity key of a user's connection: SpacetimeDB's Identity is a function of exactly these two.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// `iss`, verbatim (a trailing `/` is another identity).
    pub issuer: Box<str>,
    /// `sub`: the app's stable actor id.
    pub subject: Box<str>,
}

/// What the pool reads from a token (unverified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFacts {
    /// `(iss, sub)`.
    pub key: PoolKey,
    /// `exp`, seconds since the epoch, when the token has one.
    pub exp: Option<u64>,
    /// `act.sub` of a delegated token (someone acting for `sub`); `"someone"` for an `act` without one.
    pub act: Option<Box<str>>,
}

fn not_usable(why: &str) -> GatewayError {
    GatewayError::invalid_argument(format!("opts.token is not a SpacetimeDB access token: {why}"))
}

/// Reads `iss`, `sub`, `exp` and `act.sub` from a token without verifying it.
pub fn read_token(token: &str) -> Result<TokenFacts> {
    let decoded = jwt::decode(token).map_err(|e| not_usable(&e.message))?;
    let claim = |name: &str| match decoded.payload.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Box::<str>::from(s.as_str())),
        _ => Err(not_usable(&format!("it has no `{name}` string (SpacetimeDB requires `iss` and `sub`)"))),
    };
    let key = PoolKey { issuer: claim("iss")?, subject: claim("sub")? };
    let act = decoded.payload.get("act").map(|act| act.get("sub").and_then(Value::as_str).unwrap_or("someone").into());
    Ok(TokenFacts { key, exp: exp_of(&decoded.payload), act })
}

/// Refuses a delegated token (an `act` claim: an API key's robot or an impersonating admin acting for
/// `sub`) on a per-user call, unless the app accepted that such calls run as `sub`: SpacetimeDB derives
/// the caller's Identity from `iss` and `sub` alone, and a 1.3 module cannot read `act`, so the module
/// would see the user and nobody else. Such calls belong on the service connection, with the verified
/// `{ sub, act }` as the reducer's actor (docs/machine-actors.md).
pub fn check_delegation(facts: &TokenFacts, as_subject: bool) -> Result<()> {
    match &facts.act {
        Some(act) if !as_subject => Err(GatewayError::invalid_argument(format!(
            "opts.token has an `act` claim ({act} acting for {}): SpacetimeDB derives the caller from `iss` and \
             `sub` only, so a per-user call would run as {} itself; call through the service connection with \
             opts.actor set to the verified {{ sub, act }} instead, or accept that with userCalls.delegatedTokens: \
             'as-subject' (docs/machine-actors.md)",
            facts.key.subject, facts.key.subject
        ))),
        _ => Ok(()),
    }
}

fn exp_of(payload: &Map<String, Value>) -> Option<u64> {
    payload.get("exp").and_then(Value::as_f64).filter(|e| e.is_finite() && *e > 0.0).map(|e| e as u64)
}

/// Refuses a token SpacetimeDB would refuse on a new connection because it expired.
pub fn check_not_expired(facts: &TokenFacts, now: u64) -> Result<()> {
    match facts.exp {
        Some(exp) if exp + SERVER_EXP_LEEWAY_SECONDS < now => Err(GatewayError::new(
            ErrorCode::Unauthorized,
            format!("the user token (sub {}) expired {} s ago; mint a fresh one", facts.key.subject, now - exp),
        )),
        _ => Ok(()),
    }
}

/// The verifier a gateway checks user tokens with before using them (`userCalls.verifier`).
#[derive(Clone)]
pub enum CallVerifier {
    /// The app's own broker: its keys, issuer and audience (synchronous).
    Broker(Arc<TokenBroker>),
    /// A configured verifier (in-memory or remote JWKS; one issuer or several).
    Verifier(AnyVerifier),
}

impl CallVerifier {
    /// Verifies `token`; returns its `exp`.
    async fn verify(&self, token: &str, now: u64) -> Result<Option<u64>> {
        let payload = match self {
            CallVerifier::Broker(broker) => broker.verify_at(token, now)?,
            CallVerifier::Verifier(verifier) => verifier.verify(token, now).await?,
        };
        Ok(exp_of(&payload))
    }
}

/// Most tokens remembered as verified; beyond it, expired entries are dropped, then everything (a
/// re-verification costs tens of µs, a cache without a bound costs memory under token churn).
const MAX_REMEMBERED: usize = 4096;

/// Tokens the verifier accepted, remembered (by SHA-256, not by text) until their `exp`.
pub struct VerifiedTokens {
    verifier: CallVerifier,
    accepted: Mutex<HashMap<[u8; 32], u64>>,
}

fn fingerprint(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().try_into().expect("SHA-256 digests are 32 bytes")
}

impl VerifiedTokens {
    /// Checks tokens with `verifier`; nothing remembered yet.
    pub fn new(verifier: CallVerifier) -> Self {
        VerifiedTokens { verifier, accepted: Mutex::new(HashMap::new()) }
    }

    /// Succeeds if `token` verifies (now, or earlier and it has not expired since); otherwise the
    /// verifier's error (`TOKEN_EXPIRED`, `TOKEN_AUDIENCE`, …).
    pub async fn check(&self, token: &str, now: u64) -> Result<()> {
        let print = fingerprint(token);
        if self.accepted.lock().unwrap().get(&print).is_some_and(|&exp| exp > now) {
            return Ok(());
        }
        // The verifier rejects tokens without `exp`, so a verified token always has one.
        let exp = self.verifier.verify(token, now).await?.unwrap_or(now);
        let mut accepted = self.accepted.lock().unwrap();
        if accepted.len() >= MAX_REMEMBERED {
            accepted.retain(|_, exp| *exp > now);
            if accepted.len() >= MAX_REMEMBERED {
                accepted.clear();
            }
        }
        accepted.insert(print, exp);
        Ok(())
    }

    /// How many verified tokens are remembered (for tests).
    pub fn remembered(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::broker::BrokerOptions;
    use crate::auth::keygen::generate_key_pair;
    use crate::auth::AuthErrorCode;
    use serde_json::json;

    fn broker(audience: &str) -> TokenBroker {
        let pair = generate_key_pair(crate::auth::alg::Alg::Es256, None).unwrap();
        TokenBroker::new(BrokerOptions {
            issuer: "https://app.example.com/api/auth".into(),
            audience: vec![audience.into()],
            keys: pair.to_value(),
            ..Default::default()
        })
        .unwrap()
    }

    fn claims(sub: &str) -> Map<String, Value> {
        json!({ "sub": sub }).as_object().unwrap().clone()
    }

    #[test]
    fn reads_the_key_and_expiry_without_verifying() {
        let b = broker("spacetimedb");
        let token = b.mint_at(claims("user_1"), Some(300), 1_000).unwrap();
        let facts = read_token(&token).unwrap();
        assert_eq!(&*facts.key.issuer, "https://app.example.com/api/auth");
        assert_eq!(&*facts.key.subject, "user_1");
        assert_eq!(facts.exp, Some(1_300));
    }

    #[test]
    fn refuses_what_is_not_a_token_without_echoing_it() {
        let secretish = "abc.def";
        for bad in [secretish, "", "Bearer x.y.z"] {
            let e = read_token(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad}");
            assert!(e.message.starts_with("opts.token is not a SpacetimeDB access token"), "{}", e.message);
            assert!(bad.is_empty() || !e.message.contains(bad), "{}", e.message);
        }
        let no_sub = format!(
            "{}.{}.c2ln",
            crate::auth::b64::encode(b"{\"alg\":\"ES256\"}"),
            crate::auth::b64::encode(b"{\"iss\":\"i\"}")
        );
        assert!(read_token(&no_sub).unwrap_err().message.contains("no `sub`"));
    }

    #[test]
    fn refuses_delegated_tokens_which_would_run_as_their_subject_unless_accepted() {
        let b = broker("spacetimedb");
        let token = b.mint_delegated_at(claims("user_1"), "robot:k1", Some(300), 1_000).unwrap();
        let facts = read_token(&token).unwrap();
        assert_eq!(facts.act.as_deref(), Some("robot:k1"));
        let e = check_delegation(&facts, false).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("robot:k1 acting for user_1"), "{}", e.message);
        assert!(e.message.contains("opts.actor") && e.message.contains("'as-subject'"), "{}", e.message);
        assert!(!e.message.contains(&token), "never echoes the token");
        assert!(check_delegation(&facts, true).is_ok());
        let own = read_token(&b.mint_at(claims("user_1"), Some(300), 1_000).unwrap()).unwrap();
        assert_eq!(own.act, None);
        assert!(check_delegation(&own, false).is_ok());
    }

    #[test]
    fn expiry_is_judged_with_the_server_leeway() {
        let facts = |exp| TokenFacts { key: PoolKey { issuer: "i".into(), subject: "s".into() }, exp, act: None };
        assert!(check_not_expired(&facts(Some(1_000)), 1_060).is_ok());
        let e = check_not_expired(&facts(Some(1_000)), 1_061).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert!(e.message.contains("expired 61 s ago"), "{}", e.message);
        assert!(check_not_expired(&facts(None), u64::MAX).is_ok(), "no exp: the server's to judge");
    }

    #[tokio::test]
    async fn remembers_verified_tokens_until_they_expire() {
        let b = Arc::new(broker("spacetimedb"));
        let verified = VerifiedTokens::new(CallVerifier::Broker(b.clone()));
        let now = crate::auth::now_seconds();
        let token = b.mint_at(claims("user_1"), Some(60), now).unwrap();
        verified.check(&token, now).await.unwrap();
        assert_eq!(verified.remembered(), 1);
        verified.check(&token, now + 30).await.unwrap();
        assert_eq!(verified.remembered(), 1, "a remembered token is not verified again");
        let e = verified.check(&token, now + 61).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Auth(AuthErrorCode::TokenExpired));
    }

    /// A broker of `issuer` and a verifier entry trusting exactly its keys and audience.
    fn issuer_pair(issuer: &str) -> (TokenBroker, crate::auth::verify::Verifier) {
        use crate::auth::keyset::KeySet;
        use crate::auth::verify::{KeySource, Verifier, VerifyOptions};
        let pair = generate_key_pair(crate::auth::alg::Alg::Es256, None).unwrap();
        let options = BrokerOptions {
            issuer: issuer.into(),
            audience: vec!["spacetimedb".into()],
            keys: pair.to_value(),
            ..Default::default()
        };
        let broker = TokenBroker::new(options).unwrap();
        let keys = Arc::new(KeySet::from_jwks(&broker.jwks()).unwrap());
        let options = VerifyOptions::new(issuer, vec!["spacetimedb".into()]).unwrap();
        (broker, Verifier { options, source: KeySource::Local(keys) })
    }

    #[tokio::test]
    async fn a_verifier_of_two_issuers_takes_both_and_refuses_a_third_by_name() {
        use crate::auth::trusted_issuers::{AnyVerifier, TrustedIssuers};
        let (old, old_entry) = issuer_pair("https://sso.example.com/realms/acme");
        let (new, new_entry) = issuer_pair("https://app.example.com/spacetime");
        let (third, _) = issuer_pair("https://login.example.org/tenant/v2.0");
        let trusted = TrustedIssuers::new(vec![old_entry, new_entry]).unwrap();
        let verified = VerifiedTokens::new(CallVerifier::Verifier(AnyVerifier::Trusted(Arc::new(trusted))));
        let now = crate::auth::now_seconds();
        verified.check(&old.mint_at(claims("user_1"), Some(60), now).unwrap(), now).await.unwrap();
        verified.check(&new.mint_at(claims("user_1"), Some(60), now).unwrap(), now).await.unwrap();
        assert_eq!(verified.remembered(), 2);
        let e = verified.check(&third.mint_at(claims("user_1"), Some(60), now).unwrap(), now).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Auth(AuthErrorCode::TokenIssuerUntrusted));
        assert!(e.message.contains("`https://login.example.org/tenant/v2.0` is not trusted"), "{}", e.message);
        assert_eq!(verified.remembered(), 2);
    }

    #[tokio::test]
    async fn refuses_tokens_the_verifier_refuses() {
        let ours = Arc::new(broker("spacetimedb"));
        let verified = VerifiedTokens::new(CallVerifier::Broker(ours));
        let now = crate::auth::now_seconds();
        let other_audience = broker("elsewhere").mint_at(claims("user_1"), Some(60), now).unwrap();
        let e = verified.check(&other_audience, now).await.unwrap_err();
        // Another broker's key under the same issuer: the signature (or kid) does not verify.
        assert!(matches!(e.code, ErrorCode::Auth(_)), "{e}");
        assert_eq!(verified.remembered(), 0);
    }
}
