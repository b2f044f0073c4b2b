//! Per-user calls: `callReducer(name, args, { token })` runs the reducer *as the token's holder*, over
//! the per-user pool or the HTTP call route (`userCalls.via`, overridable per call). Before a token is
//! used, the gateway checks what it can: with a configured verifier (`userCalls.verifier`), the token
//! must verify (signature, issuer, audience, expiry — SpacetimeDB never checks `aud`); without one, it
//! must at least not be expired, and a pooled connection carries it only if it is the very string the
//! connection was opened with.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http_call::{HttpCaller, HttpOutcome};
use super::pool::{PoolOptions, UserPool};
use super::pool_state::PoolStats;
use super::sats_json::SatsArgs;
use super::session_pool::SessionConnector;
use super::token_check::{check_delegation, check_not_expired, read_token, CallVerifier, VerifiedTokens};
use crate::auth::now_seconds;
use crate::codec::schema::Schema;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::session::websocket::ConnectParams;
use crate::session::CallOutcome;

/// How per-user calls reach SpacetimeDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserRoute {
    /// A pooled websocket connection per user.
    Pool,
    /// One HTTP request per call.
    Http,
}

impl UserRoute {
    /// Reads `'pool'` or `'http'`.
    pub fn parse(value: &str) -> Result<UserRoute> {
        match value {
            "pool" => Ok(UserRoute::Pool),
            "http" => Ok(UserRoute::Http),
            _ => Err(GatewayError::invalid_argument(format!("via must be 'pool' or 'http', got '{value}'"))),
        }
    }

    /// The JS name of the route.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRoute::Pool => "pool",
            UserRoute::Http => "http",
        }
    }
}

/// `userCalls` of `Gateway.connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserCallOptions {
    /// The default route (`pool`).
    pub via: UserRoute,
    /// The per-user pool's limits.
    pub pool: PoolOptions,
    /// Delegated tokens (with `act`) may run as their `sub` (`userCalls.delegatedTokens: 'as-subject'`);
    /// by default they are refused (see `token_check::check_delegation`).
    pub delegated_as_subject: bool,
}

impl Default for UserCallOptions {
    fn default() -> Self {
        UserCallOptions { via: UserRoute::Pool, pool: PoolOptions::default(), delegated_as_subject: false }
    }
}

/// The result of a committed per-user call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserCallOutcome {
    /// Over a pooled connection: what the server reported for the transaction.
    Pool(CallOutcome),
    /// Over HTTP: only what the response headers tell.
    Http(HttpOutcome),
}

/// The per-user calls of one gateway.
pub struct UserCalls {
    via: UserRoute,
    delegated_as_subject: bool,
    pool: UserPool<SessionConnector>,
    http: HttpCaller,
    verified: Mutex<Option<Arc<VerifiedTokens>>>,
    /// Set by `close`: the HTTP route holds nothing to close, but must refuse calls too.
    closed: AtomicBool,
}

impl UserCalls {
    /// `connect` and `schema` are the gateway's; `schema_json` is the schema text it was read from (the
    /// HTTP route needs SpacetimeDB's own types of the reducer parameters). Call inside a tokio runtime.
    pub fn new(
        options: UserCallOptions,
        connect: &ConnectParams,
        schema: Arc<Schema>,
        schema_json: &str,
    ) -> Result<Self> {
        let http = HttpCaller::new(
            connect.address.clone(),
            connect.database.clone(),
            SatsArgs::from_schema_json(schema_json)?,
        );
        Ok(UserCalls {
            via: options.via,
            delegated_as_subject: options.delegated_as_subject,
            pool: UserPool::new(SessionConnector::new(connect, schema), options.pool),
            http,
            verified: Mutex::new(None),
            closed: AtomicBool::new(false),
        })
    }

    /// From now on, every user token must verify with `verifier` before it is used.
    pub fn set_verifier(&self, verifier: CallVerifier) {
        *self.verified.lock().unwrap() = Some(Arc::new(VerifiedTokens::new(verifier)));
    }

    /// Calls `reducer` (BSATN `args`) as the holder of `token`, on `via` or the default route.
    pub async fn call(
        &self,
        token: &str,
        via: Option<UserRoute>,
        reducer: &str,
        args: Vec<u8>,
        timeout: Duration,
    ) -> Result<UserCallOutcome> {
        if self.closed.load(Ordering::Acquire) {
            return Err(GatewayError::new(ErrorCode::Closed, "the gateway is closed; the per-user call was not sent"));
        }
        let facts = read_token(token)?;
        check_delegation(&facts, self.delegated_as_subject)?;
        let verified = self.verified.lock().unwrap().clone();
        let token_verified = match verified {
            Some(verified) => {
                verified.check(token, now_seconds()).await?;
                true
            }
            None => {
                check_not_expired(&facts, now_seconds())?;
                false
            }
        };
        match via.unwrap_or(self.via) {
            UserRoute::Pool => self
                .pool
                .call(&facts.key, token, token_verified, reducer, args, timeout)
                .await
                .map(UserCallOutcome::Pool),
            UserRoute::Http => self.http.call(token, reducer, &args, timeout).await.map(UserCallOutcome::Http),
        }
    }

    /// The per-user pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Closes every pooled connection (calls in flight get up to `drain`).
    pub async fn close(&self, drain: Duration) {
        self.closed.store(true, Ordering::Release);
        self.pool.close(drain).await;
    }
}
