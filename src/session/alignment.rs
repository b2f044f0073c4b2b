//! Make-before-break: finding the instant to switch from the connection that drives the projection
//! (`active`) to a freshly subscribed one (`next`) without losing or repeating a transaction.
//!
//! SpacetimeDB exposes no transaction offsets (protocol doc §3), but it sends every connection the
//! transactions that touch its subscriptions in commit order. Two connections of the same identity with
//! the same subscriptions therefore see the same sequence; they only differ in where they are in it.
//! `next`'s initial rows are the state at some point `p`; after that it delivers `b1, b2, …` (buffered
//! here, not applied). `active` keeps applying its own copy of the sequence. The switch point is found
//! by transaction identity (`TxKey`: timestamp, caller, request id — present in full updates):
//!
//! - if the last transaction `active` applied is `b_i` in the buffer, the projection now equals
//!   "`next`'s initial rows + `b1…b_i`": switch, dropping `b1…b_i` and applying the rest;
//! - otherwise `active` may be behind `p`, exactly at it, or ahead of what `next` delivered so far; the
//!   session then compares the projection with `next`'s initial rows: equal means "exactly at `p`"
//!   (switch, applying the whole buffer); different means wait for more messages.
//!
//! A deadline (in the session) falls back to a diff of the two states for servers that send no
//! transaction identity (light updates).

use std::collections::VecDeque;

use spacetimedb_lib::{ConnectionId, Identity};

/// What identifies one transaction across connections (from a full `TransactionUpdate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxKey {
    pub timestamp_micros: i64,
    pub caller_identity: Identity,
    pub caller_connection_id: ConnectionId,
    pub reducer_id: u32,
    pub request_id: u32,
}

/// What the session should do now.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not yet: more messages are needed.
    Wait,
    /// Switch now: drop the first `skip` buffered transactions (the projection has them) and apply the
    /// rest from `next`.
    SwitchAfter { skip: usize },
    /// Ask the session whether the projection equals `next`'s initial rows; if so, switch with `skip: 0`.
    CompareContent,
}

/// How far back we remember what `active` applied (a rotation settles within seconds; this bounds memory
/// if it does not).
const REMEMBERED: usize = 100_000;

/// The alignment of one rotation. `T` is a buffered transaction of `next`.
pub struct Alignment<T> {
    /// `None` for a transaction without identity (a light update).
    last_applied_by_active: Option<Option<TxKey>>,
    buffered: VecDeque<(Option<TxKey>, T)>,
    snapshot_complete: bool,
}

impl<T> Default for Alignment<T> {
    fn default() -> Self {
        Alignment { last_applied_by_active: None, buffered: VecDeque::new(), snapshot_complete: false }
    }
}

impl<T> Alignment<T> {
    /// `active` applied a transaction to the projection.
    pub fn active_applied(&mut self, key: Option<TxKey>) {
        self.last_applied_by_active = Some(key);
    }

    /// `next` has all its subscriptions applied: later transactions are buffered.
    pub fn snapshot_complete(&mut self) {
        self.snapshot_complete = true;
    }

    pub fn is_snapshot_complete(&self) -> bool {
        self.snapshot_complete
    }

    /// `next` delivered a transaction after its snapshot.
    pub fn buffer(&mut self, key: Option<TxKey>, tx: T) {
        if self.buffered.len() == REMEMBERED {
            self.buffered.pop_front();
        }
        self.buffered.push_back((key, tx));
    }

    pub fn buffered_len(&self) -> usize {
        self.buffered.len()
    }

    pub fn decide(&self) -> Decision {
        if !self.snapshot_complete {
            return Decision::Wait;
        }
        if let Some(Some(last)) = self.last_applied_by_active {
            if let Some(i) = self.buffered.iter().position(|(k, _)| *k == Some(last)) {
                return Decision::SwitchAfter { skip: i + 1 };
            }
        }
        Decision::CompareContent
    }

    /// Ends the alignment: the buffered transactions after the first `skip`, in order.
    pub fn into_remaining(self, skip: usize) -> impl Iterator<Item = (Option<TxKey>, T)> {
        self.buffered.into_iter().skip(skip)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn key(n: u32) -> Option<TxKey> {
        Some(TxKey {
            timestamp_micros: n as i64,
            caller_identity: Identity::ZERO,
            caller_connection_id: ConnectionId::ZERO,
            reducer_id: 1,
            request_id: n,
        })
    }

    #[test]
    fn waits_for_the_snapshot_then_switches_at_the_shared_transaction() {
        let mut a = Alignment::default();
        a.active_applied(key(1));
        assert_eq!(a.decide(), Decision::Wait);
        a.snapshot_complete();
        a.buffer(key(2), 2);
        a.buffer(key(3), 3);
        assert_eq!(a.decide(), Decision::CompareContent, "active is at 1: behind, or exactly at the snapshot");
        a.active_applied(key(2));
        assert_eq!(a.decide(), Decision::SwitchAfter { skip: 1 });
        assert_eq!(a.into_remaining(1).map(|(_, t)| t).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn light_updates_fall_back_to_content_comparison() {
        let mut a = Alignment::default();
        a.snapshot_complete();
        a.active_applied(None);
        a.buffer(None, ());
        assert_eq!(a.decide(), Decision::CompareContent);
    }

    /// A model of the real thing: a sequence of transactions (each adds its number to a set), seen by
    /// `active` from the start and by `next` from a snapshot point `p`, interleaved at random. Applying
    /// the session's rules must yield every transaction exactly once, in order.
    fn run(total: u32, p: u32, schedule: Vec<bool>, compare_is_exact: bool) -> Result<Vec<u32>, TestCaseError> {
        let mut applied: Vec<u32> = Vec::new();
        let mut state: BTreeSet<u32> = BTreeSet::new();
        let snapshot: BTreeSet<u32> = (1..=p).collect();
        let mut alignment = Alignment::default();
        alignment.snapshot_complete();
        let (mut next_a, mut next_b) = (1u32, p + 1);
        for active_turn in schedule.into_iter().chain(std::iter::repeat_n(true, 2 * total as usize)) {
            if active_turn && next_a <= total {
                applied.push(next_a);
                state.insert(next_a);
                alignment.active_applied(key(next_a));
                next_a += 1;
            } else if !active_turn && next_b <= total {
                alignment.buffer(key(next_b), next_b);
                next_b += 1;
            } else {
                continue;
            }
            let skip = match alignment.decide() {
                Decision::SwitchAfter { skip } => Some(skip),
                Decision::CompareContent if compare_is_exact && state == snapshot => Some(0),
                _ => None,
            };
            if let Some(skip) = skip {
                let rest: Vec<u32> = std::mem::take(&mut alignment).into_remaining(skip).map(|(_, t)| t).collect();
                applied.extend(&rest);
                // After the switch `next` drives: it delivers the rest of the sequence.
                applied.extend(next_b..=total);
                return Ok(applied);
            }
        }
        // `active` saw everything and never aligned (e.g. `next` saw nothing new): it is complete.
        Ok(applied)
    }

    proptest! {
        #[test]
        fn every_transaction_exactly_once_in_order(total in 0u32..40, p_frac in 0.0f64..1.0, schedule in proptest::collection::vec(any::<bool>(), 0..120)) {
            let p = (total as f64 * p_frac) as u32;
            let applied = run(total, p, schedule, true)?;
            prop_assert_eq!(applied, (1..=total).collect::<Vec<_>>());
        }
    }
}
