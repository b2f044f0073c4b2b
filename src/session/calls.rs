//! Pending requests and how replies find them.
//!
//! Every request that expects a reply (a reducer call, a subscription) gets a `request_id` the server
//! echoes. Reducer results need one more rule: SpacetimeDB 1.3.0 sends a *failed* reducer's result with
//! `request_id = 0` (protocol doc §2.6; fixed in 2.2). The server runs one connection's calls strictly in
//! the order it received them, and sends results in that order, so such a reply belongs to the **oldest**
//! still-pending call of the same reducer on this connection.

use std::collections::VecDeque;

use tokio::sync::oneshot;

/// What the server reported for a committed reducer call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    pub request_id: u32,
    /// When the reducer started, µs since the Unix epoch.
    pub timestamp_micros: i64,
    pub energy_quanta_used: u128,
    pub duration_micros: i64,
    /// A procedure's return value (BSATN of its return type); `None` for reducer calls.
    pub returned: Option<Box<[u8]>>,
}

/// One request waiting for its reply.
struct Pending<T> {
    request_id: u32,
    /// The reducer name for reducer calls (used by the `request_id = 0` rule), empty otherwise.
    reducer: Box<str>,
    reply: oneshot::Sender<T>,
}

/// Requests waiting for replies, in the order they were sent.
pub struct PendingRequests<T> {
    next_request_id: u32,
    // Send order matters for the 1.3.0 rule, and the list stays short (concurrent requests of one
    // gateway), so a deque with linear search beats a map here.
    pending: VecDeque<Pending<T>>,
}

impl<T> Default for PendingRequests<T> {
    fn default() -> Self {
        PendingRequests { next_request_id: 1, pending: VecDeque::new() }
    }
}

impl<T> PendingRequests<T> {
    /// Registers a request and returns its `request_id` (never 0, which 1.3.0 uses as "unknown") and the
    /// receiver of its reply. Register **before** sending, so a fast reply always finds its request.
    pub fn register(&mut self, reducer: &str) -> (u32, oneshot::Receiver<T>) {
        let request_id = self.next_request_id;
        self.next_request_id = match self.next_request_id.wrapping_add(1) {
            0 => 1,
            n => n,
        };
        let (reply, rx) = oneshot::channel();
        self.pending.push_back(Pending { request_id, reducer: reducer.into(), reply });
        (request_id, rx)
    }

    /// Delivers `outcome` to the request it answers. `request_id = 0` selects the oldest pending request
    /// for `reducer`. Returns false when no pending request matches (e.g. it timed out already).
    pub fn resolve(&mut self, request_id: u32, reducer: &str, outcome: T) -> bool {
        match self.take(request_id, reducer) {
            // The receiver may be gone (its caller timed out or was dropped): nothing to do.
            Some(reply) => {
                let _ = reply.send(outcome);
                true
            }
            None => false,
        }
    }

    /// Removes the request a reply answers (same rules as [`PendingRequests::resolve`]) and returns its
    /// reply channel, for a caller that answers it later.
    pub fn take(&mut self, request_id: u32, reducer: &str) -> Option<oneshot::Sender<T>> {
        let index = if request_id != 0 {
            self.pending.iter().position(|p| p.request_id == request_id)
        } else {
            self.pending.iter().position(|p| &*p.reducer == reducer)
        };
        index.and_then(|i| self.pending.remove(i)).map(|p| p.reply)
    }

    /// Forgets a request whose caller stopped waiting (timeout).
    pub fn forget(&mut self, request_id: u32) {
        self.pending.retain(|p| p.request_id != request_id);
    }

    /// Answers every pending request with `make()` (e.g. a `CLOSED` error) and empties the list.
    pub fn fail_all(&mut self, mut make: impl FnMut() -> T) {
        for p in self.pending.drain(..) {
            let _ = p.reply.send(make());
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_zero_and_wrap() {
        let mut p = PendingRequests::<u8> { next_request_id: u32::MAX, ..Default::default() };
        let (a, _ra) = p.register("r");
        let (b, _rb) = p.register("r");
        assert_eq!((a, b), (u32::MAX, 1));
    }

    #[test]
    fn a_reply_finds_its_request_by_id_even_out_of_order() {
        let mut p = PendingRequests::default();
        let (a, mut ra) = p.register("x");
        let (b, mut rb) = p.register("x");
        assert!(p.resolve(b, "x", "second"));
        assert!(p.resolve(a, "x", "first"));
        assert_eq!((ra.try_recv().unwrap(), rb.try_recv().unwrap()), ("first", "second"));
        assert!(p.is_empty());
    }

    #[test]
    fn request_id_zero_goes_to_the_oldest_call_of_that_reducer() {
        let mut p = PendingRequests::default();
        let (_, mut other) = p.register("update_document");
        let (_, mut first) = p.register("create_document");
        let (_, mut second) = p.register("create_document");
        assert!(p.resolve(0, "create_document", 1));
        assert_eq!(first.try_recv().unwrap(), 1);
        assert!(second.try_recv().is_err() && other.try_recv().is_err());
        assert!(p.resolve(0, "create_document", 2));
        assert_eq!(second.try_recv().unwrap(), 2);
        assert!(!p.resolve(0, "create_document", 3), "no create_document call is pending any more");
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn forgotten_and_failed_requests() {
        let mut p = PendingRequests::default();
        let (a, _ra) = p.register("r");
        let (_, mut rb) = p.register("r");
        p.forget(a);
        assert!(!p.resolve(a, "r", 1), "a forgotten request gets no late reply");
        p.fail_all(|| 99);
        assert_eq!(rb.try_recv().unwrap(), 99);
        assert!(p.is_empty());
    }
}
