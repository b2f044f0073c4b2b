//! Reducer calls and their route (docs/actors.md): on the gateway's own connection (the service
//! topology, with `actor` filling the reducer's `actor` parameter), or with a user's token over the
//! per-user pool or the HTTP route.

use futures_util::future::BoxFuture;
use tracing::instrument::WithSubscriber;

use super::options::CallOptions;
use super::Gateway;
use crate::actors::actor::encode_call;
use crate::actors::UserCallOutcome;
use std::sync::Arc;

use crate::codec::schema::Schema;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::session::{CallOutcome, PendingCall};

/// What a committed call reports, by the route that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallResult {
    /// On the gateway's own connection.
    Service(CallOutcome),
    /// With the user's token.
    User(UserCallOutcome),
}

/// A call that has been validated and started: a service call is already sent (or queued while
/// reconnecting); a per-user call starts when awaited.
pub enum StartedCall {
    Service(PendingCall),
    User(BoxFuture<'static, Result<UserCallOutcome>>),
}

impl StartedCall {
    /// Waits for the result.
    pub async fn finish(self) -> Result<CallResult> {
        match self {
            StartedCall::Service(call) => call.finish().await.map(CallResult::Service),
            StartedCall::User(call) => call.await.map(CallResult::User),
        }
    }
}

impl Gateway {
    /// Encodes `args_json` (an array, or an object keyed by parameter name) for reducer `name` and starts
    /// the call on the route `options` choose; bad arguments or a closed gateway fail here, before
    /// anything is sent.
    pub fn start_call(&self, name: &str, args_json: &str, options: CallOptions) -> Result<StartedCall> {
        let timeout = options.timeout.unwrap_or(self.call_timeout);
        let args = encode_call(self.session.schema(), name, args_json, options.actor.as_ref())?;
        match options.user {
            Some((token, via)) => {
                let (user_calls, name) = (self.user_calls.clone(), name.to_string());
                let call = async move { user_calls.call(&token, via, &name, args, timeout).await };
                // Pooled sessions opened for the call log with the gateway.
                Ok(StartedCall::User(Box::pin(call.with_subscriber(self.log.clone()))))
            }
            None => self.session.start_call(name, args, timeout).map(StartedCall::Service),
        }
    }
}

/// A procedure call that has been validated and sent (or queued while reconnecting).
pub struct StartedProcedure {
    call: PendingCall,
    schema: Arc<Schema>,
    name: String,
}

impl StartedProcedure {
    /// Waits for the result: the procedure's return value as JSON text, in the gateway's value mapping.
    pub async fn finish(self) -> Result<String> {
        let outcome = self.call.finish().await?;
        let def = self.schema.procedure(&self.name).expect("checked when the call started");
        let returned = outcome.returned.unwrap_or_default();
        let json = def.return_to_json(&returned).map_err(|e| {
            GatewayError::protocol(format!(
                "the return value of procedure '{}' does not decode as {}: {e}",
                self.name, def.returns
            ))
        })?;
        String::from_utf8(json).map_err(|e| GatewayError::new(ErrorCode::Internal, e.to_string()))
    }
}

impl Gateway {
    /// Encodes `args_json` for procedure `name` (SpacetimeDB 2.x) and sends it on the gateway's own
    /// connection. `UNSUPPORTED` on a v1 connection, `INVALID_ARGUMENT` for an unknown procedure, bad
    /// arguments or a per-user route (`opts.token`/`opts.actor`: not supported for procedures).
    pub fn start_procedure(&self, name: &str, args_json: &str, options: CallOptions) -> Result<StartedProcedure> {
        if options.actor.is_some() || options.user.is_some() {
            return Err(GatewayError::invalid_argument(format!(
                "procedure '{name}': callProcedure takes only opts.timeoutMs (no actor or per-user token: procedures \
                 run on the gateway's own connection)"
            )));
        }
        self.session.check_procedures(name)?;
        let schema = self.session.schema().clone();
        let def = schema.procedure(name).ok_or_else(|| {
            let known: Vec<&str> = schema.procedures.iter().map(|p| p.name.as_str()).collect();
            GatewayError::invalid_argument(format!(
                "no procedure named '{name}' in this module (it has: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })?;
        let args: serde_json::Value = serde_json::from_str(args_json).map_err(|e| {
            GatewayError::invalid_argument(format!("the arguments of '{name}' are not valid JSON: {e}"))
        })?;
        let args = def.encode_args(&args)?;
        let timeout = options.timeout.unwrap_or(self.call_timeout);
        let call = self.session.start_procedure(name, args, timeout)?;
        Ok(StartedProcedure { call, schema, name: name.to_string() })
    }
}
