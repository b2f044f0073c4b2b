//! Reconnect: backoff between attempts, and the projection rehydrated by diff.

use std::time::Duration;

use tokio::time::Instant;

use tracing::instrument::WithSubscriber;
use tracing::level_filters::LevelFilter;

use super::*;
use crate::diagnostics::{Collector, LogBuffer, LogOutput};
use crate::session::state::Status;

/// The connection drops; the first attempt 1 s later fails, the second 2 s after that succeeds. The new
/// link finds row 1 unchanged, 2 updated, 3 deleted and 4 new: observers get exactly that as one
/// `rehydrated` batch (not a reset), and the rows read afterwards are the server's.
#[tokio::test(start_paused = true)]
async fn backs_off_then_rehydrates_by_diff() {
    scenario(async {
        let (options, mut opens) = options(TokenSource::Fixed("t".into()));
        let (session, server, recorder) =
            live_session(options, &mut opens, &[doc(1, "one"), doc(2, "two"), doc(3, "three")]).await;

        let lost = Instant::now();
        server.drop_connection();
        let first = opens.recv().await.unwrap();
        assert_eq!(lost.elapsed(), Duration::from_secs(1), "the first retry waits the initial delay");
        assert_eq!(first.token.as_deref(), Some("t"));
        let state = session.state();
        assert_eq!((state.status, state.attempt), (Status::Reconnecting, 1));
        first.refuse("connection refused");

        let second = opens.recv().await.unwrap();
        assert_eq!(lost.elapsed(), Duration::from_secs(3), "the second retry waits twice as long");
        assert_eq!(session.state().attempt, 2);
        let mut server = second.accept(2);
        server.apply_subscription(&[doc(1, "one"), doc(2, "two, edited"), doc(4, "four")]).await;
        settle().await;

        let batches = recorder.take();
        assert_eq!(batches.len(), 1, "one batch for everything that changed while away");
        let (meta, mut changes) = batches.into_iter().next().unwrap();
        assert!(meta.rehydrated);
        changes.sort_by_key(|c| c.1);
        assert_eq!(
            changes,
            vec![("update", 2, "two, edited".into()), ("delete", 3, "three".into()), ("insert", 4, "four".into())]
        );
        assert_eq!(titles(&session), vec![(1, "one".into()), (2, "two, edited".into()), (4, "four".into())]);
        let state = session.state();
        assert_eq!((state.status, state.attempt, state.reason.as_deref()), (Status::Live, 0, Some("reconnected")));
        assert_eq!(session.connection_id(), server.connection_id);
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// A link that sends nothing, not even pings, for the idle timeout is dead: the session closes it and
/// reconnects, although the socket never reported an error.
#[tokio::test(start_paused = true)]
async fn a_silent_link_is_replaced_after_the_idle_timeout() {
    scenario(async {
        let (mut options, mut opens) = options(TokenSource::Fixed("t".into()));
        options.idle_timeout = Duration::from_secs(20);
        let (session, mut server, _recorder) = live_session(options, &mut opens, &[doc(1, "one")]).await;
        let silent_since = Instant::now();
        let retry = opens.recv().await.unwrap();
        let waited = silent_since.elapsed();
        assert!(waited > Duration::from_secs(20) && waited <= Duration::from_secs(27), "{waited:?}");
        assert!(matches!(server.unread().last(), Some(Sent::Close(Some(reason))) if reason.contains("no message")));
        let mut server = retry.accept(2);
        server.apply_subscription(&[doc(1, "one")]).await;
        settle().await;
        assert_eq!(session.state().status, Status::Live);
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// Collects the batches a log announces.
#[derive(Default)]
struct Logged(Mutex<Vec<Arc<LogBuffer>>>);

impl LogOutput for Logged {
    fn ready(&self, buffer: Arc<LogBuffer>) {
        self.0.lock().unwrap().push(buffer);
    }
}

/// The session task logs where its opener does (a gateway's log function): the lost connection and the
/// reconnect are reported to the log around `Session::open`, with their fields.
#[tokio::test(start_paused = true)]
async fn the_session_task_logs_to_the_log_it_was_opened_with() {
    scenario(async {
        let logged = Arc::new(Logged::default());
        let log = Collector::dispatch(LevelFilter::INFO, logged.clone());
        let (options, mut opens) = options(TokenSource::Fixed("t".into()));
        let (session, server, _recorder) = live_session(options, &mut opens, &[]).with_subscriber(log).await;
        server.drop_connection();
        let mut server = opens.recv().await.unwrap().accept(2);
        server.apply_subscription(&[]).await;
        settle().await;

        let buffers = std::mem::take(&mut *logged.0.lock().unwrap());
        let records: Vec<serde_json::Value> =
            buffers.iter().flat_map(|b| serde_json::from_str::<Vec<serde_json::Value>>(&b.take()).unwrap()).collect();
        let seen: Vec<_> =
            records.iter().map(|r| (r["level"].as_str().unwrap(), r["message"].as_str().unwrap())).collect();
        assert_eq!(seen, vec![("warn", "not connected; reconnecting"), ("info", "switched to a new connection")]);
        assert_eq!(records[0]["fields"]["attempt"], 1);
        assert_eq!(records[0]["fields"]["retry_in_ms"], 1000);
        assert_eq!(records[0]["fields"]["reason"], "the server closed the connection");
        assert_eq!(records[1]["fields"]["reason"], "reconnected");
        assert!(records[0]["target"].as_str().unwrap().starts_with("spacetime_gateway::session::driver"));
        session.close(Duration::ZERO).await;
    })
    .await;
}
