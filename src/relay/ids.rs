//! Event ids: `<epoch><selection>-<k>`.
//!
//! `epoch` (12 hex digits) is random per relay (per gateway process), so an id from another process, or
//! from before a restart, is recognised as unknown instead of being mistaken for a position in this log.
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

/// The part of a stream's ids before `-<k>`: the epoch and the selection's fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPrefix(String);

impl IdPrefix {
    pub fn new(epoch: &Epoch, selection_fingerprint: u32) -> IdPrefix {
        IdPrefix(format!("{}{selection_fingerprint:08x}", epoch.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id text of position `k`.
    pub fn id(&self, k: u64) -> String {
        format!("{}-{k}", self.0)
    }
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

/// The `k` of an id issued by this relay (any selection), whatever it means.
pub fn id_k(text: &str, epoch: &Epoch) -> Option<u64> {
    split_id(text)
        .filter(|(prefix, _)| prefix.len() == epoch.0.len() + 8 && prefix.starts_with(&epoch.0))
        .map(|(_, k)| k)
}

/// Reads a `Last-Event-ID` for a stream whose ids start with `prefix`. Only the exact form this relay
/// writes is accepted: anything else is [`ResyncReason::UnknownEventId`].
pub fn parse_last_event_id(text: &str, prefix: &IdPrefix, epoch: &Epoch) -> ResumePoint {
    let Some(k) = id_k(text, epoch) else { return ResumePoint::Resync(ResyncReason::UnknownEventId) };
    if !text.starts_with(prefix.as_str()) {
        return ResumePoint::Resync(ResyncReason::SelectionChanged);
    }
    match k % 3 {
        1 => ResumePoint::Resync(ResyncReason::SnapshotIncomplete),
        _ => ResumePoint::After(k / 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(id_k(&prefix.id(21), &epoch), Some(21));
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
