//! SpacetimeDB 2.x frames through a live session on a link that negotiated v3: the session sends v2
//! requests; the server's v3 frames, built with the official crate's v2 types, are decoded by
//! `codec::inbound::FrameDecoder` and the v1-shaped messages it yields handed to the link as the
//! websocket reader does. Proves the projection, change feed and call results need no v2 path of
//! their own.

use std::time::Duration;

use spacetimedb_client_api_messages::websocket::v2 as ws2;

use super::*;
use crate::codec::tests::v2_frames::{persistent, query_set, reducer_result};

/// The request id of the reducer call the session sent, as a v2 message.
async fn call_request(server: &mut Server) -> u32 {
    match server.next().await {
        Sent::V2(ws2::ClientMessage::CallReducer(call)) => call.request_id,
        _ => panic!("expected a v2 CallReducer"),
    }
}

/// A session on a link that negotiated v3, subscribed to `document` with `rows`.
async fn v3_session(rows: &[Vec<u8>]) -> (Session, Server, Arc<Recorder>) {
    let (options, mut opens) = options(TokenSource::Fixed("t".into()));
    live_session_on(Protocol::V3, options, &mut opens, rows).await
}

/// One (undecodable, for the recorder: `(event, 0, audit_event)`) event row of `audit_event`.
fn audit_event() -> ws2::TableUpdate {
    ws2::TableUpdate {
        table_name: "audit_event".into(),
        rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows { events: row_list(&[b"e".to_vec()]) })].into(),
    }
}

fn tx_update(sets: Vec<ws2::QuerySetUpdate>) -> ws2::ServerMessage {
    ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate { query_sets: sets.into() })
}

/// Snapshot rows, then other callers' transactions (two in one frame, one with event rows): the
/// projection and the change feed see exactly what a v1 server's messages would have produced.
#[tokio::test(start_paused = true)]
async fn v3_frames_drive_the_projection_and_the_change_feed() {
    scenario(async {
        let (session, mut link, recorder) = v3_session(&[doc(1, "one"), doc(2, "two")]).await;
        assert_eq!(titles(&session), vec![(1, "one".into()), (2, "two".into())]);

        let audit = ws2::TableUpdate {
            table_name: "audit_event".into(),
            rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows { events: row_list(&[b"e".to_vec()]) })].into(),
        };
        let events = link.send_v2(&[
            tx_update(vec![query_set(1, vec![persistent("document", &[doc(1, "uno")], &[doc(1, "one")]), audit])]),
            tx_update(vec![query_set(1, vec![persistent("document", &[doc(3, "three")], &[doc(2, "two")])])]),
        ]);
        settle().await;
        assert_eq!(titles(&session), vec![(1, "uno".into()), (3, "three".into())]);
        let batches: Vec<_> = recorder.take().into_iter().map(|(meta, changes)| (meta.reducer, changes)).collect();
        assert_eq!(
            batches,
            vec![
                (None, vec![("update", 1, "uno".into())]),
                (None, vec![("event", 0, "audit_event".into())]),
                (None, vec![("delete", 2, "two".into()), ("insert", 3, "three".into())]),
            ]
        );
        assert_eq!(events.len(), 1, "event rows come out beside, not into the projection: their own batch");
        assert_eq!(&*events[0].table_name, "audit_event");
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// The caller's own result: committed with its deltas (the call resolves with its write readable), or
/// failed with the module's error string (`REDUCER_FAILED`).
#[tokio::test(start_paused = true)]
async fn v2_reducer_results_resolve_calls_after_their_writes() {
    scenario(async {
        let (session, mut link, recorder) = v3_session(&[]).await;
        let call = session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap();
        let request_id = call_request(&mut link).await;
        let result = tokio::spawn({
            let session = session.clone();
            async move { (call.finish().await, titles(&session)) }
        });
        link.send_v2(&[reducer_result(
            request_id,
            ws2::ReducerOutcome::Ok(ws2::ReducerOk {
                ret_value: Bytes::new(),
                transaction_update: ws2::TransactionUpdate {
                    query_sets: [query_set(1, vec![persistent("document", &[doc(20, "mine")], &[]), audit_event()])]
                        .into(),
                },
            }),
        )]);
        let (outcome, rows) = result.await.unwrap();
        assert_eq!(outcome.unwrap().request_id, request_id);
        assert_eq!(rows, vec![(20, "mine".into())], "the write is readable when the call resolves");
        settle().await;
        let mut batches = recorder.take();
        let (meta, changes) = batches.remove(0);
        assert_eq!(changes, vec![("insert", 20, "mine".into())]);
        assert_eq!((meta.caller_connection_id, meta.reducer.clone()), (Some(link.connection_id), None));
        // The call's event rows follow, with the same transaction facts.
        assert_eq!(batches, vec![(meta, vec![("event", 0, "audit_event".into())])]);

        let call = session.start_call("create_document", Vec::new(), Duration::from_secs(30)).unwrap();
        let request_id = call_request(&mut link).await;
        let error = bytes::Bytes::from(bsatn::to_vec(&"title must not be empty".to_string()).unwrap());
        link.send_v2(&[reducer_result(request_id, ws2::ReducerOutcome::Err(error))]);
        let e = call.finish().await.unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (ErrorCode::ReducerFailed, "title must not be empty"));
        session.close(Duration::ZERO).await;
    })
    .await;
}

const ALL: [Protocol; 3] = [Protocol::V3, Protocol::V2, Protocol::V1];

/// Procedures need v2/v3: refused with `UNSUPPORTED`, and nothing sent, when only v1 was offered or
/// when the server chose v1 from a wider offer (a 1.x server).
#[tokio::test(start_paused = true)]
async fn procedures_are_refused_on_v1_links() {
    scenario(async {
        for offered in [vec![Protocol::V1], ALL.to_vec()] {
            let (mut options, mut opens) = options(TokenSource::Fixed("t".into()));
            options.connect.protocols = offered;
            let (session, mut link, _) = live_session_on(Protocol::V1, options, &mut opens, &[]).await;
            let e = session.start_procedure("sum", Vec::new(), Duration::from_secs(5)).err().expect("refused");
            assert_eq!(e.code, ErrorCode::Unsupported);
            assert!(e.message.contains("procedures need a v2 or v3 connection"), "{}", e.message);
            settle().await;
            assert!(link.unread().is_empty(), "nothing was sent");
            session.close(Duration::ZERO).await;
        }
    })
    .await;
}

/// A procedure in flight when its v3 link drops rejects with `DISCONNECTED` (it may have run); one
/// started while reconnecting waits, and is refused with `UNSUPPORTED` when the new connection
/// negotiated v1; a result for a request nobody waits for is ignored.
#[tokio::test(start_paused = true)]
async fn procedures_across_a_reconnect() {
    scenario(async {
        let (mut options, mut opens) = options(TokenSource::Fixed("t".into()));
        options.connect.protocols = ALL.to_vec();
        let (session, mut link, _) = live_session_on(Protocol::V3, options, &mut opens, &[]).await;
        let in_flight = session.start_procedure("sum", vec![1, 2], Duration::from_secs(30)).unwrap();
        let request_id = match link.next().await {
            Sent::V2(ws2::ClientMessage::CallProcedure(call)) => {
                assert_eq!((&*call.procedure, &call.args[..]), ("sum", &[1u8, 2][..]));
                call.request_id
            }
            _ => panic!("expected a v2 CallProcedure"),
        };
        link.send_v2(&[ws2::ServerMessage::ProcedureResult(ws2::ProcedureResult {
            status: ws2::ProcedureStatus::Returned(vec![9].into()),
            timestamp: Timestamp::from_micros_since_unix_epoch(1),
            total_host_execution_duration: TimeDuration::from_micros(1),
            request_id: request_id.wrapping_add(100),
        })]);
        link.drop_connection();
        let e = in_flight.finish().await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Disconnected, "{e}");

        let waiting = tokio::spawn({
            let session = session.clone();
            async move { session.start_procedure("sum", Vec::new(), Duration::from_secs(30)).unwrap().finish().await }
        });
        let mut v1_link = opens.recv().await.unwrap().accept_with(2, Protocol::V1);
        v1_link.apply_subscription(&[]).await;
        let e = waiting.await.unwrap().unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported, "{e}");
        assert!(v1_link.unread().is_empty(), "nothing was sent on the v1 link");
        session.close(Duration::ZERO).await;
    })
    .await;
}

/// Event-table rows (v2/v3) reach the change sinks as one batch of events right after their
/// transaction's batch, in frame order, and never enter the projection; rows of a table the schema
/// does not have are left out, and a link that does not drive the projection tells none.
#[tokio::test(start_paused = true)]
async fn event_rows_reach_the_listeners_as_events_and_stay_out_of_the_projection() {
    scenario(async {
        let (session, mut link, recorder) = v3_session(&[doc(1, "one")]).await;
        fn events(table: &'static str, rows: &[Vec<u8>]) -> ws2::TableUpdate {
            ws2::TableUpdate {
                table_name: table.into(),
                rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows { events: row_list(rows) })].into(),
            }
        }
        // `document` stands in for an event table of the module (the reference module, built for 1.3.0,
        // has none); `unknown_event` is not in the schema.
        link.send_v2(&[
            tx_update(vec![
                query_set(
                    1,
                    vec![persistent("document", &[doc(2, "two")], &[]), events("document", &[doc(7, "ping")])],
                ),
                query_set(2, vec![events("document", &[doc(8, "pong")]), events("unknown_event", &[b"x".to_vec()])]),
            ]),
            tx_update(vec![query_set(1, vec![events("document", &[doc(9, "only events")])])]),
        ]);
        settle().await;
        let batches: Vec<_> = recorder.take().into_iter().map(|(_, changes)| changes).collect();
        assert_eq!(
            batches,
            vec![
                vec![("insert", 2, "two".into())],
                vec![("event", 7, "ping".into()), ("event", 8, "pong".into())],
                vec![("event", 9, "only events".into())],
            ]
        );
        assert_eq!(titles(&session), vec![(1, "one".into()), (2, "two".into())], "events are not rows");
        session.close(Duration::ZERO).await;
    })
    .await;
}
