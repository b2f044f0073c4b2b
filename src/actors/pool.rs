//! The per-user connection pool: calls made with a user's token run on a websocket connection opened
//! with that token, so the module sees the user as `ctx.sender`.
//!
//! Bounded: at most `max_connections` sockets; at the limit the least recently used idle connection is
//! closed for room, and when every connection has a call in flight a call waits (within its timeout).
//! Idle connections close after `idle_timeout`, on a tokio task (never a JS timer: an idle pool does not
//! keep Node alive). The decisions are in `pool_state`; this file does the I/O.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::instrument::WithSubscriber;

use super::pool_state::{Acquire, ConnId, Liveness, PoolState, PoolStats};
use super::token_check::PoolKey;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::session::CallOutcome;

/// A connection the pool can hold.
pub trait PooledConnection: Clone + Liveness + Send + Sync + 'static {
    /// Calls a reducer (BSATN arguments); sent at most once.
    fn call(&self, reducer: &str, args: Vec<u8>, timeout: Duration) -> BoxFuture<'static, Result<CallOutcome>>;
    /// Closes the connection, letting calls in flight settle for up to `drain`.
    fn close(self, drain: Duration) -> BoxFuture<'static, ()>;
}

/// Opens connections for users.
pub trait Connector: Send + Sync + 'static {
    /// The connections it opens.
    type Conn: PooledConnection;
    /// Opens a connection authenticated with `token`, within `timeout`.
    fn open(&self, token: &str, timeout: Duration) -> BoxFuture<'static, Result<Self::Conn>>;
}

/// Limits of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most sockets held at once (open, being opened, being closed).
    pub max_connections: usize,
    /// A connection without calls for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions { max_connections: 100, idle_timeout: Duration::from_secs(60) }
    }
}

struct Inner<K: Connector> {
    connector: K,
    options: PoolOptions,
    state: Mutex<PoolState<K::Conn>>,
    /// Bumped on every change that can unblock a waiting call (a slot freed, an opening finished).
    changed: watch::Sender<u64>,
}

impl<K: Connector> Inner<K> {
    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Closes connections on their own tasks; each keeps its slot until its close finished.
    fn close_later(self: &Arc<Self>, conns: Vec<K::Conn>, drain: Duration) -> Vec<JoinHandle<()>> {
        conns
            .into_iter()
            .map(|conn| {
                let inner = Arc::clone(self);
                let closing = async move {
                    conn.close(drain).await;
                    inner.state.lock().unwrap().closed_one();
                    inner.bump();
                };
                tokio::spawn(closing.with_current_subscriber())
            })
            .collect()
    }
}

/// A bounded pool of per-user connections.
pub struct UserPool<K: Connector> {
    inner: Arc<Inner<K>>,
    sweeper: Mutex<Option<JoinHandle<()>>>,
    /// The runtime the pool was made on: a pool dropped without `close` (its gateway garbage-collected)
    /// closes its connections there, since `Drop` may run on a thread without one.
    runtime: tokio::runtime::Handle,
}

/// Gives a slot back if a call is abandoned while its connection is being opened.
struct OpeningSlot<'a, K: Connector> {
    inner: &'a Arc<Inner<K>>,
    key: &'a PoolKey,
    done: bool,
}

impl<K: Connector> Drop for OpeningSlot<'_, K> {
    fn drop(&mut self) {
        if !self.done {
            self.inner.state.lock().unwrap().open_failed(self.key);
            self.inner.bump();
        }
    }
}

/// Releases a call's hold on its connection, also when the call is abandoned.
struct InFlight<K: Connector> {
    inner: Arc<Inner<K>>,
    id: ConnId,
}

impl<K: Connector> Drop for InFlight<K> {
    fn drop(&mut self) {
        let close = self.inner.state.lock().unwrap().release(self.id, std::time::Instant::now());
        if let Some(conn) = close {
            self.inner.close_later(vec![conn], Duration::ZERO);
        }
        self.inner.bump();
    }
}

impl<K: Connector> UserPool<K> {
    /// A pool; starts its idle sweeper (call inside a tokio runtime).
    pub fn new(connector: K, options: PoolOptions) -> Self {
        let inner = Arc::new(Inner {
            connector,
            options,
            state: Mutex::new(PoolState::new(options.max_connections)),
            changed: watch::channel(0).0,
        });
        let sweeper = tokio::spawn(sweep(Arc::downgrade(&inner)).with_current_subscriber());
        UserPool { inner, sweeper: Mutex::new(Some(sweeper)), runtime: tokio::runtime::Handle::current() }
    }

    /// The pool's counters now.
    pub fn stats(&self) -> PoolStats {
        self.inner.state.lock().unwrap().stats()
    }

    /// Calls `reducer` on a connection of `key` (the token's `(iss, sub)`), opening one if needed.
    /// `token_verified`: the gateway's verifier accepted `token` (see `PoolState::acquire`).
    pub async fn call(
        &self,
        key: &PoolKey,
        token: &str,
        token_verified: bool,
        reducer: &str,
        args: Vec<u8>,
        timeout: Duration,
    ) -> Result<CallOutcome> {
        let inner = &self.inner;
        let deadline = Instant::now() + timeout;
        let (id, conn) = loop {
            let mut changed = inner.changed.subscribe();
            let step = inner.state.lock().unwrap().acquire(key, token, token_verified, std::time::Instant::now());
            match step {
                Acquire::Use { id, conn } => break (id, conn),
                Acquire::Shut => return Err(closed_error()),
                Acquire::Wait { full, close } => {
                    inner.close_later(close, Duration::ZERO);
                    if tokio::time::timeout_at(deadline, changed.changed()).await.is_err() {
                        return Err(wait_timeout(full, inner.options.max_connections, reducer, timeout));
                    }
                }
                Acquire::Open { evict, close } => {
                    inner.close_later(close, Duration::ZERO);
                    let mut slot = OpeningSlot { inner, key, done: false };
                    if let Some(evicted) = evict {
                        // This call took over the evicted connection's slot: it is closed before the new
                        // one opens, so the process never holds more than `max_connections` sockets.
                        evicted.close(Duration::ZERO).await;
                    }
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    let opened = tokio::time::timeout_at(deadline, inner.connector.open(token, remaining)).await;
                    let conn = match opened {
                        Ok(Ok(conn)) => conn,
                        Ok(Err(e)) => return Err(e),
                        Err(_) => return Err(open_timeout(key, reducer, timeout)),
                    };
                    slot.done = true;
                    let (id, close, shut) = {
                        let mut state = inner.state.lock().unwrap();
                        let (id, close) = state.opened(key, conn.clone(), token, std::time::Instant::now());
                        (id, close, state.is_shut())
                    };
                    inner.close_later(close, Duration::ZERO);
                    inner.bump();
                    if shut {
                        return Err(closed_error());
                    }
                    break (id, conn);
                }
            }
        };
        let _in_flight = InFlight { inner: Arc::clone(inner), id };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            // Opening took the whole budget: a call sent now could only time out with an unknown outcome.
            return Err(open_timeout(key, reducer, timeout));
        }
        conn.call(reducer, args, remaining).await
    }

    /// Closes every connection (calls in flight get up to `drain`) and stops the sweeper; later calls
    /// fail with `CLOSED`. Returns once every socket is closed.
    pub async fn close(&self, drain: Duration) {
        if let Some(sweeper) = self.sweeper.lock().unwrap().take() {
            sweeper.abort();
        }
        let conns = self.inner.state.lock().unwrap().shut();
        self.inner.bump();
        for task in self.inner.close_later(conns, drain) {
            let _ = task.await;
        }
    }
}

impl<K: Connector> Drop for UserPool<K> {
    fn drop(&mut self) {
        if let Some(sweeper) = self.sweeper.get_mut().unwrap().take() {
            sweeper.abort();
        }
        let conns = self.inner.state.lock().unwrap().shut();
        let _enter = self.runtime.enter();
        self.inner.close_later(conns, Duration::ZERO);
    }
}

/// Closes idle connections once they reach the idle timeout; ends when the pool is gone.
///
/// It sleeps until the earliest idle deadline. A connection that goes idle later has a later deadline
/// than any computed before (`now + idle_timeout` at the least), so no wake-up is ever needed early.
async fn sweep<K: Connector>(pool: Weak<Inner<K>>) {
    loop {
        let next = {
            let Some(inner) = pool.upgrade() else { return };
            let idle_timeout = inner.options.idle_timeout;
            let mut state = inner.state.lock().unwrap();
            let idle = state.evict_idle(std::time::Instant::now(), idle_timeout);
            let next = state.next_idle_deadline(idle_timeout);
            drop(state);
            if !idle.is_empty() {
                inner.close_later(idle, Duration::ZERO);
                inner.bump();
            }
            next.map(Instant::from_std).unwrap_or_else(|| Instant::now() + idle_timeout)
        };
        tokio::time::sleep_until(next).await;
    }
}

fn closed_error() -> GatewayError {
    GatewayError::new(ErrorCode::Closed, "the gateway is closed; the per-user call was not sent")
}

fn wait_timeout(full: bool, max: usize, reducer: &str, timeout: Duration) -> GatewayError {
    let why = if full {
        format!("all {max} per-user connections had calls in flight (userCalls.maxConnections)")
    } else {
        "the connection for this user was still being opened".to_string()
    };
    GatewayError::new(
        ErrorCode::Timeout,
        format!("reducer '{reducer}' was not sent within {} ms: {why}", timeout.as_millis()),
    )
}

fn open_timeout(key: &PoolKey, reducer: &str, timeout: Duration) -> GatewayError {
    GatewayError::new(
        ErrorCode::Timeout,
        format!(
            "opening a connection for user '{}' took longer than the call's {} ms; reducer '{reducer}' was not sent",
            key.subject,
            timeout.as_millis()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    /// Counts sockets the way the server would see them: open from `open` until `close` finished.
    #[derive(Default)]
    struct Sockets {
        open: AtomicUsize,
        most: AtomicUsize,
        opened: AtomicUsize,
        calls: AtomicUsize,
    }

    #[derive(Clone)]
    struct FakeConn {
        sockets: Arc<Sockets>,
        closed: Arc<AtomicBool>,
        call_time: Duration,
    }

    impl Liveness for FakeConn {
        fn is_closed(&self) -> bool {
            self.closed.load(Ordering::SeqCst)
        }
    }

    impl PooledConnection for FakeConn {
        fn call(&self, reducer: &str, _args: Vec<u8>, _timeout: Duration) -> BoxFuture<'static, Result<CallOutcome>> {
            let me = self.clone();
            let failing = reducer == "fail";
            Box::pin(async move {
                me.sockets.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(me.call_time).await;
                if failing {
                    return Err(GatewayError::new(ErrorCode::ReducerFailed, "no"));
                }
                Ok(CallOutcome {
                    request_id: 1,
                    timestamp_micros: 0,
                    energy_quanta_used: 0,
                    duration_micros: 0,
                    returned: None,
                })
            })
        }

        fn close(self, _drain: Duration) -> BoxFuture<'static, ()> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                if !self.closed.swap(true, Ordering::SeqCst) {
                    self.sockets.open.fetch_sub(1, Ordering::SeqCst);
                }
            })
        }
    }

    struct FakeConnector {
        sockets: Arc<Sockets>,
        call_time: Duration,
    }

    impl Connector for FakeConnector {
        type Conn = FakeConn;
        fn open(&self, token: &str, _timeout: Duration) -> BoxFuture<'static, Result<FakeConn>> {
            let (sockets, call_time, token) = (self.sockets.clone(), self.call_time, token.to_string());
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                if token.starts_with("bad") {
                    return Err(GatewayError::new(ErrorCode::Unauthorized, "rejected"));
                }
                let now = sockets.open.fetch_add(1, Ordering::SeqCst) + 1;
                sockets.most.fetch_max(now, Ordering::SeqCst);
                sockets.opened.fetch_add(1, Ordering::SeqCst);
                Ok(FakeConn { sockets, closed: Arc::new(AtomicBool::new(false)), call_time })
            })
        }
    }

    fn pool(max: usize, idle_ms: u64, call_ms: u64) -> (UserPool<FakeConnector>, Arc<Sockets>) {
        let sockets = Arc::new(Sockets::default());
        let connector = FakeConnector { sockets: sockets.clone(), call_time: Duration::from_millis(call_ms) };
        let options = PoolOptions { max_connections: max, idle_timeout: Duration::from_millis(idle_ms) };
        (UserPool::new(connector, options), sockets)
    }

    fn key(sub: &str) -> PoolKey {
        PoolKey { issuer: "iss".into(), subject: sub.into() }
    }

    const SECOND: Duration = Duration::from_secs(1);

    async fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
        let give_up = Instant::now() + Duration::from_secs(5);
        while !ready() {
            assert!(Instant::now() < give_up, "gave up waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_users_never_hold_more_sockets_than_the_limit() {
        let (pool, sockets) = pool(5, 60_000, 2);
        let pool = Arc::new(pool);
        let calls = (0..200).map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let user = format!("user-{}", i % 50);
                pool.call(&key(&user), &format!("token-{user}"), false, "r", vec![], 10 * SECOND).await
            })
        });
        for call in futures_util::future::join_all(calls).await {
            call.unwrap().unwrap();
        }
        assert!(sockets.most.load(Ordering::SeqCst) <= 5, "at most 5 sockets at once");
        assert_eq!(sockets.calls.load(Ordering::SeqCst), 200, "every call ran exactly once");
        let stats = pool.stats();
        assert!(stats.connections <= 5 && stats.busy == 0, "{stats:?}");
        assert!(stats.opened >= 50 && stats.evicted >= 45, "{stats:?}");
        pool.close(SECOND).await;
        assert_eq!(sockets.open.load(Ordering::SeqCst), 0);
        assert_eq!(pool.stats().connections, 0);
    }

    #[tokio::test]
    async fn a_call_waits_for_a_slot_within_its_timeout_and_is_not_sent_after_it() {
        let (pool, sockets) = pool(1, 60_000, 200);
        let pool = Arc::new(pool);
        let first = tokio::spawn({
            let pool = pool.clone();
            async move { pool.call(&key("a"), "ta", false, "r", vec![], 10 * SECOND).await }
        });
        wait_for("the first call to hold the only slot", || pool.stats().busy == 1).await;
        let e = pool.call(&key("b"), "tb", false, "r", vec![], Duration::from_millis(20)).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Timeout);
        assert!(e.message.contains("was not sent") && e.message.contains("maxConnections"), "{}", e.message);
        first.await.unwrap().unwrap();
        assert_eq!(sockets.calls.load(Ordering::SeqCst), 1, "the timed-out call never ran");
        // Once the slot is free, the waiting kind of call goes through.
        pool.call(&key("b"), "tb", false, "r", vec![], 10 * SECOND).await.unwrap();
    }

    #[tokio::test]
    async fn a_rejected_token_frees_its_slot_and_keeps_the_users_working_connection() {
        let (pool, _) = pool(2, 60_000, 0);
        pool.call(&key("a"), "good", false, "r", vec![], SECOND).await.unwrap();
        let e = pool.call(&key("a"), "bad-forged", false, "r", vec![], SECOND).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert_eq!(pool.stats(), PoolStats { connections: 1, busy: 0, idle: 1, evicted: 0, opened: 1 });
        pool.call(&key("a"), "good", false, "r", vec![], SECOND).await.unwrap();
        assert_eq!(pool.stats().opened, 1, "the first connection still serves its own token");
        let e = pool.call(&key("a"), "good", false, "fail", vec![], SECOND).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ReducerFailed, "reducer errors pass through");
        assert_eq!(pool.stats().busy, 0, "and release the connection");
    }

    #[tokio::test]
    async fn idle_connections_close_by_themselves() {
        let (pool, sockets) = pool(10, 30, 0);
        pool.call(&key("a"), "ta", false, "r", vec![], SECOND).await.unwrap();
        pool.call(&key("b"), "tb", false, "r", vec![], SECOND).await.unwrap();
        wait_for("idle eviction", || sockets.open.load(Ordering::SeqCst) == 0).await;
        wait_for("the slots to be free", || pool.stats().connections == 0).await;
        assert_eq!(pool.stats().evicted, 2);
    }

    #[tokio::test]
    async fn a_pool_dropped_without_close_still_closes_its_connections() {
        let (pool, sockets) = pool(10, 60_000, 0);
        pool.call(&key("a"), "ta", false, "r", vec![], SECOND).await.unwrap();
        drop(pool);
        wait_for("the dropped pool's connections to close", || sockets.open.load(Ordering::SeqCst) == 0).await;
    }

    #[tokio::test]
    async fn close_ends_every_connection_and_refuses_later_calls() {
        let (pool, sockets) = pool(10, 60_000, 0);
        pool.call(&key("a"), "ta", false, "r", vec![], SECOND).await.unwrap();
        pool.close(SECOND).await;
        assert_eq!(sockets.open.load(Ordering::SeqCst), 0);
        let e = pool.call(&key("a"), "ta", false, "r", vec![], SECOND).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Closed);
    }
}
