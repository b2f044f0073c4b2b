//! Requests from the session's API: subscriptions, and the shutdown.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Driver, Purpose};
use crate::error::{GatewayError, Result};
use crate::session::handle::QuerySet;
use crate::session::state::Status;

impl Driver {
    pub(super) fn subscribe(&mut self, queries: Vec<String>, reply: oneshot::Sender<Result<()>>) {
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            let _ = reply.send(Err(self.shared.closed_error()));
            return;
        }
        let query_id = {
            let mut subs = self.shared.subscriptions.lock().unwrap();
            subs.next_query_id += 1;
            let query_id = subs.next_query_id;
            subs.sets.insert(query_id, QuerySet { queries: queries.clone(), waiters: vec![reply] });
            query_id
        };
        let sent_on_active = {
            let mut links = self.shared.links.lock().unwrap();
            let active = links.active;
            match active.and_then(|id| links.all.get_mut(&id)) {
                Some(link) => link.subscribe(query_id, &queries).is_ok(),
                None => false,
            }
        };
        // A link being prepared must end up with every set: start its preparation over (rare: a
        // subscription added during a reconnect or a token refresh).
        if let Some(p) = self.preparing.take() {
            self.close_link(p.link, "restarting the preparation with a new subscription");
            self.shared.links.lock().unwrap().all.remove(&p.link);
            if sent_on_active {
                self.refresh_at = Some(Instant::now() + Duration::from_secs(1));
            } else {
                self.start_open(Purpose::Reconnect);
            }
        }
        // Without any link the set waits for the reconnect, which subscribes every recorded set.
    }

    pub(super) fn fail_subscription_waiters(&self, make: impl Fn() -> GatewayError) {
        let mut subs = self.shared.subscriptions.lock().unwrap();
        for set in subs.sets.values_mut() {
            for waiter in set.waiters.drain(..) {
                let _ = waiter.send(Err(make()));
            }
        }
    }

    pub(super) fn shutdown(&mut self) {
        self.shared.closing.store(true, std::sync::atomic::Ordering::Release);
        let closed = || self.shared.closed_error();
        {
            let mut links = self.shared.links.lock().unwrap();
            links.active = None;
            for (_, mut link) in links.all.drain() {
                link.calls.fail_all(|| Err(self.shared.closed_in_flight_error()));
                link.close("gateway closed");
            }
        }
        // Committed calls held for read-your-writes did commit: say so.
        for (_, calls) in self.held.drain() {
            for held in calls {
                let _ = held.reply.send(Ok(held.outcome));
            }
        }
        self.fail_subscription_waiters(closed);
        self.shared.set_state(Status::Closed, Some("closed".into()), 0);
        self.shared.sinks.write().unwrap().clear();
        self.shared.state_sinks.write().unwrap().clear();
        self.shared.call_settled.notify_waiters();
    }
}
