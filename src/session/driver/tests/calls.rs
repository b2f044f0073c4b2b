//! Reducer calls across link changes: read-your-writes and at-most-once.

use std::time::Duration;

use super::*;
use crate::error::ErrorCode;

fn call_request(sent: Sent) -> (String, u32) {
    match sent {
        Sent::Message(ws::ClientMessage::CallReducer(call)) => (call.reducer.to_string(), call.request_id),
        _ => panic!("expected a CallReducer"),
    }
}

/// A call sent on the old link just before a token refresh switches links: its result arrives on the
/// old link after the switch, before the new link delivered the same transaction. The call resolves
/// only once the new link applied it, so the caller then reads its own write.
#[tokio::test(start_paused = true)]
async fn a_result_on_a_draining_link_waits_until_its_write_is_in_the_projection() {
    scenario(async {
        let (options, mut opens) = options(rotating(Duration::from_secs(100)));
        let (session, mut old, _recorder) = live_session(options, &mut opens, &[doc(1, "one")]).await;
        let refresh = opens.recv().await.unwrap();
        let call = session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap();
        let (reducer, request_id) = call_request(old.next().await);
        assert_eq!(reducer, "create_document");

        let mut new = refresh.accept(2);
        new.apply_subscription(&[doc(1, "one")]).await;
        settle().await;
        assert_eq!(session.connection_id(), new.connection_id, "same rows: switched at once");

        let ours = || tx(20, old.connection_id, request_id, update(&[doc(20, "mine")], &[]));
        let result = tokio::spawn({
            let session = session.clone();
            async move {
                let outcome = call.finish().await;
                (outcome, titles(&session))
            }
        });
        old.send(ours());
        settle().await;
        assert!(!result.is_finished(), "held: the driving link has not applied the transaction yet");
        new.send(ours());
        let (outcome, rows) = result.await.unwrap();
        assert_eq!(outcome.unwrap().request_id, request_id);
        assert!(rows.contains(&(20, "mine".into())), "the write is readable when the call resolves: {rows:?}");
        settle().await;
        assert!(matches!(old.unread().last(), Some(Sent::Close(_))), "drained, the old link closes");
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// At most once: a call in flight when its connection drops fails with DISCONNECTED (outcome unknown)
/// and is never sent again; a call made while reconnecting waits and is sent once, on the new link; one
/// that waits longer than `call_wait` fails without ever being sent.
#[tokio::test(start_paused = true)]
async fn calls_are_sent_at_most_once_across_a_reconnect() {
    scenario(async {
        let (mut options, mut opens) = options(TokenSource::Fixed("t".into()));
        options.call_wait = Duration::from_millis(2_500);
        let (session, mut old, _recorder) = live_session(options, &mut opens, &[]).await;

        let in_flight = session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap();
        call_request(old.next().await);
        old.drop_connection();
        let e = in_flight.finish().await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Disconnected);
        assert!(e.message.contains("outcome of this call is unknown"), "{}", e.message);

        // Disconnected: this call waits for the connection.
        let waiting = session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap();
        let waiting = tokio::spawn(waiting.finish());
        let first = opens.recv().await.unwrap();
        first.refuse("down");
        // The next attempt comes at 3 s: past the wait of the call made at 0 s (2.5 s), within the wait of
        // one made now, at 1 s.
        let late =
            tokio::spawn(session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap().finish());
        let mut new = opens.recv().await.unwrap().accept(2);
        new.apply_subscription(&[]).await;

        let e = waiting.await.unwrap().unwrap_err();
        assert_eq!(e.code, ErrorCode::Disconnected);
        assert!(e.message.contains("was not sent"), "{}", e.message);
        let (_, request_id) = call_request(new.next().await);
        new.send(tx(30, new.connection_id, request_id, update(&[doc(30, "late")], &[])));
        assert_eq!(late.await.unwrap().unwrap().request_id, request_id);
        settle().await;
        assert!(new.unread().is_empty(), "nothing else was sent: no call went out twice");
        assert!(old.unread().is_empty(), "and nothing more on the lost link");
        session.close(Duration::ZERO).await;
    })
    .await;
}
