//! JS bindings of actor attribution (`crate::actors`): call results, the verifier hook and `poolStats()`.
//! Conversion only (the `userCalls` options and call routes are read by `gateway::options`).

use napi_derive::napi;

use super::auth::{NativeTokenBroker, NativeTokenVerifier};
use super::gateway::NativeGateway;
use crate::actors::token_check::CallVerifier;
use crate::actors::{UserCallOutcome, UserRoute};
use crate::codec::value::format_timestamp;
use crate::gateway::CallResult as CoreCallResult;
use crate::session::CallOutcome;

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
    fn of_connection(via: &str, outcome: CallOutcome) -> CallResult {
        CallResult {
            status: "committed".into(),
            via: via.into(),
            timestamp: Some(format_timestamp(outcome.timestamp_micros)),
            request_id: Some(outcome.request_id),
            energy_used: Some(outcome.energy_quanta_used.to_string()),
            duration_micros: Some(outcome.duration_micros as f64),
        }
    }

    fn of_user_call(outcome: UserCallOutcome) -> CallResult {
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

impl From<CoreCallResult> for CallResult {
    fn from(result: CoreCallResult) -> CallResult {
        match result {
            CoreCallResult::Service(outcome) => CallResult::of_connection("service", outcome),
            CoreCallResult::User(outcome) => CallResult::of_user_call(outcome),
        }
    }
}

#[napi]
impl NativeGateway {
    /// The per-user pool's counters.
    #[napi]
    pub fn pool_stats(&self) -> PoolStats {
        let stats = self.gateway().pool_stats();
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
        self.gateway().set_user_call_verifier(CallVerifier::Broker(broker.inner.clone()));
    }

    /// Per-user tokens must verify with this verifier before they are used.
    #[napi]
    pub fn set_user_call_verifier(&self, verifier: &NativeTokenVerifier) {
        self.gateway().set_user_call_verifier(CallVerifier::Verifier(verifier.inner.clone()));
    }
}
