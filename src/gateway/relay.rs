//! The relay of a gateway: started on first use with the options checked at connect, fed by the
//! session's changes, with one heartbeat task.

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;
use tracing::instrument::WithSubscriber;
use tracing::Dispatch;

use super::Gateway;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{ChangeSink, Projection};
use crate::relay::source::ProjectionSource;
use crate::relay::timer::run_heartbeats;
use crate::relay::{Relay, Wake};
use crate::session::Session;

/// The relay reads the session's projection; the session runs its change sinks under the projection's
/// write lock, which is what the relay's consistency rests on.
impl ProjectionSource for Session {
    fn read(&self, f: &mut dyn FnMut(&Projection)) {
        self.with_projection(|p| f(p))
    }
}

/// A started relay: the relay itself, its registration with the session, its heartbeat task.
pub struct RelayHandle {
    relay: Arc<Relay>,
    session: Session,
    sink: Arc<dyn ChangeSink>,
    heartbeats: Mutex<Option<JoinHandle<()>>>,
    log: Dispatch,
}

impl Gateway {
    /// Starts the relay: indexes tenant columns, registers it for the session's changes (after `wake`
    /// is installed, so no output goes unannounced) and starts its heartbeat task.
    pub fn start_relay(&self, wake: Arc<dyn Wake>) -> Result<RelayHandle> {
        if self.session.is_closed() {
            return Err(GatewayError::new(ErrorCode::Closed, "the gateway is closed"));
        }
        let source: Arc<dyn ProjectionSource> = Arc::new(self.session.clone());
        let relay = Arc::new(Relay::new(self.session.schema(), self.relay_config.clone(), source)?);
        relay.set_waker(Some(wake));
        let sink: Arc<dyn ChangeSink> = relay.clone();
        self.session.add_sink(sink.clone());
        let heartbeats = self.runtime.spawn(run_heartbeats(Arc::downgrade(&relay)).with_subscriber(self.log.clone()));
        Ok(RelayHandle {
            relay,
            session: self.session.clone(),
            sink,
            heartbeats: Mutex::new(Some(heartbeats)),
            log: self.log.clone(),
        })
    }
}

impl RelayHandle {
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// Runs `f` on the relay with the gateway's log (takes and reads encode rows on the caller's thread).
    pub fn logged<R>(&self, f: impl FnOnce(&Relay) -> R) -> R {
        tracing::dispatcher::with_default(&self.log, || f(&self.relay))
    }

    /// Ends every stream (the next take reports them ended) and stops the relay: no more events, no
    /// heartbeats. With a `farewell` (a reason and a retry hint in ms), each stream's last output is
    /// `retry:` and a `closed` frame with that reason (a shutdown: reconnect elsewhere soon).
    pub fn close(&self, farewell: Option<(&str, u32)>) {
        match farewell {
            Some((reason, retry_ms)) => self.relay.close_with_farewell(reason, retry_ms),
            None => self.relay.close(),
        }
        self.session.remove_sink(&self.sink);
        if let Some(task) = self.heartbeats.lock().unwrap().take() {
            task.abort();
        }
    }
}
