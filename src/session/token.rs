//! Where a session's SpacetimeDB token comes from, and when it must be replaced.
//!
//! SpacetimeDB checks a token only when a connection opens (protocol doc §5.1, §6): a connection keeps
//! its identity after the token expires, but a *new* connection (a reconnect) needs a valid token. A
//! session therefore refreshes ahead of expiry by opening a new connection with a fresh token and
//! swapping to it once it is live (see `session`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures_util::future::BoxFuture;

use crate::error::{ErrorCode, GatewayError, Result};

/// Supplies fresh tokens (the JS `token` option given as a function).
pub trait TokenProvider: Send + Sync {
    fn token(&self) -> BoxFuture<'static, Result<String>>;
}

/// A token from `provider`, or `TIMEOUT` if it does not settle within `timeout`: the provider is the
/// app's code (it may hang on its own auth backend), and a connect or reconnect must not wait forever.
pub async fn token_within(provider: &dyn TokenProvider, timeout: Duration) -> Result<String> {
    tokio::time::timeout(timeout, provider.token()).await.unwrap_or_else(|_| {
        Err(GatewayError::new(
            ErrorCode::Timeout,
            format!("the token function did not settle within {} ms", timeout.as_millis()),
        ))
    })
}

/// The token of a session.
#[derive(Clone)]
pub enum TokenSource {
    /// No token: the server mints an anonymous identity on the first connect, and the session reuses
    /// that identity's token on reconnects (so the identity stays the same).
    Anonymous,
    /// One fixed token.
    Fixed(String),
    /// A function called before every connect.
    Provider(Arc<dyn TokenProvider>),
}

/// When in a token's lifetime to replace it: at 80 %, leaving a fifth of it to connect and swap.
const REFRESH_AT: f64 = 0.8;
/// Never refresh more often than this, whatever the token says.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Reads `iat` and `exp` (seconds since the epoch) from a JWT without verifying it.
pub fn token_lifetime(token: &str) -> Option<(Option<u64>, u64)> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64().filter(|v| *v > 0.0)? as u64;
    let iat = claims.get("iat").and_then(|v| v.as_f64()).filter(|v| *v > 0.0).map(|v| v as u64);
    Some((iat, exp))
}

/// How long from `now` until a session holding `token` should refresh it, or `None` if the token does
/// not expire (or cannot be read: then it is the server's to judge).
pub fn refresh_after(token: &str, now: SystemTime) -> Option<Duration> {
    let (iat, exp) = token_lifetime(token)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    let start = iat.map(|i| i as f64).filter(|i| *i <= exp as f64).unwrap_or(now);
    let at = start + (exp as f64 - start) * REFRESH_AT;
    Some(Duration::from_secs_f64((at - now).max(0.0)).max(MIN_REFRESH_INTERVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(r#"{"alg":"ES256"}"#), b64(payload))
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn refreshes_at_eighty_percent_of_the_lifetime() {
        let t = jwt(r#"{"sub":"a","iat":1000,"exp":1300}"#);
        assert_eq!(token_lifetime(&t), Some((Some(1000), 1300)));
        assert_eq!(refresh_after(&t, at(1000)), Some(Duration::from_secs(240)));
        assert_eq!(refresh_after(&t, at(1200)), Some(Duration::from_secs(40)));
        assert_eq!(
            refresh_after(&t, at(1290)),
            Some(MIN_REFRESH_INTERVAL),
            "overdue: refresh soon, not in a tight loop"
        );
    }

    #[test]
    fn without_iat_the_lifetime_counts_from_now() {
        let t = jwt(r#"{"sub":"a","exp":2000}"#);
        assert_eq!(refresh_after(&t, at(1000)), Some(Duration::from_secs(800)));
    }

    #[test]
    fn tokens_without_expiry_or_unreadable_ones_are_not_refreshed() {
        assert_eq!(refresh_after(&jwt(r#"{"sub":"a","iat":5}"#), at(10)), None);
        for bad in ["", "x", "a.b.c", "a.!!!.c", &jwt("[]"), &jwt(r#"{"exp":"soon"}"#), &jwt(r#"{"exp":-5}"#)] {
            assert_eq!(refresh_after(bad, at(10)), None, "{bad}");
        }
    }
}
