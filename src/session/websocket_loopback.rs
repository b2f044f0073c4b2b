//! `websocket::open` against an in-test websocket peer that negotiates as SpacetimeDB servers do (the
//! first entry of the server's own list that the client offered, `docs/protocol-2x.md` §1): the
//! handshake, the first message of each protocol, and a v3 frame of several messages read in order.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use spacetimedb_client_api_messages::websocket::{v1 as ws1, v2 as ws2};
use spacetimedb_lib::{bsatn, ConnectionId};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

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
/// transaction with event rows: the link reads them in order, the event rows as their own event right
/// after their transaction's update.
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
            LinkEvent::Events(batches) => {
                let tables: Vec<&str> = batches.iter().map(|b| &*b.table_name).collect();
                format!("events {}", tables.join(" "))
            }
            LinkEvent::Alive => "alive".into(),
            LinkEvent::Closed(_) => "closed".into(),
        })
        .collect();
    assert_eq!(kinds, ["update 1", "update 1", "update 1", "events audit_event", "closed"]);
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

/// A module with procedure `add(a: u32, b: u32) -> Option<String>` and nothing else.
fn procedure_schema() -> crate::codec::schema::Schema {
    use spacetimedb_lib::db::raw_def::v9::RawModuleDefV9Builder;
    use spacetimedb_lib::sats::{AlgebraicType, ProductType};
    let mut module = RawModuleDefV9Builder::new();
    let params = ProductType::from([("a", AlgebraicType::U32), ("b", AlgebraicType::U32)]);
    module.add_procedure("add", params, AlgebraicType::option(AlgebraicType::String));
    crate::codec::schema::Schema::from_raw(&module.finish()).unwrap()
}

/// Accepts one websocket connection as a 2.x server choosing `v3`, and sends it `InitialConnection`.
pub(super) async fn accept_v3(listener: &TcpListener) -> WebSocketStream<TcpStream> {
    let (stream, _) = listener.accept().await.unwrap();
    #[allow(clippy::result_large_err)]
    let callback = |_: &Request, mut response: Response| {
        response.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("v3.bsatn.spacetimedb"));
        Ok(response)
    };
    let mut socket = tokio_tungstenite::accept_hdr_async(stream, callback).await.unwrap();
    socket.send(Message::Binary(frame(&v2_bsatn(&[initial_connection(me())])).into())).await.unwrap();
    socket
}

/// Serves one v3 connection: `InitialConnection`, then answers each `CallProcedure` — `add` with the
/// sum as a string (in the return type's BSATN, in a v3 frame that also carries an unrelated update
/// first), anything else with an internal error, as a 2.x host does for an unknown procedure.
async fn procedure_peer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut socket = accept_v3(&listener).await;
        while let Some(Ok(message)) = socket.next().await {
            let Message::Binary(bytes) = message else { continue };
            let ws2::ClientMessage::CallProcedure(call) = bsatn::from_slice(&bytes).unwrap() else { continue };
            let status = if &*call.procedure == "add" {
                let (a, b): (u32, u32) = bsatn::from_slice(&call.args).unwrap();
                let value: Option<String> = Some(format!("{}", a + b));
                ws2::ProcedureStatus::Returned(bsatn::to_vec(&value).unwrap().into())
            } else {
                ws2::ProcedureStatus::InternalError(format!("no such procedure: {}", call.procedure).into())
            };
            let result = ws2::ServerMessage::ProcedureResult(ws2::ProcedureResult {
                status,
                timestamp: spacetimedb_lib::Timestamp::from_micros_since_unix_epoch(1_700_000_000_000_000),
                total_host_execution_duration: spacetimedb_lib::TimeDuration::from_micros(42),
                request_id: call.request_id,
            });
            let unrelated = ws2_tx(vec![query_set(1, vec![persistent("document", &[b"x".to_vec()], &[])])]);
            socket.send(Message::Binary(frame(&v2_bsatn(&[unrelated, result])).into())).await.unwrap();
        }
    });
    base
}

/// `Session::start_procedure` over a real websocket to a v3 peer: the call goes out as a v2
/// `CallProcedure` with the encoded arguments, the `ProcedureResult` (second in its v3 frame) resolves
/// it with the return value, decoded by the schema like a row value; an internal error rejects with
/// `PROCEDURE_FAILED` carrying the server's message.
#[tokio::test]
async fn a_procedure_call_resolves_with_its_return_value_over_v3() {
    use crate::error::ErrorCode;
    use crate::session::token::TokenSource;
    use crate::session::{Session, SessionOptions};
    use std::time::Duration;

    let base = procedure_peer().await;
    let schema = Arc::new(procedure_schema());
    let options = SessionOptions::new(params(&base, ALL), TokenSource::Anonymous);
    let session = Session::open(options, schema.clone(), None).await.unwrap();
    assert_eq!(session.protocol(), Some(Protocol::V3));

    let def = schema.procedure("add").unwrap();
    assert_eq!(def.returns, "Option<String>");
    assert_eq!(
        schema.describe()["procedures"],
        serde_json::json!([{ "name": "add", "params": [{ "name": "a", "type": "u32" }, { "name": "b", "type": "u32" }], "returns": "Option<String>" }])
    );
    assert_eq!(def.params.iter().map(|p| (&*p.name, &*p.type_name)).collect::<Vec<_>>(), [("a", "u32"), ("b", "u32")]);
    let e = def.encode_args(&serde_json::json!([2, -1])).unwrap_err();
    assert!(e.code == ErrorCode::InvalidArgument && e.message.starts_with("add: argument 'b' (u32)"), "{e}");
    let args = def.encode_args(&serde_json::json!({ "a": 2, "b": 40 })).unwrap();
    let outcome = session.start_procedure("add", args, Duration::from_secs(5)).unwrap().finish().await.unwrap();
    assert_eq!((outcome.timestamp_micros, outcome.duration_micros), (1_700_000_000_000_000, 42));
    let json = def.return_to_json(&outcome.returned.unwrap()).unwrap();
    assert_eq!(String::from_utf8(json).unwrap(), r#""42""#);

    let e = session.start_procedure("missing", Vec::new(), Duration::from_secs(5)).unwrap().finish().await.unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::ProcedureFailed, "no such procedure: missing"));
    session.close(Duration::ZERO).await;
}
