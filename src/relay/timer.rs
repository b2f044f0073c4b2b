//! The relay's one heartbeat timer (not one per stream).

use std::sync::Weak;
use std::time::{Duration, Instant};

use super::Relay;

/// How often idle streams are looked for; heartbeat intervals are honoured to within this.
pub const HEARTBEAT_TICK: Duration = Duration::from_millis(100);

/// Queues heartbeats every [`HEARTBEAT_TICK`] until the relay is closed or dropped. A tokio task: it
/// does not keep Node alive.
pub async fn run_heartbeats(relay: Weak<Relay>) {
    loop {
        tokio::time::sleep(HEARTBEAT_TICK).await;
        let Some(relay) = relay.upgrade() else { return };
        if relay.is_closed() {
            return;
        }
        relay.heartbeat(Instant::now());
    }
}
