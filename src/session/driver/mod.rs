//! The session task (the "driver"): it reads every link, applies the active link's messages to the
//! projection in order, prepares new links (after an outage, or before a token expires) and switches to
//! them. Its jobs, one file each:
//!
//! - [`apply`]: the active link's messages into the projection and to the change sinks;
//! - [`switch`]: preparing a new link into a staging projection and switching to it (see `alignment`):
//!   a reconnect replaces the projection and reports the difference as one batch (everything that
//!   changed while away); a token refresh waits for the point where both links agree and switches
//!   without reporting anything twice;
//! - [`reconnect`]: opening links (with backoff after failures) and losing them;
//! - [`calls`]: results of calls, held for read-your-writes when they arrive on a link that no longer
//!   drives the projection;
//! - [`requests`]: subscribe and shutdown; this file: the select loop and the timers.
//!
//! Links open through [`super::connector::Connector`] and are read as streams of events, so `tests`
//! script whole scenarios against tokio's paused clock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{BoxStream, SelectAll, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::alignment::TxKey;
use super::connector::{LinkEvent, OpenLink};
use super::handle::Shared;
use super::link::LinkId;
use super::token::TokenSource;
use crate::codec::inbound::Protocol;
use crate::error::Result;
use crate::projection::TransactionMeta;

mod apply;
mod calls;
mod reconnect;
mod requests;
mod switch;
#[cfg(test)]
mod tests;

use calls::HeldCall;
pub(crate) use reconnect::open_link;
use switch::Preparing;

/// Requests from the session's API to its task.
pub(crate) enum Command {
    Subscribe {
        queries: Vec<String>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Drop the active connection as a network failure would (`Session::drop_connection`).
    Drop {
        reason: String,
    },
    Close,
}

/// Why a link is being opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Reconnect,
    Refresh,
}

/// How often the session task looks at its timers while a link is being prepared or results are held.
const BUSY_TICK: Duration = Duration::from_millis(250);
/// How often it looks for dead links otherwise (at most; and at least four times per idle timeout).
const IDLE_TICK: Duration = Duration::from_secs(5);

struct Driver {
    shared: Arc<Shared>,
    readers: SelectAll<BoxStream<'static, (LinkId, LinkEvent)>>,
    next_link_id: LinkId,
    preparing: Option<Preparing>,
    /// A link is being opened (its result arrives on `opened`).
    opening: bool,
    opened_tx: mpsc::UnboundedSender<(Purpose, Result<OpenLink>)>,
    /// Failed reconnect (or refresh) attempts in a row.
    attempt: u32,
    retry_at: Option<Instant>,
    refresh_at: Option<Instant>,
    held: HashMap<TxKey, Vec<HeldCall>>,
    applied_keys: VecDeque<TxKey>,
    applied_set: HashSet<TxKey>,
    /// The token the server minted for an anonymous session (reused so the identity stays the same).
    anonymous_token: Option<String>,
    /// The facts of the transaction the active link applied last: event rows that follow it are its
    /// (see `apply::notify_events`).
    events_meta: TransactionMeta,
}

/// Runs the session task until `Command::Close`.
pub(crate) async fn run(
    shared: Arc<Shared>,
    first: LinkId,
    events: BoxStream<'static, LinkEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
    let first_token = shared.links.lock().unwrap().all.get(&first).map(|l| l.token.clone()).unwrap_or_default();
    let mut d = Driver {
        anonymous_token: matches!(shared.options.token, TokenSource::Anonymous).then(|| first_token.clone()),
        shared,
        readers: SelectAll::new(),
        next_link_id: first + 1,
        preparing: None,
        opening: false,
        opened_tx,
        attempt: 0,
        retry_at: None,
        refresh_at: None,
        held: HashMap::new(),
        applied_keys: VecDeque::new(),
        applied_set: HashSet::new(),
        events_meta: TransactionMeta::default(),
    };
    d.readers.push(tagged(first, events));
    d.schedule_refresh(&first_token);
    let mut last_tick = Instant::now();
    loop {
        let tick_at = last_tick + d.tick_interval();
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Subscribe { queries, reply }) => d.subscribe(queries, reply),
                Some(Command::Drop { reason }) => d.drop_active(&reason),
                Some(Command::Close) | None => break,
            },
            Some((id, event)) = d.readers.next() => d.on_event(id, event),
            Some((purpose, result)) = opened_rx.recv() => d.on_opened(purpose, result),
            _ = sleep_until(d.retry_at) => {
                d.retry_at = None;
                d.start_open(Purpose::Reconnect);
            }
            _ = sleep_until(d.refresh_at) => {
                d.refresh_at = None;
                d.start_open(Purpose::Refresh);
            }
            // Alignment and held results need a fine clock; otherwise only dead links are looked for, and a
            // coarse one keeps thousands of idle pooled sessions cheap.
            _ = tokio::time::sleep_until(tick_at) => {
                d.on_tick();
                last_tick = Instant::now();
            }
        }
    }
    d.shutdown();
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => pending().await,
    }
}

/// A link's events tagged with its id; ends after `Closed` (a stream that ends without one is closed by
/// the server).
fn tagged(id: LinkId, events: BoxStream<'static, LinkEvent>) -> BoxStream<'static, (LinkId, LinkEvent)> {
    futures_util::stream::unfold(Some(events), move |events| async move {
        let mut events = events?;
        let event = events.next().await.unwrap_or_else(|| LinkEvent::Closed("the server closed the connection".into()));
        let more = !matches!(event, LinkEvent::Closed(_));
        Some(((id, event), more.then_some(events)))
    })
    .boxed()
}

impl Driver {
    fn on_event(&mut self, id: LinkId, event: LinkEvent) {
        if let Some(link) = self.shared.links.lock().unwrap().all.get_mut(&id) {
            link.last_seen = Instant::now();
        }
        match event {
            LinkEvent::Alive => {}
            LinkEvent::Closed(reason) => self.on_link_closed(id, &reason),
            // Events are not state: only the driving link's are told (a link being prepared or draining
            // carries the same transactions' events, or ones already told).
            LinkEvent::Events(batches) => {
                if self.shared.links.lock().unwrap().active == Some(id) {
                    self.notify_events(batches);
                }
            }
            LinkEvent::Message(message) => {
                if self.shared.links.lock().unwrap().active == Some(id) {
                    self.on_active_message(id, *message);
                } else if self.preparing.as_ref().is_some_and(|p| p.link == id) {
                    self.on_preparing_message(*message);
                } else {
                    self.on_draining_message(id, *message);
                }
            }
        }
    }

    /// Closes the active link and handles it exactly like a lost connection (reconnect, resubscribe,
    /// rehydrate by diff). Nothing happens while there is no active link (already reconnecting).
    fn drop_active(&mut self, reason: &str) {
        let active = self.shared.links.lock().unwrap().active;
        if let Some(id) = active {
            self.close_link(id, reason);
            self.on_link_closed(id, reason);
        }
    }

    /// The protocol link `id` speaks (v1 for a link already gone: its messages are not applied).
    fn link_protocol(&self, id: LinkId) -> Protocol {
        self.shared.links.lock().unwrap().all.get(&id).map_or(Protocol::V1, |link| link.protocol)
    }

    fn close_link(&self, id: LinkId, reason: &str) {
        if let Some(link) = self.shared.links.lock().unwrap().all.get(&id) {
            link.close(reason);
        }
    }

    fn tick_interval(&self) -> Duration {
        if self.preparing.is_some() || !self.held.is_empty() {
            BUSY_TICK
        } else {
            IDLE_TICK.min(self.shared.options.idle_timeout / 4)
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let idle_timeout = self.shared.options.idle_timeout;
        let silent: Vec<LinkId> = {
            let links = self.shared.links.lock().unwrap();
            links.all.values().filter(|l| now.duration_since(l.last_seen) > idle_timeout).map(|l| l.id).collect()
        };
        for id in silent {
            let reason = format!("no message from the server for {} s", idle_timeout.as_secs());
            self.close_link(id, &reason);
            self.on_link_closed(id, &reason);
        }
        let align_timeout = self.shared.options.align_timeout;
        if let Some(p) = &self.preparing {
            if p.snapshot_at.is_some_and(|t| t.elapsed() > align_timeout) {
                // No switch point found (e.g. light updates without transaction identity): fall back to a diff.
                self.switch(0, true);
            } else {
                self.evaluate();
            }
        }
        // Held results whose transaction did not reach the driving link in time (it did not touch our
        // rows after all, or that link was replaced): they committed, so answer them rather than wait.
        let expired: Vec<TxKey> = self
            .held
            .iter()
            .filter(|(_, calls)| calls.iter().all(|c| c.since.elapsed() > align_timeout))
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            for held in self.held.remove(&key).unwrap_or_default() {
                let _ = held.reply.send(Ok(held.outcome));
            }
        }
    }
}
