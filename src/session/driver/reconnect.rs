//! Opening links (a fresh token each time, with backoff after failures) and losing them.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tracing::instrument::WithSubscriber;

use super::switch::Preparing;
use super::{tagged, Driver, Purpose};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::Projection;
use crate::session::alignment::Alignment;
use crate::session::connector::{Connector, OpenLink, Outgoing};
use crate::session::link::{Link, LinkId};
use crate::session::state::Status;
use crate::session::token::{refresh_after, token_within, TokenSource};
use crate::session::websocket::ConnectParams;

/// Opens a link through `connector` with a token from `source` (`anonymous` is the token the server
/// minted for an anonymous session on its first connect). A provider's token refused as `UNAUTHORIZED` is
/// fetched again once: it may have expired between minting and connecting.
pub(crate) async fn open_link(
    connector: &dyn Connector,
    params: &ConnectParams,
    source: &TokenSource,
    anonymous: Option<&str>,
) -> Result<OpenLink> {
    let mut params = params.clone();
    params.token = match source {
        TokenSource::Anonymous => anonymous.map(str::to_string),
        TokenSource::Fixed(token) => Some(token.clone()),
        TokenSource::Provider(provider) => Some(token_within(&**provider, params.timeout).await?),
    };
    match connector.open(&params).await {
        Err(e) if e.code == ErrorCode::Unauthorized => match source {
            TokenSource::Provider(provider) => {
                params.token = Some(token_within(&**provider, params.timeout).await?);
                connector.open(&params).await
            }
            _ => Err(e),
        },
        other => other,
    }
}

impl Driver {
    pub(super) fn on_link_closed(&mut self, id: LinkId, reason: &str) {
        let (was_active, link) = {
            let mut links = self.shared.links.lock().unwrap();
            let was_active = links.active == Some(id);
            if was_active {
                links.active = None;
            }
            (was_active, links.all.remove(&id))
        };
        let Some(mut link) = link else { return };
        link.calls.fail_all(|| {
            Err(GatewayError::new(
                ErrorCode::Disconnected,
                format!("the connection to SpacetimeDB was lost ({reason}); the outcome of this call is unknown"),
            ))
        });
        self.shared.call_settled.notify_waiters();
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        if was_active {
            self.refresh_at = None;
            match &mut self.preparing {
                // A refresh in progress becomes the reconnect.
                Some(p) => {
                    p.purpose = Purpose::Reconnect;
                    self.shared.set_state(Status::Reconnecting, Some(reason.to_string()), self.attempt);
                    self.evaluate();
                }
                None => self.schedule_reconnect(reason),
            }
        } else if self.preparing.as_ref().is_some_and(|p| p.link == id) {
            let purpose = self.preparing.take().map(|p| p.purpose);
            if purpose == Some(Purpose::Reconnect) || !self.has_active() {
                self.schedule_reconnect(reason);
            } else {
                self.attempt += 1;
                self.refresh_at = Some(Instant::now() + self.backoff(self.attempt));
            }
        }
    }

    pub(super) fn has_active(&self) -> bool {
        self.shared.links.lock().unwrap().active.is_some()
    }

    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let policy = self.shared.options.reconnect.clone().unwrap_or_default();
        policy.delay(attempt, rand::random::<f64>())
    }

    /// Waits (with backoff) before the next reconnect attempt, or closes the session if reconnecting is off.
    pub(super) fn schedule_reconnect(&mut self, reason: &str) {
        if self.shared.options.reconnect.is_none() {
            tracing::warn!(reason, "connection lost; reconnecting is off: the session closes");
            self.shared.set_state(Status::Closed, Some(reason.to_string()), self.attempt);
            self.shared.closing.store(true, std::sync::atomic::Ordering::Release);
            self.fail_subscription_waiters(|| {
                GatewayError::new(ErrorCode::Disconnected, format!("the connection was lost: {reason}"))
            });
            return;
        }
        self.attempt += 1;
        self.shared.set_state(Status::Reconnecting, Some(reason.to_string()), self.attempt);
        let delay = self.backoff(self.attempt);
        tracing::warn!(
            reason,
            attempt = self.attempt,
            retry_in_ms = delay.as_millis() as u64,
            "not connected; reconnecting"
        );
        self.retry_at = Some(Instant::now() + delay);
    }

    pub(super) fn schedule_refresh(&mut self, token: &str) {
        if !matches!(self.shared.options.token, TokenSource::Provider(_)) {
            return;
        }
        self.refresh_at = refresh_after(token, SystemTime::now()).map(|d| Instant::now() + d);
    }

    pub(super) fn start_open(&mut self, purpose: Purpose) {
        if self.opening || self.preparing.is_some() {
            return;
        }
        self.opening = true;
        let shared = self.shared.clone();
        let anonymous = self.anonymous_token.clone();
        let tx = self.opened_tx.clone();
        let opening = async move {
            let result = open_link(
                &*shared.options.connector,
                &shared.options.connect,
                &shared.options.token,
                anonymous.as_deref(),
            )
            .await;
            let _ = tx.send((purpose, result));
        };
        tokio::spawn(opening.with_current_subscriber());
    }

    pub(super) fn on_opened(&mut self, purpose: Purpose, result: Result<OpenLink>) {
        self.opening = false;
        let purpose = if self.has_active() { purpose } else { Purpose::Reconnect };
        let open = match result {
            Ok(open) if open.identity != self.shared.identity => Err(GatewayError::new(
                ErrorCode::Unauthorized,
                format!(
                    "the new token is for identity {}, not this session's {}: a session keeps one identity",
                    open.identity.to_hex(),
                    self.shared.identity.to_hex()
                ),
            )),
            other => other,
        };
        let open = match open {
            Ok(open) => open,
            Err(e) => {
                if purpose == Purpose::Reconnect {
                    self.schedule_reconnect(&e.message);
                } else {
                    tracing::warn!(error = %e, attempt = self.attempt + 1, "token refresh failed; retrying");
                    self.attempt += 1;
                    self.refresh_at = Some(Instant::now() + self.backoff(self.attempt));
                }
                return;
            }
        };
        if self.shared.closing.load(std::sync::atomic::Ordering::Acquire) {
            let _ = open.writer.send(Outgoing::Close(None));
            return;
        }
        let id = self.next_link_id;
        self.next_link_id += 1;
        let mut link = Link::new(id, &open);
        let mut pending = HashSet::new();
        let mut sets = Vec::new();
        for (query_id, set) in self.shared.subscriptions.lock().unwrap().sets.iter() {
            if link.subscribe(*query_id, &set.queries).is_ok() {
                sets.push(*query_id);
            }
        }
        pending.extend(link.subscribes.keys().copied());
        self.shared.links.lock().unwrap().all.insert(id, link);
        self.readers.push(tagged(id, open.events));
        let mut alignment = Alignment::default();
        let snapshot_at = pending.is_empty().then(|| {
            alignment.snapshot_complete();
            Instant::now()
        });
        self.preparing = Some(Preparing {
            link: id,
            purpose,
            staging: Projection::new(&self.shared.schema),
            pending,
            sets,
            alignment,
            snapshot_at,
            last_compare: None,
        });
        self.evaluate();
    }
}
