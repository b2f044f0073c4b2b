//! Event ids: `<epoch><selection>-<k>` (local) and `t<tx><selection>-<k>` (database positions).
//!
//! `selection` (8 hex digits) is a fingerprint of the stream's selection (tenant, tables, `where`): a
//! client that resumes under another selection than the one its id was issued for (its rights were
//! narrowed while it was away) holds rows it may no longer see, so it must resync, not continue. `k` is a
//! position in a tripled space so that every kind of frame that carries an id sorts correctly within one
//! stream:
//! - change event number `n` (the relay's global sequence, +1 per relayed row change): `k = 3n`;
//! - a snapshot taken at log position `P` (it reflects every event ≤ P): its first frame carries
//!   `k = 3P+1` ("snapshot in progress": resuming from there needs a fresh snapshot), its `end` frame
//!   `k = 3P+2` ("snapshot complete at P": resuming from there continues after event P).
//!
//! The next event after a snapshot at `P` is `3P+3`, so ids strictly increase along every stream. A
//! stream that needs a second snapshot at the same position (narrowed right after its snapshot, or
//! resumed from a snapshot id at the head) would repeat `3P+1`; the relay then first logs a *barrier*: an
//! event that no stream receives, which moves the position to `P+1` (see `Relay`).
//!
//! Positions are numbered by each relay (each gateway process). Two forms say where one is:
//! - **database** — `t` + the 16 hex digits of a committed transaction's key (see [`super::positions`]),
//!   and `k` counted from that transaction's first event (`k = 3i` for its event `i`, `3i+2` for a
//!   snapshot complete after it). Every replica that saw the transaction, and nothing it missed since,
//!   finds the same position: a client resumes on any of them;
//! - **local** — the relay's random `epoch` (12 hex digits) and `k` itself: positions that are not in a
//!   committed transaction (barriers, subscription changes, the difference after a reconnect, snapshot
//!   starts). Only this relay places them; any other process, or this one after a restart, says
//!   `unknown_event_id`.

use rand::Rng;

/// Why a stream must be re-snapshotted; the `reason` of a `resync` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResyncReason {
    /// The events after the client's last id are no longer in the log.
    Gap,
    /// The client fell behind and its queue overflowed.
    SlowClient,
    /// The stream's selection was narrowed: the client must drop what it may no longer see.
    Narrowed,
    /// The last id is garbled, from another gateway process, or from the future.
    UnknownEventId,
    /// The client reconnected in the middle of a snapshot.
    SnapshotIncomplete,
    /// The id was issued for another selection of this gateway (e.g. before the client's rights changed).
    SelectionChanged,
}

impl ResyncReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            ResyncReason::Gap => "gap",
            ResyncReason::SlowClient => "slow_client",
            ResyncReason::Narrowed => "narrowed",
            ResyncReason::UnknownEventId => "unknown_event_id",
            ResyncReason::SnapshotIncomplete => "snapshot_incomplete",
            ResyncReason::SelectionChanged => "selection_changed",
        }
    }
}

/// The random part of every id of one relay: 12 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch(String);

impl Epoch {
    pub fn random() -> Epoch {
        Epoch(format!("{:012x}", rand::thread_rng().gen::<u64>() & 0xffff_ffff_ffff))
    }

    /// A fixed epoch (tests).
    pub fn fixed(text: &str) -> Epoch {
        Epoch(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a stream's ids are made of besides the position: the relay's epoch and the selection's
/// fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPrefix {
    /// `<epoch><fingerprint>`: the local form's prefix.
    local: String,
    fingerprint: u32,
}

impl IdPrefix {
    pub fn new(epoch: &Epoch, selection_fingerprint: u32) -> IdPrefix {
        IdPrefix { local: format!("{}{selection_fingerprint:08x}", epoch.0), fingerprint: selection_fingerprint }
    }

    /// The local form's prefix.
    pub fn as_str(&self) -> &str {
        &self.local
    }

    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// The local id of position `k`.
    pub fn id(&self, k: u64) -> String {
        format!("{}-{k}", self.local)
    }

    /// The id of position `k`: the database form when `anchor` says which committed transaction holds it
    /// (snapshot starts excepted: they only ever mean "resync"), the local form otherwise.
    pub fn id_at(&self, k: u64, anchor: Option<Anchor>) -> String {
        match anchor {
            Some(a) if k % 3 != 1 && k >= 3 * a.first => {
                format!("t{:016x}{:08x}-{}", a.key, self.fingerprint, k - 3 * a.first)
            }
            _ => self.id(k),
        }
    }
}

/// A committed transaction in the log: its key and the number of its first event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub key: u64,
    pub first: u64,
}

/// `k` of change event `n`.
pub const fn event_k(n: u64) -> u64 {
    3 * n
}

/// `k` of the first frame of a snapshot at position `p`.
pub const fn snapshot_started_k(p: u64) -> u64 {
    3 * p + 1
}

/// `k` of the `end` frame of a snapshot at position `p`.
pub const fn snapshot_complete_k(p: u64) -> u64 {
    3 * p + 2
}

/// Where a `Last-Event-ID` says the client is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumePoint {
    /// The client has every event up to and including `n` (it may still be far behind: the log decides).
    After(u64),
    /// The id cannot be resumed from.
    Resync(ResyncReason),
}

/// The prefix and `k` of an id in canonical form (no signs, spaces or leading zeros).
fn split_id(text: &str) -> Option<(&str, u64)> {
    let (prefix, digits) = text.rsplit_once('-')?;
    let canonical =
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse::<u64>().ok().map(|k| (prefix, k))).flatten()
}

/// A 32-bit fingerprint of `value` that every gateway process computes the same (ids carry it, and a
/// replica must recognise another's): blake3 over the value's `Hash` writes, not std's hasher, whose
/// algorithm may change between Rust releases.
pub fn fingerprint(value: &impl std::hash::Hash) -> u32 {
    struct Blake3(blake3::Hasher);
    impl std::hash::Hasher for Blake3 {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            u64::from_le_bytes(self.0.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
        }
    }
    let mut hasher = Blake3(blake3::Hasher::new());
    value.hash(&mut hasher);
    std::hash::Hasher::finish(&hasher) as u32
}

/// Where an id says its client is, before the log is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdPosition {
    /// A local id of this relay: position `k`.
    Local(u64),
    /// A database id: position `k` counted from the first event of the transaction `key`.
    Database { key: u64, k: u64 },
}

/// Reads an id in one of the exact forms relays write (no signs, spaces, leading zeros or upper case);
/// a local id of another epoch is `None`. Returns the position and the selection fingerprint.
pub fn read_id(text: &str, epoch: &Epoch) -> Option<(IdPosition, u32)> {
    let (prefix, k) = split_id(text)?;
    let lower_hex = |t: &str| t.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let fingerprint = |t: &str| (t.len() == 8 && lower_hex(t)).then(|| u32::from_str_radix(t, 16).ok()).flatten();
    if let Some(rest) = prefix.strip_prefix('t').filter(|r| r.len() == 24 && lower_hex(r)) {
        let key = u64::from_str_radix(&rest[..16], 16).ok()?;
        return Some((IdPosition::Database { key, k }, fingerprint(&rest[16..])?));
    }
    let rest = prefix.strip_prefix(epoch.0.as_str()).filter(|_| prefix.len() == epoch.0.len() + 8)?;
    Some((IdPosition::Local(k), fingerprint(rest)?))
}

/// Where a `Last-Event-ID` puts a stream whose ids start with `prefix`, given `local_k`: the local
/// position of the id (`Err` when the log cannot place it). Only the exact forms relays write are read.
pub fn resume_point(fingerprint: u32, prefix: &IdPrefix, local_k: Result<u64, ResyncReason>) -> ResumePoint {
    if fingerprint != prefix.fingerprint {
        return ResumePoint::Resync(ResyncReason::SelectionChanged);
    }
    match local_k {
        Err(reason) => ResumePoint::Resync(reason),
        Ok(k) if k % 3 == 1 => ResumePoint::Resync(ResyncReason::SnapshotIncomplete),
        Ok(k) => ResumePoint::After(k / 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the relay makes of a local id (database ids are placed by the log: `relay::tests`).
    fn parse_last_event_id(text: &str, prefix: &IdPrefix, epoch: &Epoch) -> ResumePoint {
        match read_id(text, epoch) {
            None => ResumePoint::Resync(ResyncReason::UnknownEventId),
            Some((IdPosition::Local(k), fingerprint)) => resume_point(fingerprint, prefix, Ok(k)),
            Some((IdPosition::Database { .. }, _)) => panic!("{text} is a database id"),
        }
    }

    fn prefixes() -> (Epoch, IdPrefix) {
        let epoch = Epoch::fixed("00000000abcd");
        let prefix = IdPrefix::new(&epoch, 0x1234);
        (epoch, prefix)
    }

    #[test]
    fn every_frame_kind_sorts_along_a_stream() {
        let p = 41;
        let order = [event_k(p), snapshot_started_k(p), snapshot_complete_k(p), event_k(p + 1)];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn ids_read_back_to_their_resume_point() {
        let (epoch, prefix) = prefixes();
        assert_eq!(prefix.id(event_k(7)), "00000000abcd00001234-21");
        let parse = |k| parse_last_event_id(&prefix.id(k), &prefix, &epoch);
        assert_eq!(parse(event_k(7)), ResumePoint::After(7));
        assert_eq!(parse(snapshot_complete_k(7)), ResumePoint::After(7));
        assert_eq!(parse(event_k(0)), ResumePoint::After(0));
        assert_eq!(parse(snapshot_started_k(7)), ResumePoint::Resync(ResyncReason::SnapshotIncomplete));
        assert_eq!(read_id(&prefix.id(21), &epoch), Some((IdPosition::Local(21), 0x1234)));
    }

    #[test]
    fn database_ids_count_from_their_transaction() {
        let (epoch, prefix) = prefixes();
        let anchor = Some(Anchor { key: 0xfeed_0000_0000_00ab, first: 5 });
        // Event 6 is the transaction's second event; a snapshot complete at 6 is after it.
        assert_eq!(prefix.id_at(event_k(6), anchor), "tfeed0000000000ab00001234-3");
        assert_eq!(prefix.id_at(snapshot_complete_k(6), anchor), "tfeed0000000000ab00001234-5");
        // Snapshot starts, positions before the transaction and unanchored ones stay local.
        assert_eq!(prefix.id_at(snapshot_started_k(6), anchor), prefix.id(snapshot_started_k(6)));
        assert_eq!(prefix.id_at(event_k(4), anchor), prefix.id(event_k(4)));
        assert_eq!(prefix.id_at(event_k(6), None), prefix.id(event_k(6)));
        let read = read_id("tfeed0000000000ab00001234-3", &epoch);
        assert_eq!(read, Some((IdPosition::Database { key: 0xfeed_0000_0000_00ab, k: 3 }, 0x1234)));
        // Any epoch reads database ids: they do not depend on the process.
        assert_eq!(read_id("tfeed0000000000ab00001234-3", &Epoch::fixed("111111111111")), read);
        for garbled in [
            "tfeed0000000000ab0000123-3",
            "tfeed0000000000AB00001234-3",
            "Tfeed0000000000ab00001234-3",
            "tfeed0000000000ab00001234-03",
            "tfeed0000000000ab000012345-3",
            "t-3",
        ] {
            assert_eq!(read_id(garbled, &epoch), None, "{garbled}");
        }
    }

    #[test]
    fn an_id_of_another_selection_resyncs() {
        let (epoch, prefix) = prefixes();
        let other = IdPrefix::new(&epoch, 0x4321);
        assert_eq!(
            parse_last_event_id(&other.id(21), &prefix, &epoch),
            ResumePoint::Resync(ResyncReason::SelectionChanged)
        );
    }

    #[test]
    fn garbled_and_foreign_ids_are_unknown() {
        let (epoch, prefix) = prefixes();
        let unknown = ResumePoint::Resync(ResyncReason::UnknownEventId);
        let other = IdPrefix::new(&Epoch::fixed("00000000abce"), 0x1234);
        for text in [
            "",
            "-",
            "21",
            "00000000abcd00001234-",
            "00000000abcd00001234-021",
            "00000000abcd00001234-+21",
            "00000000abcd00001234- 21",
            "00000000abcd00001234-21 ",
            "00000000abcd00001234-1e3",
            "00000000abcd00001234-99999999999999999999999",
            "00000000abcd-21",
            "x00000000abcd00001234-21",
            "00000000ABCD00001234-21",
            "\u{1f600}-3",
        ] {
            assert_eq!(parse_last_event_id(text, &prefix, &epoch), unknown, "{text:?}");
        }
        assert_eq!(parse_last_event_id(&other.id(21), &prefix, &epoch), unknown);
    }

    #[test]
    fn random_epochs_differ_and_have_a_fixed_form() {
        let (a, b) = (Epoch::random(), Epoch::random());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 12);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
