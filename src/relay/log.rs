//! The bounded event log: the last `capacity` events of the relay's global sequence, for resuming
//! streams after `Last-Event-ID`. Replay costs O(events after the cursor).

use std::collections::VecDeque;

use super::ids::ResyncReason;

/// A ring of the most recent events, numbered 1, 2, 3, … (the relay's global sequence).
pub struct EventLog<E> {
    events: VecDeque<E>,
    capacity: usize,
    /// The number of the newest event (0 before the first).
    head: u64,
}

impl<E> EventLog<E> {
    pub fn new(capacity: usize) -> Self {
        EventLog { events: VecDeque::with_capacity(capacity.min(1 << 16)), capacity, head: 0 }
    }

    /// The number of the newest event; a snapshot taken now reflects every event up to it.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The number the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.head + 1
    }

    /// Appends the event numbered [`EventLog::next_seq`], evicting the oldest when full.
    pub fn push(&mut self, event: E) {
        self.head += 1;
        if self.capacity == 0 {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The events after number `n`, oldest first, if all of them are still held; `n` beyond the head is
    /// an id this log never issued.
    pub fn after(&self, n: u64) -> Result<impl Iterator<Item = &E>, ResyncReason> {
        if n > self.head {
            return Err(ResyncReason::UnknownEventId);
        }
        let missing = (self.head - n) as usize;
        if missing > self.events.len() {
            return Err(ResyncReason::Gap);
        }
        Ok(self.events.iter().skip(self.events.len() - missing))
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(capacity: usize, count: u64) -> EventLog<u64> {
        let mut log = EventLog::new(capacity);
        for n in 1..=count {
            assert_eq!(log.next_seq(), n);
            log.push(n);
        }
        log
    }

    fn after(log: &EventLog<u64>, n: u64) -> Result<Vec<u64>, ResyncReason> {
        log.after(n).map(|events| events.copied().collect())
    }

    #[test]
    fn replays_exactly_the_events_after_the_cursor() {
        let log = log_of(5, 3);
        assert_eq!(after(&log, 0), Ok(vec![1, 2, 3]));
        assert_eq!(after(&log, 2), Ok(vec![3]));
        assert_eq!(after(&log, 3), Ok(vec![]));
    }

    #[test]
    fn keeps_only_the_last_capacity_events() {
        let log = log_of(5, 12);
        assert_eq!(log.len(), 5);
        assert_eq!(log.head(), 12);
        assert_eq!(after(&log, 7), Ok(vec![8, 9, 10, 11, 12]));
        assert_eq!(after(&log, 6), Err(ResyncReason::Gap));
        assert_eq!(after(&log, 0), Err(ResyncReason::Gap));
    }

    #[test]
    fn a_cursor_beyond_the_head_was_never_issued() {
        let log = log_of(5, 3);
        assert_eq!(after(&log, 4), Err(ResyncReason::UnknownEventId));
        assert_eq!(after(&log, u64::MAX), Err(ResyncReason::UnknownEventId));
    }

    #[test]
    fn a_log_without_capacity_resumes_only_at_the_head() {
        let log = log_of(0, 4);
        assert!(log.is_empty());
        assert_eq!(after(&log, 4), Ok(vec![]));
        assert_eq!(after(&log, 3), Err(ResyncReason::Gap));
    }
}
