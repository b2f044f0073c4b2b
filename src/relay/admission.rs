//! Limits on snapshots, so that one client opening many streams cannot multiply the relay's work nor
//! delay everyone else's live events:
//! - a principal (`principal.sub`; a stream without one is its own principal) has at most
//!   [`SnapshotLimits::per_principal`] snapshots in progress; its other streams wait their turn, in the
//!   order they asked, holding nothing (their snapshot is read when their turn comes);
//! - one take hands out about [`SnapshotLimits::bytes_per_take`] snapshot bytes over all streams; live
//!   frames are not counted, so every stream's live events still leave in every take.
//!
//! A snapshot in progress holds a [`Slot`]; dropping it (the snapshot ended, was replaced, or its stream
//! went away) gives the slot back, whatever the path, so the counts cannot drift.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The snapshot limits of a relay (relay options `maxSnapshotsPerPrincipal`, `snapshotBytesPerTake`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotLimits {
    pub per_principal: usize,
    pub bytes_per_take: usize,
}

impl Default for SnapshotLimits {
    fn default() -> Self {
        // 4: a user's few tabs start at once; a fifth waits for one of them. 256 KiB: a take's snapshot
        // work stays around a millisecond, so other streams' live events wait at most about that long
        // (measured in the snapshot-storm benchmark: 1 MiB doubled their p99, smaller budgets gained
        // nothing, none changed the storm's throughput; docs/performance.md).
        SnapshotLimits { per_principal: 4, bytes_per_take: 256 << 10 }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_sub: HashMap<String, usize>,
    /// A slot was given back since [`Slots::take_released`] last looked.
    released: bool,
}

/// The snapshots in progress, in all and per principal.
#[derive(Clone, Default)]
pub struct Slots(Arc<Mutex<Counts>>);

/// One snapshot in progress, counted against its principal until dropped.
pub struct Slot {
    slots: Slots,
    sub: Option<String>,
}

impl Slots {
    /// Whether a stream of principal `sub` may start a snapshot under `limit` (always without a principal:
    /// such a stream is its own principal, and has at most one snapshot at a time).
    pub fn available(&self, sub: Option<&str>, limit: usize) -> bool {
        let counts = self.0.lock().unwrap();
        sub.is_none_or(|sub| counts.by_sub.get(sub).copied().unwrap_or(0) < limit)
    }

    /// A slot for principal `sub`, if [`Slots::available`].
    pub fn take(&self, sub: Option<&str>, limit: usize) -> Option<Slot> {
        if !self.available(sub, limit) {
            return None;
        }
        let mut counts = self.0.lock().unwrap();
        counts.total += 1;
        if let Some(sub) = sub {
            *counts.by_sub.entry(sub.to_string()).or_default() += 1;
        }
        Some(Slot { slots: self.clone(), sub: sub.map(str::to_string) })
    }

    /// Snapshots in progress of principal `sub`.
    pub fn in_progress_of(&self, sub: &str) -> usize {
        self.0.lock().unwrap().by_sub.get(sub).copied().unwrap_or(0)
    }

    /// Snapshots in progress.
    pub fn in_progress(&self) -> usize {
        self.0.lock().unwrap().total
    }

    /// Whether a slot was given back since the last call (waiting streams may start now).
    pub fn take_released(&self) -> bool {
        std::mem::take(&mut self.0.lock().unwrap().released)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.0.lock().unwrap();
        counts.total -= 1;
        counts.released = true;
        if let Some(sub) = &self.sub {
            let n = counts.by_sub.get_mut(sub).expect("a held slot is counted");
            *n -= 1;
            if *n == 0 {
                counts.by_sub.remove(sub);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_per_principal_and_come_back_when_dropped() {
        let slots = Slots::default();
        let a1 = slots.take(Some("a"), 2).unwrap();
        let _a2 = slots.take(Some("a"), 2).unwrap();
        assert!(slots.take(Some("a"), 2).is_none(), "a is at its limit");
        let _b = slots.take(Some("b"), 2).unwrap();
        let anonymous: Vec<Slot> = (0..5).map(|_| slots.take(None, 2).unwrap()).collect();
        assert_eq!(slots.in_progress(), 8);
        assert!(!slots.take_released());
        drop(a1);
        assert!(slots.take_released());
        assert!(!slots.take_released(), "reported once");
        assert!(slots.available(Some("a"), 2));
        drop(anonymous);
        assert_eq!(slots.in_progress(), 2);
    }
}
