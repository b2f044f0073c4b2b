//! Preparing a new link and switching to it (make-before-break, see `alignment`).

use std::collections::HashSet;
use std::time::Duration;

use spacetimedb_client_api_messages::websocket::v1 as ws;
use tokio::time::Instant;

use super::apply::{apply_update, light_meta, tx_key, tx_meta};
use super::{Driver, Purpose};
use crate::codec::protocol::{DatabaseUpdate, ServerMessage};
use crate::projection::{Projection, TableChanges, Transaction, TransactionMeta};
use crate::session::alignment::{Alignment, Decision};
use crate::session::link::LinkId;
use crate::session::state::Status;

/// Content comparisons during alignment are O(rows): at most this often.
const COMPARE_INTERVAL: Duration = Duration::from_millis(25);

/// A transaction `next` delivered after its snapshot, waiting for the switch.
pub(super) struct Buffered {
    pub(super) meta: TransactionMeta,
    pub(super) update: DatabaseUpdate,
}

/// A link being prepared: subscribing into a staging projection.
pub(super) struct Preparing {
    pub(super) link: LinkId,
    pub(super) purpose: Purpose,
    pub(super) staging: Projection,
    /// Subscribe requests on the link not applied yet.
    pub(super) pending: HashSet<u32>,
    /// The query sets subscribed on the link.
    pub(super) sets: Vec<u32>,
    pub(super) alignment: Alignment<Buffered>,
    pub(super) snapshot_at: Option<Instant>,
    pub(super) last_compare: Option<Instant>,
}

impl Driver {
    pub(super) fn on_preparing_message(&mut self, message: ServerMessage) {
        let Some(link) = self.preparing.as_ref().map(|p| p.link) else { return };
        let protocol = self.link_protocol(link);
        let Some(p) = &mut self.preparing else { return };
        let snapshot_complete = p.alignment.is_snapshot_complete();
        match message {
            ServerMessage::SubscribeMultiApplied(applied) => {
                apply_update(&mut p.staging, &applied.update);
                self.subscribe_settled(applied.request_id);
            }
            ServerMessage::SubscriptionError(err) => match err.request_id {
                Some(request_id) => {
                    tracing::warn!(error = %err.error, "a subscription failed on the new connection");
                    self.subscribe_settled(request_id);
                }
                None => {
                    let reason = format!("SpacetimeDB dropped the subscriptions of the new connection: {}", err.error);
                    self.close_link(link, &reason);
                    self.on_link_closed(link, &reason);
                }
            },
            ServerMessage::TransactionUpdate(tx) => {
                let (key, meta) = (tx_key(&tx), tx_meta(&tx, protocol));
                if let ws::UpdateStatus::Committed(update) = tx.status {
                    if snapshot_complete {
                        p.alignment.buffer(Some(key), Buffered { meta, update });
                    } else {
                        apply_update(&mut p.staging, &update);
                    }
                    self.evaluate();
                }
            }
            ServerMessage::TransactionUpdateLight(tx) => {
                if snapshot_complete {
                    p.alignment.buffer(None, Buffered { meta: light_meta(), update: tx.update });
                } else {
                    apply_update(&mut p.staging, &tx.update);
                }
                self.evaluate();
            }
            _ => {}
        }
    }

    /// A subscribe request of the preparing link settled; the snapshot is complete when all have.
    pub(super) fn subscribe_settled(&mut self, request_id: u32) {
        let Some(p) = &mut self.preparing else { return };
        p.pending.remove(&request_id);
        if p.pending.is_empty() && !p.alignment.is_snapshot_complete() {
            p.alignment.snapshot_complete();
            p.snapshot_at = Some(Instant::now());
            self.evaluate();
        }
    }

    pub(super) fn evaluate(&mut self) {
        let Some(p) = &mut self.preparing else { return };
        let has_active = self.shared.links.lock().unwrap().active.is_some();
        match p.alignment.decide() {
            Decision::Wait => {}
            Decision::SwitchAfter { skip } => self.switch(skip, false),
            Decision::CompareContent if !has_active => self.switch(0, true),
            Decision::CompareContent => {
                let now = Instant::now();
                if p.last_compare.is_some_and(|t| now - t < COMPARE_INTERVAL) {
                    return;
                }
                p.last_compare = Some(now);
                let same = self.shared.projection.read().unwrap().same_rows(&p.staging);
                if same {
                    self.switch(0, false);
                }
            }
        }
    }

    /// Makes the preparing link the active one. With `rehydrate`, the projection becomes the staging one
    /// and the difference is reported as one batch; then the buffered transactions after the first `skip`
    /// are applied in order.
    pub(super) fn switch(&mut self, skip: usize, rehydrate: bool) {
        let Some(p) = self.preparing.take() else { return };
        let purpose = p.purpose;
        {
            let mut projection = self.shared.projection.write().unwrap();
            if rehydrate {
                for sink in self.shared.sinks.read().unwrap().iter() {
                    sink.on_gap();
                }
                p.staging.copy_indexes_from(&projection);
                let tables = projection
                    .changes_to(&p.staging)
                    .into_iter()
                    .map(|(table, changes)| TableChanges { table, changes })
                    .collect();
                *projection = p.staging;
                self.notify(Transaction {
                    meta: TransactionMeta { rehydrated: true, ..Default::default() },
                    tables,
                    events: Vec::new(),
                });
            }
        }
        for (key, buffered) in p.alignment.into_remaining(skip) {
            self.apply_and_notify(&buffered.update, buffered.meta);
            self.note_applied(key);
        }
        let (old, token) = {
            let mut links = self.shared.links.lock().unwrap();
            let old = links.active.replace(p.link);
            (old, links.all.get(&p.link).map(|l| l.token.clone()).unwrap_or_default())
        };
        {
            let mut subscriptions = self.shared.subscriptions.lock().unwrap();
            for query_id in &p.sets {
                subscriptions.applied(*query_id, std::iter::empty());
            }
        }
        if let Some(old) = old {
            self.close_if_drained(old);
        }
        self.attempt = 0;
        let reason = match purpose {
            Purpose::Reconnect => "reconnected",
            Purpose::Refresh => "token refreshed",
        };
        tracing::info!(reason, rehydrated = rehydrate, "switched to a new connection");
        self.shared.set_state(Status::Live, Some(reason.into()), 0);
        self.schedule_refresh(&token);
    }

    /// Closes a non-active link once it has no calls in flight.
    pub(super) fn close_if_drained(&mut self, id: LinkId) {
        let mut links = self.shared.links.lock().unwrap();
        if links.active == Some(id) || self.preparing.as_ref().is_some_and(|p| p.link == id) {
            return;
        }
        if links.all.get(&id).is_some_and(|l| l.calls.is_empty()) {
            if let Some(link) = links.all.remove(&id) {
                link.close("replaced by a new connection");
            }
        }
    }
}
