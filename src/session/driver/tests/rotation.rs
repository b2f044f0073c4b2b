//! Token rotation, make-before-break: the new link is live before the old one closes, and the switch
//! reports every transaction exactly once.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::session::state::Status;

/// Tokens live 100 s, so the session refreshes at 80 s with a fresh token. Transactions 10, 11 and 12
/// happen while both links are up: the old link applies 10 and 11 before the new one's snapshot (which
/// holds 10) completes, then the new one delivers 11 and 12 (12 deletes the row 11 inserted). The switch
/// point is 11 (the last the old link applied, found in the new link's buffer): observers see 10, 11, 12
/// once each, in order, and nothing rehydrated. Had 11 been applied twice, its row would count twice and
/// outlive the delete.
#[tokio::test(start_paused = true)]
async fn switches_at_the_transaction_both_links_saw() {
    scenario(async {
        let (options, mut opens) = options(rotating(Duration::from_secs(100)));
        let started = Instant::now();
        let (session, mut old, recorder) = live_session(options, &mut opens, &[doc(1, "one")]).await;

        let refresh = opens.recv().await.unwrap();
        let at = started.elapsed();
        assert!(
            at >= Duration::from_secs(79) && at <= Duration::from_secs(81),
            "refreshes at 80 % of the lifetime: {at:?}"
        );
        assert!(refresh.token.as_deref().is_some_and(|t| t.contains('.')), "with a fresh token from the provider");
        let mut new = refresh.accept(2);
        settle().await;

        let someone = ConnectionId::from_u128(99);
        let t10 = || tx(10, someone, 1, update(&[doc(10, "ten")], &[]));
        let t11 = || tx(11, someone, 2, update(&[doc(11, "eleven")], &[]));
        let t12 = || tx(12, someone, 3, update(&[doc(12, "twelve")], &[doc(11, "eleven")]));
        old.send(t10());
        old.send(t11());
        settle().await;
        new.apply_subscription(&[doc(1, "one"), doc(10, "ten")]).await;
        settle().await;
        assert_ne!(session.connection_id(), new.connection_id, "the old link is ahead of the snapshot: no switch yet");
        new.send(t11());
        settle().await;
        assert_eq!(session.connection_id(), new.connection_id, "switched at 11, which both links saw");
        new.send(t12());
        settle().await;

        let seen: Vec<_> = recorder.take().into_iter().map(|(meta, changes)| (meta.rehydrated, changes)).collect();
        assert_eq!(
            seen,
            vec![
                (false, vec![("insert", 10, "ten".into())]),
                (false, vec![("insert", 11, "eleven".into())]),
                (false, vec![("delete", 11, "eleven".into()), ("insert", 12, "twelve".into())]),
            ]
        );
        assert_eq!(titles(&session), vec![(1, "one".into()), (10, "ten".into()), (12, "twelve".into())]);
        assert_eq!(session.state().reason.as_deref(), Some("token refreshed"));
        assert!(
            matches!(old.unread().last(), Some(Sent::Close(_))),
            "the old link closes once it has no calls in flight"
        );
        // The old link's late copy of 12 changes nothing.
        old.send(t12());
        settle().await;
        assert!(recorder.take().is_empty());
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// Light updates carry no transaction identity. When the new link's snapshot holds a change the old link
/// never delivers, no switch point can be found: after `align_timeout` the session switches anyway and
/// reports the difference as one rehydrated batch, so nothing is lost.
#[tokio::test(start_paused = true)]
async fn without_a_switch_point_falls_back_to_a_diff_after_the_align_timeout() {
    scenario(async {
        let (options, mut opens) = options(rotating(Duration::from_secs(100)));
        let (session, old, recorder) = live_session(options, &mut opens, &[doc(1, "one")]).await;
        let mut new = opens.recv().await.unwrap().accept(2);
        new.apply_subscription(&[doc(1, "one, edited")]).await;
        let snapshot_at = Instant::now();
        new.send(light(update(&[doc(2, "two")], &[])));
        settle().await;
        assert_ne!(session.connection_id(), new.connection_id, "different rows: no switch yet");
        assert!(recorder.take().is_empty());

        // The old link stays quiet; the fallback comes with the align timeout (5 s, checked every 250 ms).
        wait_until(Duration::from_secs(60), || session.connection_id() == new.connection_id).await;
        let waited = snapshot_at.elapsed();
        assert!(waited > Duration::from_secs(5) && waited <= Duration::from_millis(5_300), "{waited:?}");
        let batches = recorder.take();
        assert_eq!(batches.len(), 2);
        assert!(batches[0].0.rehydrated);
        assert_eq!(batches[0].1, vec![("update", 1, "one, edited".into())]);
        assert_eq!((batches[1].0.rehydrated, batches[1].1.clone()), (false, vec![("insert", 2, "two".into())]));
        assert_eq!(titles(&session), vec![(1, "one, edited".into()), (2, "two".into())]);
        assert_eq!(session.state().status, Status::Live);
        drop(old);
        session.close(Duration::ZERO).await;
    })
    .await;
}
