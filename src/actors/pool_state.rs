//! The per-user pool's bookkeeping, without I/O: which connection a call may use, when one must be
//! opened, which idle one to evict for room, and what to close. `pool` drives it with real connections.
//!
//! Every socket counts against `max` from the moment it is being opened until its close has finished,
//! so `max` bounds the sockets the process holds, not just the ones in use.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::token_check::PoolKey;

/// Identifies a pooled connection within its pool.
pub type ConnId = u64;

/// What the pool needs to know of a connection.
pub trait Liveness {
    /// The connection ended by itself (the server closed it): it carries no more calls.
    fn is_closed(&self) -> bool;
}

/// `gateway.poolStats()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Sockets held: open, being opened and being closed.
    pub connections: usize,
    /// Open connections with a call in flight.
    pub busy: usize,
    /// Open connections without one.
    pub idle: usize,
    /// Connections closed to make room (least recently used) or after `idleTimeout`, since the start.
    pub evicted: u64,
    /// Connections opened since the start.
    pub opened: u64,
}

/// The next step of a call looking for a connection.
#[derive(Debug)]
pub enum Acquire<C> {
    /// Use `conn`; the call counts as in flight on it until [`PoolState::release`].
    Use {
        /// The connection's id, for [`PoolState::release`].
        id: ConnId,
        /// The connection.
        conn: C,
    },
    /// Open a connection for the key (its slot is reserved), then report [`PoolState::opened`] or
    /// [`PoolState::open_failed`]. `evict`: the least recently used idle connection, whose slot this one
    /// takes over — close it (and wait for that) *before* opening, so the sockets never exceed the limit.
    /// `close`: a dead connection found on the way (its slot is counted until [`PoolState::closed_one`]).
    Open {
        /// An idle connection to close before opening (its slot is this one's).
        evict: Option<C>,
        /// Dead connections to close in the background.
        close: Vec<C>,
    },
    /// Nothing to do until the state changes: a connection for this key is being opened, or every slot
    /// is taken by a connection with calls in flight (`full`). `close`: a dead connection found on the way.
    Wait {
        /// Every slot is taken (rather than: this key's connection is being opened).
        full: bool,
        /// Dead connections to close in the background.
        close: Vec<C>,
    },
    /// The pool is closed.
    Shut,
}

struct Entry<C> {
    key: PoolKey,
    conn: C,
    /// The token the connection was opened with (SpacetimeDB verified exactly this string).
    token: Arc<str>,
    busy: usize,
    last_used: Instant,
    /// Replaced by a newer connection for the same key: closes once its calls are done.
    retired: bool,
}

/// The state of one pool.
pub struct PoolState<C> {
    max: usize,
    conns: HashMap<ConnId, Entry<C>>,
    /// The connection new calls of a key use.
    current: HashMap<PoolKey, ConnId>,
    /// Keys whose connection is being opened.
    opening: HashSet<PoolKey>,
    /// Connections handed out to be closed whose close has not finished.
    closing: usize,
    next_id: ConnId,
    opened: u64,
    evicted: u64,
    shut: bool,
}

impl<C: Clone + Liveness> PoolState<C> {
    /// An empty pool holding at most `max` sockets (at least 1).
    pub fn new(max: usize) -> Self {
        PoolState {
            max: max.max(1),
            conns: HashMap::new(),
            current: HashMap::new(),
            opening: HashSet::new(),
            closing: 0,
            next_id: 1,
            opened: 0,
            evicted: 0,
            shut: false,
        }
    }

    fn sockets(&self) -> usize {
        self.conns.len() + self.opening.len() + self.closing
    }

    /// Takes an entry out to be closed (it still counts until [`PoolState::closed_one`]).
    fn take_for_close(&mut self, id: ConnId) -> Option<C> {
        let entry = self.conns.remove(&id)?;
        if self.current.get(&entry.key) == Some(&id) {
            self.current.remove(&entry.key);
        }
        self.closing += 1;
        Some(entry.conn)
    }

    /// The step for a call of `key` with `token`. `token_verified`: the gateway's verifier accepted the
    /// token, so any connection of its key may carry it; otherwise only one opened with the same string.
    pub fn acquire(&mut self, key: &PoolKey, token: &str, token_verified: bool, now: Instant) -> Acquire<C> {
        if self.shut {
            return Acquire::Shut;
        }
        let mut close = Vec::new();
        if let Some(&id) = self.current.get(key) {
            let entry = self.conns.get_mut(&id).expect("current connections are in the table");
            if entry.conn.is_closed() {
                // Gone by itself: in-flight calls fail on their own; forget it once they released it.
                self.current.remove(key);
                entry.retired = true;
                if entry.busy == 0 {
                    close.extend(self.take_for_close(id));
                }
            } else if token_verified || *entry.token == *token {
                entry.busy += 1;
                entry.last_used = now;
                return Acquire::Use { id, conn: entry.conn.clone() };
            }
            // Otherwise another token for this identity: a new connection replaces this one.
        }
        if self.opening.contains(key) {
            return Acquire::Wait { full: false, close };
        }
        let mut evict = None;
        if self.sockets() >= self.max {
            let lru =
                self.conns.iter().filter(|(_, e)| e.busy == 0).min_by_key(|(_, e)| e.last_used).map(|(id, _)| *id);
            let Some(id) = lru else { return Acquire::Wait { full: true, close } };
            // Its slot passes to the connection about to be opened (not counted as closing).
            let entry = self.conns.remove(&id).expect("found above");
            if self.current.get(&entry.key) == Some(&id) {
                self.current.remove(&entry.key);
            }
            self.evicted += 1;
            evict = Some(entry.conn);
        }
        self.opening.insert(key.clone());
        Acquire::Open { evict, close }
    }

    /// A connection for `key` opened with `token`; the call that opened it is in flight on it. Returns its
    /// id and connections to close (the one it replaces, when idle; itself, if the pool was shut meanwhile).
    pub fn opened(&mut self, key: &PoolKey, conn: C, token: &str, now: Instant) -> (ConnId, Vec<C>) {
        self.opening.remove(key);
        self.opened += 1;
        let id = self.next_id;
        self.next_id += 1;
        let entry = Entry { key: key.clone(), conn, token: token.into(), busy: 1, last_used: now, retired: false };
        self.conns.insert(id, entry);
        let mut close = Vec::new();
        if self.shut {
            close.extend(self.take_for_close(id));
            return (id, close);
        }
        if let Some(old) = self.current.insert(key.clone(), id) {
            let entry = self.conns.get_mut(&old).expect("current connections are in the table");
            entry.retired = true;
            if entry.busy == 0 {
                close.extend(self.take_for_close(old));
            }
        }
        (id, close)
    }

    /// Opening a connection for `key` failed (or was abandoned): its slot is free again.
    pub fn open_failed(&mut self, key: &PoolKey) {
        self.opening.remove(key);
    }

    /// A call on connection `id` finished. Returns the connection if it is now to be closed (retired).
    pub fn release(&mut self, id: ConnId, now: Instant) -> Option<C> {
        let entry = self.conns.get_mut(&id)?;
        entry.busy -= 1;
        entry.last_used = now;
        if entry.retired && entry.busy == 0 {
            return self.take_for_close(id);
        }
        None
    }

    /// Takes out every connection idle for `idle_timeout` or longer, to be closed.
    pub fn evict_idle(&mut self, now: Instant, idle_timeout: Duration) -> Vec<C> {
        let idle: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, e)| e.busy == 0 && now.saturating_duration_since(e.last_used) >= idle_timeout)
            .map(|(id, _)| *id)
            .collect();
        self.evicted += idle.len() as u64;
        idle.into_iter().filter_map(|id| self.take_for_close(id)).collect()
    }

    /// The earliest moment some connection that is idle now reaches `idle_timeout`.
    pub fn next_idle_deadline(&self, idle_timeout: Duration) -> Option<Instant> {
        self.conns.values().filter(|e| e.busy == 0).map(|e| e.last_used + idle_timeout).min()
    }

    /// Shuts the pool: no more calls; every connection is taken out to be closed.
    pub fn shut(&mut self) -> Vec<C> {
        self.shut = true;
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.into_iter().filter_map(|id| self.take_for_close(id)).collect()
    }

    /// Whether [`PoolState::shut`] was called.
    pub fn is_shut(&self) -> bool {
        self.shut
    }

    /// A connection handed out to be closed has finished closing.
    pub fn closed_one(&mut self) {
        self.closing = self.closing.saturating_sub(1);
    }

    /// The counters of `gateway.poolStats()`.
    pub fn stats(&self) -> PoolStats {
        let live = self.conns.values().filter(|e| !e.retired || e.busy > 0);
        let (busy, idle) = live.fold((0, 0), |(b, i), e| if e.busy > 0 { (b + 1, i) } else { (b, i + 1) });
        PoolStats { connections: self.sockets(), busy, idle, evicted: self.evicted, opened: self.opened }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A connection that is only a name and a "closed by the server" switch.
    #[derive(Clone, Debug)]
    struct Fake {
        name: &'static str,
        dead: Rc<Cell<bool>>,
    }

    impl Liveness for Fake {
        fn is_closed(&self) -> bool {
            self.dead.get()
        }
    }

    fn fake(name: &'static str) -> Fake {
        Fake { name, dead: Rc::new(Cell::new(false)) }
    }

    fn key(sub: &str) -> PoolKey {
        PoolKey { issuer: "https://app.example.com".into(), subject: sub.into() }
    }

    fn names(conns: &[Fake]) -> Vec<&'static str> {
        conns.iter().map(|c| c.name).collect()
    }

    /// Opens a connection for `sub` with `token` and returns its id (the opening call still in flight).
    fn open(pool: &mut PoolState<Fake>, sub: &str, token: &str, conn: Fake, now: Instant) -> (ConnId, Vec<Fake>) {
        match pool.acquire(&key(sub), token, false, now) {
            Acquire::Open { evict, close } => {
                let (id, mut more) = pool.opened(&key(sub), conn, token, now);
                more.extend(close);
                more.extend(evict);
                (id, more)
            }
            other => panic!("expected Open, got {other:?}"),
        }
    }

    #[test]
    fn reuses_a_connection_for_the_same_token_string() {
        let t0 = Instant::now();
        let mut pool = PoolState::new(10);
        let (a, _) = open(&mut pool, "u1", "tok-1", fake("a"), t0);
        assert!(pool.release(a, t0).is_none());
        match pool.acquire(&key("u1"), "tok-1", false, t0) {
            Acquire::Use { id, conn } => assert_eq!((id, conn.name), (a, "a")),
            other => panic!("{other:?}"),
        }
        assert_eq!(pool.stats(), PoolStats { connections: 1, busy: 1, idle: 0, evicted: 0, opened: 1 });
    }

    #[test]
    fn another_unverified_token_for_the_identity_opens_a_replacement_and_retires_the_old_after_its_calls() {
        let t0 = Instant::now();
        let mut pool = PoolState::new(10);
        let (old, _) = open(&mut pool, "u1", "tok-1", fake("old"), t0);
        // The old connection still has its call in flight when a call with a new token arrives.
        let (new, close) = open(&mut pool, "u1", "tok-2", fake("new"), t0);
        assert!(close.is_empty(), "the old one is busy: it stays until its call is done");
        assert_eq!(pool.stats().connections, 2);
        let closed = pool.release(old, t0).expect("retired and now idle: close it");
        assert_eq!(closed.name, "old");
        pool.closed_one();
        assert!(pool.release(new, t0).is_none());
        // The new token is the one that connects now; the old string no longer matches any connection.
        assert!(matches!(pool.acquire(&key("u1"), "tok-2", false, t0), Acquire::Use { id, .. } if id == new));
        assert!(matches!(pool.acquire(&key("u1"), "tok-1", false, t0), Acquire::Open { .. }));
    }

    #[test]
    fn a_verified_token_may_use_any_connection_of_its_identity() {
        let t0 = Instant::now();
        let mut pool = PoolState::new(10);
        let (a, _) = open(&mut pool, "u1", "tok-1", fake("a"), t0);
        pool.release(a, t0);
        assert!(matches!(pool.acquire(&key("u1"), "tok-2", true, t0), Acquire::Use { id, .. } if id == a));
        assert!(matches!(pool.acquire(&key("u2"), "tok-1", true, t0), Acquire::Open { .. }), "keys never mix");
    }

    #[test]
    fn at_the_limit_the_least_recently_used_idle_connection_makes_room_and_busy_ones_never_do() {
        let t0 = Instant::now();
        let later = |ms| t0 + Duration::from_millis(ms);
        let mut pool = PoolState::new(3);
        let (a, _) = open(&mut pool, "a", "ta", fake("a"), t0);
        let (b, _) = open(&mut pool, "b", "tb", fake("b"), later(1));
        let (c, _) = open(&mut pool, "c", "tc", fake("c"), later(2));
        pool.release(b, later(3));
        pool.release(a, later(4));
        // b is the least recently used idle one; c is busy.
        let (_, close) = open(&mut pool, "d", "td", fake("d"), later(5));
        assert_eq!(names(&close), ["b"]);
        assert_eq!(
            pool.stats(),
            PoolStats { connections: 3, busy: 2, idle: 1, evicted: 1, opened: 4 },
            "d took b's slot"
        );
        let (_, close) = open(&mut pool, "e", "te", fake("e"), later(6));
        assert_eq!(names(&close), ["a"]);
        // c, d, e are busy: the next new identity waits.
        assert!(matches!(pool.acquire(&key("f"), "tf", false, later(7)), Acquire::Wait { full: true, .. }));
        pool.release(c, later(8));
        assert!(
            matches!(pool.acquire(&key("f"), "tf", false, later(9)), Acquire::Open { evict: Some(c), .. } if c.name == "c")
        );
        assert_eq!(pool.stats().connections, 3);
    }

    #[test]
    fn calls_for_a_key_being_opened_wait_for_it_and_a_failed_open_frees_the_slot() {
        let t0 = Instant::now();
        let mut pool = PoolState::<Fake>::new(1);
        assert!(matches!(pool.acquire(&key("u1"), "t", false, t0), Acquire::Open { .. }));
        assert!(matches!(pool.acquire(&key("u1"), "t", false, t0), Acquire::Wait { full: false, .. }));
        assert!(matches!(pool.acquire(&key("u2"), "t", false, t0), Acquire::Wait { full: true, .. }));
        assert_eq!(pool.stats().connections, 1, "a connection being opened holds its slot");
        pool.open_failed(&key("u1"));
        assert_eq!(pool.stats().connections, 0);
        assert!(matches!(pool.acquire(&key("u2"), "t", false, t0), Acquire::Open { .. }));
    }

    #[test]
    fn idle_connections_are_evicted_after_the_idle_timeout() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(60);
        let mut pool = PoolState::new(10);
        let (a, _) = open(&mut pool, "a", "ta", fake("a"), t0);
        let (b, _) = open(&mut pool, "b", "tb", fake("b"), t0);
        pool.release(a, t0);
        pool.release(b, t0 + Duration::from_secs(30));
        assert_eq!(pool.next_idle_deadline(idle), Some(t0 + idle));
        assert!(pool.evict_idle(t0 + Duration::from_secs(59), idle).is_empty());
        assert_eq!(names(&pool.evict_idle(t0 + idle, idle)), ["a"]);
        assert_eq!(pool.next_idle_deadline(idle), Some(t0 + Duration::from_secs(90)));
        let _ = pool.acquire(&key("b"), "tb", false, t0 + Duration::from_secs(95));
        assert!(pool.evict_idle(t0 + Duration::from_secs(200), idle).is_empty(), "busy is never idle");
        assert_eq!(pool.next_idle_deadline(idle), None);
        assert_eq!(pool.stats().evicted, 1);
    }

    #[test]
    fn a_connection_the_server_closed_is_replaced() {
        let t0 = Instant::now();
        let mut pool = PoolState::new(10);
        let dead = fake("dead");
        let (a, _) = open(&mut pool, "u1", "t", dead.clone(), t0);
        pool.release(a, t0);
        dead.dead.set(true);
        match pool.acquire(&key("u1"), "t", false, t0) {
            Acquire::Open { evict: None, close } => assert_eq!(names(&close), ["dead"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(pool.stats().connections, 2, "the dead one counts until closed, the new one is being opened");
    }

    #[test]
    fn shutting_hands_out_everything_and_refuses_calls() {
        let t0 = Instant::now();
        let mut pool = PoolState::new(10);
        let (a, _) = open(&mut pool, "a", "ta", fake("a"), t0);
        let _ = open(&mut pool, "b", "tb", fake("b"), t0);
        pool.release(a, t0);
        assert!(matches!(pool.acquire(&key("c"), "tc", false, t0), Acquire::Open { .. }));
        let mut closing = names(&pool.shut());
        closing.sort();
        assert_eq!(closing, ["a", "b"]);
        assert!(matches!(pool.acquire(&key("a"), "ta", false, t0), Acquire::Shut));
        // The connection that was being opened closes as soon as it arrives.
        let (_, close) = pool.opened(&key("c"), fake("c"), "tc", t0);
        assert_eq!(names(&close), ["c"]);
        for _ in 0..3 {
            pool.closed_one();
        }
        assert_eq!(pool.stats().connections, 0);
    }
}
