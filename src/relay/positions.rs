//! Database positions: every gateway replica names a committed transaction the same way, so a client's
//! `Last-Event-ID` from one replica is a position in another's log.
//!
//! SpacetimeDB orders every transaction of a database and sends each one, in that order, to every
//! connection subscribed to it — with the same rows for the same queries. What the protocol does *not*
//! send is a position: v1 has a timestamp (taken when the reducer starts, so two transactions may share
//! a microsecond, and a clock step may even reverse it), v2/v3 give other subscribers nothing at all. So
//! a replica derives the name — the transaction's **key** — from what every replica receives:
//!
//! `key = blake3(previous content, shared timestamp, content)`, 64 bits, where `content` is the digest of
//! the transaction's relayed changes (each change digested on its own — table, old row, new row — and
//! the digests sorted, so the order a server happened to write rows in does not matter; the relay also
//! *delivers* a transaction's changes in that sorted order, so "the first `i` events of the
//! transaction" — what a mid-transaction id means — is the same list on every replica), `previous
//! content` is the content of the transaction relayed before it, and the timestamp is included when
//! every replica receives it (v1).
//!
//! Why this is safe:
//! - **Unique or refused.** Two transactions with the same key in one log (the same changes, after the
//!   same changes, in the same microsecond — or on v2/v3 a toggle repeated twice) make that key
//!   *ambiguous*: resuming from it gives `resync`, never the wrong place.
//! - **Gaps are not crossed.** A replica that lost its connection missed transactions; when the new
//!   connection's difference arrives ([`crate::projection::ChangeSink::on_gap`]) it forgets every key it
//!   knew, so a client positioned before the gap resyncs instead of resuming across it. Had a
//!   transaction gone missing unnoticed, the next key would differ too (its `previous content` does).
//! - **Late joiners** know the keys of what they saw: a position before a replica started, or before its
//!   log's oldest event, is unknown there (`resync`), as it is today for a restarted gateway.
//! - The replicas must relay the same tables (the same module and gateway configuration); one that
//!   relays other rows computes other keys, and its clients resync — a rolling deploy that changes the
//!   relayed tables costs one snapshot per client, never a wrong resume.

use std::collections::{HashMap, VecDeque};

use super::ids::{Anchor, ResyncReason};
use crate::projection::{Commit, RowChange};

/// A digest of one change or of one transaction's changes.
pub type Digest = [u8; 32];

/// The digest of one relayed change of `table`.
pub fn change_digest(table: &str, change: &RowChange) -> Digest {
    let (old, new) = match change {
        RowChange::Insert { row } => (None, Some(row)),
        RowChange::Update { old, new } => (Some(old), Some(new)),
        RowChange::Delete { row } => (Some(row), None),
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"change");
    write_bytes(&mut hasher, table.as_bytes());
    for row in [old, new] {
        match row {
            Some(row) => write_bytes(hasher.update(&[1]), row),
            None => drop(hasher.update(&[0])),
        }
    }
    *hasher.finalize().as_bytes()
}

/// The digest of one row of event table `table` (v2/v3: relayed as `<table>.event`).
pub fn occurrence_digest(table: &str, row: &[u8]) -> Digest {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"event");
    write_bytes(&mut hasher, table.as_bytes());
    write_bytes(&mut hasher, row);
    *hasher.finalize().as_bytes()
}

/// The content of a transaction: the digest of its change digests, which must be sorted.
pub fn content_digest(sorted: &[Digest]) -> Digest {
    debug_assert!(sorted.is_sorted());
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"content");
    hasher.update(&(sorted.len() as u64).to_le_bytes());
    for digest in sorted {
        hasher.update(digest);
    }
    *hasher.finalize().as_bytes()
}

fn write_bytes(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// The key of a transaction with `content`, relayed after one with `previous` (none: the first this
/// relay saw, or the first after a gap).
pub fn tx_key(previous: Option<&Digest>, commit: &Commit, content: &Digest) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"spacetime-gateway tx key v1");
    match previous {
        Some(p) => hasher.update(&[1]).update(p),
        None => hasher.update(&[0]),
    };
    match commit.shared_timestamp_micros {
        Some(t) => hasher.update(&[1]).update(&t.to_le_bytes()),
        None => hasher.update(&[0]),
    };
    hasher.update(content);
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// A keyed transaction in the log: events `first..=last`.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    first: u64,
    last: u64,
}

/// What is known of a key: how many transactions of the log have it, and the newest one's events.
#[derive(Clone, Copy, Debug)]
struct Known {
    count: u32,
    first: u64,
    last: u64,
}

/// The keyed transactions whose events are still in the log, and the content of the last one.
#[derive(Default)]
pub struct Positions {
    /// Oldest first; `first` increases.
    entries: VecDeque<Entry>,
    by_key: HashMap<u64, Known>,
    previous: Option<Digest>,
}

impl Positions {
    /// The content of the transaction relayed last, since the last gap.
    pub fn previous(&self) -> Option<&Digest> {
        self.previous.as_ref()
    }

    /// Records a transaction with `content` whose events are `first..=last`.
    pub fn record(&mut self, key: u64, first: u64, last: u64, content: Digest) {
        self.entries.push_back(Entry { key, first, last });
        self.by_key.entry(key).and_modify(|k| *k = Known { count: k.count + 1, first, last }).or_insert(Known {
            count: 1,
            first,
            last,
        });
        self.previous = Some(content);
    }

    /// Forgets the transactions whose events are all before `oldest`: no stream resumes there.
    pub fn evict_before(&mut self, oldest: u64) {
        while let Some(entry) = self.entries.front().copied().filter(|e| e.last < oldest) {
            self.entries.pop_front();
            match self.by_key.get_mut(&entry.key) {
                // The newest of several: the others (newer) stay.
                Some(known) if known.count > 1 => known.count -= 1,
                _ => {
                    self.by_key.remove(&entry.key);
                }
            }
        }
    }

    /// Forgets everything: the relay may have missed transactions (see [`crate::projection::ChangeSink::on_gap`]).
    pub fn forget(&mut self) {
        self.entries.clear();
        self.by_key.clear();
        self.previous = None;
    }

    /// The events `first..=last` of the transaction `key`.
    pub fn resolve(&self, key: u64) -> Result<(u64, u64), ResyncReason> {
        match self.by_key.get(&key) {
            Some(known) if known.count == 1 => Ok((known.first, known.last)),
            // Ambiguous or unknown (before this relay started, before its last gap, or evicted).
            _ => Err(ResyncReason::UnknownEventId),
        }
    }

    /// The keyed transaction that holds event `position`, if any (and its key is not ambiguous).
    pub fn anchor_of(&self, position: u64) -> Option<Anchor> {
        let after = self.entries.partition_point(|e| e.first <= position);
        let entry = self.entries.get(after.checked_sub(1)?)?;
        (position <= entry.last && self.resolve(entry.key).is_ok())
            .then_some(Anchor { key: entry.key, first: entry.first })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Row;

    fn insert(bytes: &[u8]) -> RowChange {
        RowChange::Insert { row: Row::from(bytes) }
    }

    #[test]
    fn a_change_digest_covers_table_kind_and_rows() {
        let row = Row::from(&b"ab"[..]);
        let digests = [
            change_digest("doc", &insert(b"ab")),
            change_digest("note", &insert(b"ab")),
            change_digest("doc", &RowChange::Delete { row: row.clone() }),
            change_digest("doc", &RowChange::Update { old: row.clone(), new: row.clone() }),
            change_digest("doc", &insert(b"abc")),
            // Lengths are part of the digest: "do" + "cab" is not "doc" + "ab".
            change_digest("do", &insert(b"cab")),
        ];
        for (i, a) in digests.iter().enumerate() {
            for b in &digests[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(digests[0], change_digest("doc", &insert(b"ab")));
    }

    #[test]
    fn a_key_depends_on_content_previous_content_and_a_shared_timestamp() {
        let (a, b) = (content_digest(&[[1; 32]]), content_digest(&[[2; 32]]));
        let plain = Commit::default();
        let timed = Commit { shared_timestamp_micros: Some(7) };
        let key = tx_key(Some(&a), &plain, &b);
        assert_eq!(key, tx_key(Some(&a), &plain, &b), "deterministic");
        for other in [
            tx_key(None, &plain, &b),
            tx_key(Some(&b), &plain, &b),
            tx_key(Some(&a), &plain, &a),
            tx_key(Some(&a), &timed, &b),
            tx_key(Some(&a), &Commit { shared_timestamp_micros: Some(8) }, &b),
        ] {
            assert_ne!(key, other);
        }
    }

    #[test]
    fn resolves_unique_keys_and_refuses_ambiguous_ones() {
        let mut p = Positions::default();
        p.record(10, 1, 3, [0; 32]);
        p.record(20, 4, 4, [1; 32]);
        p.record(10, 5, 6, [2; 32]);
        assert_eq!(p.resolve(20), Ok((4, 4)));
        assert_eq!(p.resolve(10), Err(ResyncReason::UnknownEventId), "two transactions share key 10");
        assert_eq!(p.resolve(30), Err(ResyncReason::UnknownEventId));
        assert_eq!(p.previous(), Some(&[2; 32]));
        // The older key-10 transaction leaves the log: the newer one is the only one left.
        p.evict_before(4);
        assert_eq!(p.resolve(10), Ok((5, 6)));
        p.evict_before(7);
        assert_eq!(p.resolve(10), Err(ResyncReason::UnknownEventId));
        assert_eq!(p.resolve(20), Err(ResyncReason::UnknownEventId));
    }

    #[test]
    fn anchors_name_the_transaction_holding_a_position() {
        let mut p = Positions::default();
        p.record(10, 2, 4, [0; 32]);
        p.record(20, 7, 7, [1; 32]);
        assert_eq!(p.anchor_of(1), None);
        assert_eq!(p.anchor_of(2), Some(Anchor { key: 10, first: 2 }));
        assert_eq!(p.anchor_of(4), Some(Anchor { key: 10, first: 2 }));
        assert_eq!(p.anchor_of(5), None, "a local position between two transactions");
        assert_eq!(p.anchor_of(7), Some(Anchor { key: 20, first: 7 }));
        assert_eq!(p.anchor_of(8), None);
    }

    #[test]
    fn a_gap_forgets_every_key() {
        let mut p = Positions::default();
        p.record(10, 1, 1, [0; 32]);
        p.forget();
        assert_eq!(p.resolve(10), Err(ResyncReason::UnknownEventId));
        assert_eq!(p.anchor_of(1), None);
        assert_eq!(p.previous(), None);
    }
}
