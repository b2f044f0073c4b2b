//! `websocket::open` against an in-test websocket peer that negotiates as SpacetimeDB servers do (the
//! first entry of the server's own list that the client offered, `docs/protocol-2x.md` §1): the
//! handshake, the first message of each protocol, and a v3 frame of several messages read in order.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use spacetimedb_client_api_messages::websocket::{v1 as ws1, v2 as ws2};
use spacetimedb_lib::{bsatn, ConnectionId};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::Message;

use super::connector::LinkEvent;
use super::websocket::{open, ConnectParams};
use crate::codec::inbound::Protocol;
use crate::codec::protocol::ServerMessage;
use crate::codec::tests::row_list;
use crate::codec::tests::v2_frames::{frame, initial_connection, me, persistent, query_set, v2_bsatn};

/// What the peer saw of the handshake: the request URI and the offered protocols.
type Seen = Arc<Mutex<Option<(String, String)>>>;

/// Serves one connection: picks from `server_list` like SpacetimeDB, then sends `frames` and closes.
async fn peer(server_list: &'static [&'static str], frames: Vec<Vec<u8>>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // The callback's type is tungstenite's, large error variant included.
        #[allow(clippy::result_large_err)]
        let callback = move |request: &Request, mut response: Response| {
            let offered = request.headers().get(header::SEC_WEBSOCKET_PROTOCOL).unwrap().to_str().unwrap().to_string();
            let pick = server_list.iter().find(|p| offered.split(',').any(|o| o.trim() == **p));
            if let Some(pick) = pick {
                response.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(pick));
            }
            *record.lock().unwrap() = Some((request.uri().to_string(), offered));
            Ok(response)
        };
        let mut socket = tokio_tungstenite::accept_hdr_async(stream, callback).await.unwrap();
        for f in frames {
            socket.send(Message::Binary(f.into())).await.unwrap();
        }
        let _ = socket.close(None).await;
    });
    (base, seen)
}

fn params(base: &str, protocols: &[Protocol]) -> ConnectParams {
    ConnectParams { protocols: protocols.to_vec(), ..ConnectParams::for_tests(base) }
}

const ALL: &[Protocol] = &[Protocol::V3, Protocol::V2, Protocol::V1];

/// A 2.x-like peer picks v3; its first frame carries `InitialConnection` and an update, the next one a
/// transaction with event rows: the link reads them in order, event rows not among its events.
#[tokio::test]
async fn a_2x_peer_negotiates_v3_and_batched_messages_arrive_in_order() {
    let tx = |row: &[u8]| ws2_tx(vec![query_set(1, vec![persistent("document", &[row.to_vec()], &[])])]);
    let first = frame(&v2_bsatn(&[initial_connection(me()), tx(b"a")]));
    let events = ws2::TableUpdate {
        table_name: "audit_event".into(),
        rows: [ws2::TableUpdateRows::EventTable(ws2::EventTableRows { events: row_list(&[b"e".to_vec()]) })].into(),
    };
    let with_events = ws2_tx(vec![query_set(1, vec![persistent("document", &[b"c".to_vec()], &[]), events])]);
    let second = frame(&v2_bsatn(&[tx(b"b"), with_events]));
    let (base, seen) =
        peer(&["v3.bsatn.spacetimedb", "v2.bsatn.spacetimedb", "v1.bsatn.spacetimedb"], vec![first, second]).await;

    let link = open(&params(&base, ALL)).await.unwrap();
    assert_eq!((link.protocol, link.identity, link.connection_id), (Protocol::V3, me().identity, me().connection_id));
    let (uri, offered) = seen.lock().unwrap().clone().unwrap();
    assert!(uri.ends_with("/v1/database/db/subscribe?compression=None&light=false&confirmed=true"), "{uri}");
    assert_eq!(offered, "v3.bsatn.spacetimedb, v2.bsatn.spacetimedb, v1.bsatn.spacetimedb");

    let events: Vec<LinkEvent> = link.events.collect().await;
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            LinkEvent::Message(m) => match &**m {
                ServerMessage::TransactionUpdateLight(l) => format!("update {}", l.update.tables.len()),
                _ => "other".into(),
            },
            LinkEvent::Alive => "alive".into(),
            LinkEvent::Closed(_) => "closed".into(),
        })
        .collect();
    assert_eq!(kinds, ["update 1", "update 1", "update 1", "closed"]);
}

fn ws2_tx(sets: Vec<ws2::QuerySetUpdate>) -> ws2::ServerMessage {
    ws2::ServerMessage::TransactionUpdate(ws2::TransactionUpdate { query_sets: sets.into() })
}

/// A 1.3.0-like peer knows only v1: offered all three, it picks v1 and the link speaks v1 — what the
/// default-compatible offer relies on.
#[tokio::test]
async fn a_v1_only_peer_gets_v1_whatever_else_is_offered() {
    let identity = ServerMessage::IdentityToken(ws1::IdentityToken {
        identity: me().identity,
        token: "t".into(),
        connection_id: ConnectionId::from_u128(9),
    });
    let (base, _) =
        peer(&["v1.bsatn.spacetimedb", "v1.json.spacetimedb"], vec![frame(&bsatn::to_vec(&identity).unwrap())]).await;
    let link = open(&params(&base, ALL)).await.unwrap();
    assert_eq!((link.protocol, link.connection_id), (Protocol::V1, ConnectionId::from_u128(9)));
}

/// Offered only v2/v3, a v1-only peer selects nothing: the connect fails (1.3.0 answers HTTP 400 then).
#[tokio::test]
async fn no_common_protocol_fails_the_connect() {
    let (base, _) = peer(&["v1.bsatn.spacetimedb"], vec![]).await;
    let e = open(&params(&base, &[Protocol::V3, Protocol::V2])).await.err().expect("connected without a protocol");
    assert!(matches!(e.code, crate::error::ErrorCode::Protocol | crate::error::ErrorCode::ConnectFailed), "{e}");
}
