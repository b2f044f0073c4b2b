//! JS bindings of actor attribution (`crate::actors`): the `userCalls` connect options, the per-call
//! route (`actor`, `token`, `via`), the verifier hook and `poolStats()`. Conversion and validation only.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::auth::{NativeTokenBroker, NativeTokenVerifier};
use super::gateway::NativeGateway;
use super::to_napi_error;
use crate::actors::token_check::CallVerifier;
use crate::actors::{PoolOptions, UserCallOptions, UserCallOutcome, UserRoute};
use crate::codec::value::format_timestamp;
use crate::error::GatewayError;
use crate::session::CallOutcome;

/// Largest `maxConnections` accepted: beyond it, file descriptors and server limits bite long before.
const MAX_POOL_CONNECTIONS: f64 = 100_000.0;

/// `userCalls` of `Gateway.connect`: how calls with a user's token reach SpacetimeDB.
#[napi(object)]
pub struct NativeUserCallsOptions {
    /// 'pool' (default) or 'http'.
    pub via: Option<String>,
    /// Most pooled sockets at once (default 100).
    pub max_connections: Option<f64>,
    /// A pooled connection without calls for this long closes (default 60 000 ms).
    pub idle_timeout_ms: Option<f64>,
}

/// Who a call acts as: `actor` fills the reducer's `actor` parameter; `token` runs the call as the
/// token's holder (per-user), over `via` (default: `userCalls.via`).
#[napi(object)]
pub struct NativeCallRoute {
    pub actor: Option<String>,
    pub token: Option<String>,
    pub via: Option<String>,
}

/// `gateway.poolStats()`.
#[napi(object)]
pub struct PoolStats {
    /// Sockets held: open, being opened or being closed.
    pub connections: u32,
    /// Open connections with a call in flight.
    pub busy: u32,
    /// Open connections without one.
    pub idle: u32,
    /// Connections closed for room or after the idle timeout, since connect.
    pub evicted: f64,
    /// Connections opened since connect.
    pub opened: f64,
}

/// The result of a committed reducer call.
#[napi(object)]
pub struct CallResult {
    /// Always 'committed' (failures reject).
    pub status: String,
    /// Which connection carried the call.
    #[napi(ts_type = "'service' | 'pool' | 'http'")]
    pub via: String,
    /// When the reducer started (RFC 3339, microseconds); absent over HTTP.
    pub timestamp: Option<String>,
    /// The request id the call used on its connection; absent over HTTP.
    pub request_id: Option<u32>,
    /// Energy used, as a decimal string (a u128).
    pub energy_used: Option<String>,
    /// How long the reducer ran, in microseconds.
    pub duration_micros: Option<f64>,
}

impl CallResult {
    /// The result of a call over a websocket connection (`via`: 'service' or 'pool').
    pub(crate) fn of_connection(via: &str, outcome: CallOutcome) -> CallResult {
        CallResult {
            status: "committed".into(),
            via: via.into(),
            timestamp: Some(format_timestamp(outcome.timestamp_micros)),
            request_id: Some(outcome.request_id),
            energy_used: Some(outcome.energy_quanta_used.to_string()),
            duration_micros: Some(outcome.duration_micros as f64),
        }
    }

    pub(crate) fn of_user_call(outcome: UserCallOutcome) -> CallResult {
        match outcome {
            UserCallOutcome::Pool(outcome) => CallResult::of_connection(UserRoute::Pool.as_str(), outcome),
            UserCallOutcome::Http(outcome) => CallResult {
                status: "committed".into(),
                via: UserRoute::Http.as_str().into(),
                timestamp: None,
                request_id: None,
                energy_used: outcome.energy_used,
                duration_micros: outcome.duration_micros.map(|d| d as f64),
            },
        }
    }
}

fn invalid(message: String) -> napi::Error {
    to_napi_error(GatewayError::invalid_argument(message))
}

/// Validates `userCalls` (the JS layer checks too; this layer is not only reachable from it).
pub(crate) fn user_call_options(options: Option<NativeUserCallsOptions>) -> Result<UserCallOptions> {
    let mut out = UserCallOptions::default();
    let Some(options) = options else { return Ok(out) };
    if let Some(via) = options.via {
        out.via = UserRoute::parse(&via).map_err(|e| invalid(format!("userCalls.{}", e.message)))?;
    }
    if let Some(max) = options.max_connections {
        if !(max.fract() == 0.0 && (1.0..=MAX_POOL_CONNECTIONS).contains(&max)) {
            return Err(invalid(format!(
                "userCalls.maxConnections must be a whole number from 1 to {MAX_POOL_CONNECTIONS}, got {max}"
            )));
        }
        out.pool.max_connections = max as usize;
    }
    if let Some(ms) = options.idle_timeout_ms {
        if !(ms.is_finite() && ms > 0.0 && ms <= 2_147_483_647.0) {
            return Err(invalid(format!(
                "userCalls.idleTimeoutMs must be a positive number of milliseconds, got {ms}"
            )));
        }
        out.pool = PoolOptions { idle_timeout: Duration::from_secs_f64(ms / 1000.0), ..out.pool };
    }
    Ok(out)
}

/// A call's route, checked: `(actor, Some((token, via)))` for per-user calls.
pub(crate) struct CheckedRoute {
    pub actor: Option<String>,
    pub user: Option<(String, Option<UserRoute>)>,
}

pub(crate) fn check_route(route: Option<NativeCallRoute>) -> Result<CheckedRoute> {
    let Some(route) = route else { return Ok(CheckedRoute { actor: None, user: None }) };
    let via =
        route.via.as_deref().map(UserRoute::parse).transpose().map_err(|e| invalid(format!("opts.{}", e.message)))?;
    let user = match (route.token, via) {
        (Some(token), via) if !token.is_empty() => Some((token, via)),
        (Some(_), _) => return Err(invalid("opts.token is empty".into())),
        (None, Some(_)) => {
            return Err(invalid("opts.via applies only to calls with opts.token (per-user calls)".into()))
        }
        (None, None) => None,
    };
    Ok(CheckedRoute { actor: route.actor, user })
}

#[napi]
impl NativeGateway {
    /// The per-user pool's counters.
    #[napi]
    pub fn pool_stats(&self) -> PoolStats {
        let stats = self.user_calls().pool_stats();
        PoolStats {
            connections: stats.connections as u32,
            busy: stats.busy as u32,
            idle: stats.idle as u32,
            evicted: stats.evicted as f64,
            opened: stats.opened as f64,
        }
    }

    /// Per-user tokens must verify with this broker (its keys, issuer, audience) before they are used.
    #[napi]
    pub fn set_user_call_broker(&self, broker: &NativeTokenBroker) {
        self.user_calls().set_verifier(CallVerifier::Broker(broker.inner.clone()));
    }

    /// Per-user tokens must verify with this verifier before they are used.
    #[napi]
    pub fn set_user_call_verifier(&self, verifier: &NativeTokenVerifier) {
        self.user_calls().set_verifier(CallVerifier::Verifier(verifier.inner.clone()));
    }
}
