//! A 2.x view and event table subscribed through a session, over a real websocket to an in-test v3 peer,
//! with the schema of the 2.x record (`tests/fixtures/module-2x.v10.json`) and frames built with the
//! official v2 types: the view's rows are projected like a table's (they arrive under the view's name,
//! in its return type); the event table's rows reach the listeners as events and never the projection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use spacetimedb_client_api_messages::websocket::v2 as ws2;
use spacetimedb_lib::{bsatn, Identity, Timestamp};
use spacetimedb_sats::product;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::token::TokenSource;
use super::websocket::ConnectParams;
use super::websocket_loopback::accept_v3;
use super::{Session, SessionOptions};
use crate::codec::inbound::Protocol;
use crate::codec::tests::row_list;
use crate::codec::tests::v2_frames::{frame, me, persistent, query_rows, query_set, v2_bsatn};
use crate::codec::{Schema, TableKind};
use crate::projection::{ChangeSink, RowChange, Transaction};

/// A `message` row (the row type of the `my_messages` view) with `id` and `text`.
fn message(id: u64, text: &str) -> Vec<u8> {
    let sent = Timestamp::from_micros_since_unix_epoch(1_700_000_000_000_000);
    bsatn::to_vec(&product![id, me().identity, text, sent]).unwrap()
}

/// A `typing` event row.
fn typing(room: &str) -> Vec<u8> {
    bsatn::to_vec(&product![Identity::ZERO, room]).unwrap()
}

/// Serves one v3 connection: `InitialConnection`; to the `Subscribe` it records, the view's rows 1 and 2;
/// then one transaction that replaces row 1 of the view by row 3 and carries a `typing` event.
async fn peer(seen: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut socket = accept_v3(&listener).await;
        while let Some(Ok(message_in)) = socket.next().await {
            let Message::Binary(bytes) = message_in else { continue };
            let Ok(ws2::ClientMessage::Subscribe(subscribe)) = bsatn::from_slice(&bytes) else { continue };
            seen.lock().unwrap().extend(subscribe.query_strings.iter().map(|q| q.to_string()));
            let applied = ws2::ServerMessage::SubscribeApplied(ws2::SubscribeApplied {
                request_id: subscribe.request_id,
                query_set_id: subscribe.query_set_id,
                rows: query_rows("my_messages", &[message(1, "one"), message(2, "two")]),
            });
            let events = ws2::TableUpdate {
                table_name: "typing".into(),
                rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows { events: row_list(&[typing("lobby")]) })]
                    .into(),
            };
            let views = persistent("my_messages", &[message(3, "three")], &[message(1, "one")]);
            let set = query_set(subscribe.query_set_id.id, vec![views, events]);
            let update = ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate { query_sets: [set].into() });
            socket.send(Message::Binary(frame(&v2_bsatn(&[applied])).into())).await.unwrap();
            socket.send(Message::Binary(frame(&v2_bsatn(&[update])).into())).await.unwrap();
        }
    });
    base
}

/// Each reported batch as `(table, op, text or room)` per change and event.
struct Batches(mpsc::UnboundedSender<Vec<(String, &'static str, String)>>);

impl ChangeSink for Batches {
    fn on_transaction(&self, tx: &Transaction) {
        let field = |table: &crate::codec::TableDef, row: &[u8], name: &str| {
            let mut json = Vec::new();
            table.row_to_json(row, &mut json).unwrap();
            serde_json::from_slice::<serde_json::Value>(&json).unwrap()[name].as_str().unwrap().to_string()
        };
        let mut batch = Vec::new();
        for t in &tx.tables {
            for change in &t.changes {
                let op = match change {
                    RowChange::Insert { .. } => "insert",
                    RowChange::Update { .. } => "update",
                    RowChange::Delete { .. } => "delete",
                };
                batch.push((t.table.name.clone(), op, field(&t.table, change.row(), "text")));
            }
        }
        for t in &tx.events {
            for row in &t.rows {
                batch.push((t.table.name.clone(), "event", field(&t.table, row, "room")));
            }
        }
        let _ = self.0.send(batch);
    }
}

#[tokio::test]
async fn a_view_is_projected_like_a_table_and_event_rows_stay_out() {
    let schema = Arc::new(Schema::from_json(include_str!("../../tests/fixtures/module-2x.v10.json")).unwrap());
    assert!(matches!(schema.table("typing").unwrap().kind, TableKind::Event));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = peer(seen.clone()).await;
    let connect =
        ConnectParams { protocols: vec![Protocol::V3, Protocol::V2, Protocol::V1], ..ConnectParams::for_tests(&base) };
    let session = Session::open(SessionOptions::new(connect, TokenSource::Anonymous), schema, None).await.unwrap();
    let (sink, mut batches) = mpsc::unbounded_channel();
    session.add_sink(Arc::new(Batches(sink)));

    let queries = vec!["SELECT * FROM my_messages".to_string(), "SELECT * FROM typing".to_string()];
    session.subscribe(queries.clone(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), queries);
    assert!(session.is_subscribed("my_messages"));
    let texts = |session: &Session| {
        session.with_projection(|p| {
            let view = p.table("my_messages").unwrap();
            let mut texts: Vec<String> = view
                .iter()
                .map(|row| {
                    let mut json = Vec::new();
                    view.def().row_to_json(row, &mut json).unwrap();
                    serde_json::from_slice::<serde_json::Value>(&json).unwrap()["text"].as_str().unwrap().to_string()
                })
                .collect();
            texts.sort();
            texts
        })
    };
    let applied = batches.recv().await.unwrap();
    assert_eq!(applied.len(), 2, "the subscription's rows: {applied:?}");
    assert_eq!(texts(&session), ["one", "two"]);

    let s = |t: &str| t.to_string();
    assert_eq!(
        batches.recv().await.unwrap(),
        [(s("my_messages"), "delete", s("one")), (s("my_messages"), "insert", s("three"))],
        "a view without a key is keyed by its whole row: a changed row is a delete and an insert"
    );
    assert_eq!(batches.recv().await.unwrap(), [(s("typing"), "event", s("lobby"))]);
    assert_eq!(texts(&session), ["three", "two"]);
    let typing_rows = session.with_projection(|p| p.table("typing").map_or(0, |t| t.len()));
    assert_eq!(typing_rows, 0, "event rows are not state");
    session.close(Duration::ZERO).await;
}
