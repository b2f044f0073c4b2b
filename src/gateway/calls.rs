//! Reducer calls and their route (docs/actors.md): on the gateway's own connection (the service
//! topology, with `actor` filling the reducer's `actor` parameter), or with a user's token over the
//! per-user pool or the HTTP route.

use futures_util::future::BoxFuture;
use tracing::instrument::WithSubscriber;

use super::options::CallOptions;
use super::Gateway;
use crate::actors::actor::encode_call;
use crate::actors::UserCallOutcome;
use crate::error::Result;
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
