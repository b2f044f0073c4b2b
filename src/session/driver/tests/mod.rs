//! Scripted sessions: a [`Connector`] whose links the test opens, feeds with server messages and reads
//! back, on tokio's paused clock (timers fire when the test waits, not in real time). Each scenario is
//! the message sequence a real server sends; what they prove is in each test's name and comments.

mod calls;
mod reconnect;
mod rotation;
mod v2_frames;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use spacetimedb_client_api_messages::energy::EnergyQuanta;
use spacetimedb_client_api_messages::websocket::v1 as ws;
use spacetimedb_client_api_messages::websocket::v2 as ws2;
use spacetimedb_lib::{bsatn, AlgebraicValue, ConnectionId, Identity, ProductValue, TimeDuration, Timestamp};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tracing::instrument::WithSubscriber;

use crate::codec::inbound::{EventRows, FrameDecoder, Inbound, Protocol};
use crate::codec::protocol::ServerMessage;
use crate::codec::tests::v2_frames::{frame, initial_connection, query_rows, v2_bsatn};
use crate::codec::tests::{reference_schema, row_list};
use crate::codec::v2::Caller;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{ChangeSink, RowChange, Transaction, TransactionMeta};
use crate::session::backoff::BackoffPolicy;
use crate::session::connector::{Connector, LinkEvent, OpenLink, Outgoing};
use crate::session::token::{TokenProvider, TokenSource};
use crate::session::websocket::ConnectParams;
use crate::session::{Session, SessionOptions};

/// The identity every link of a session has.
pub(super) fn identity() -> Identity {
    Identity::from_claims("https://issuer.example", "gateway")
}

/// A request of the session to open a link: the token it offers, and where the test answers.
pub(super) struct OpenRequest {
    pub token: Option<String>,
    reply: oneshot::Sender<Result<OpenLink>>,
}

impl OpenRequest {
    /// Answers with a new v1 link (connection id `n`); returns the server's side of it.
    pub fn accept(self, n: u128) -> Server {
        self.accept_with(n, Protocol::V1)
    }

    /// Answers with a new link that negotiated `protocol`.
    pub fn accept_with(self, n: u128, protocol: Protocol) -> Server {
        let (link, server) = link(n, self.token.clone().unwrap_or_else(|| "anonymous".into()), protocol);
        let _ = self.reply.send(Ok(link));
        server
    }

    pub fn refuse(self, reason: &str) {
        let _ = self.reply.send(Err(GatewayError::new(ErrorCode::ConnectFailed, reason)));
    }
}

struct ScriptedConnector(mpsc::UnboundedSender<OpenRequest>);

impl Connector for ScriptedConnector {
    fn open(&self, params: &ConnectParams) -> BoxFuture<'static, Result<OpenLink>> {
        let (reply, answer) = oneshot::channel();
        let _ = self.0.send(OpenRequest { token: params.token.clone(), reply });
        Box::pin(async move {
            answer.await.unwrap_or_else(|_| Err(GatewayError::new(ErrorCode::ConnectFailed, "no answer")))
        })
    }
}

/// The server's side of one link.
pub(super) struct Server {
    pub connection_id: ConnectionId,
    protocol: Protocol,
    /// v2/v3 links: the gateway's decoder, which turns the v2 messages a test sends into what the
    /// session reads (`send_v2`).
    decoder: FrameDecoder,
    events: mpsc::UnboundedSender<LinkEvent>,
    sent: mpsc::UnboundedReceiver<Outgoing>,
}

fn link(n: u128, token: String, protocol: Protocol) -> (OpenLink, Server) {
    let (events, events_rx) = mpsc::unbounded_channel();
    let (writer, sent) = mpsc::unbounded_channel();
    let connection_id = ConnectionId::from_u128(n);
    let link = OpenLink {
        identity: identity(),
        connection_id,
        token,
        protocol,
        events: UnboundedReceiverStream::new(events_rx).boxed(),
        writer,
    };
    let mut decoder = FrameDecoder::new(protocol);
    if protocol != Protocol::V1 {
        // The connector consumed the identity already (`websocket::open`); the decoder needs it too.
        let me = Caller { identity: identity(), connection_id };
        decoder.decode(&frame(&v2_bsatn(&[initial_connection(me)]))).unwrap();
    }
    (link, Server { connection_id, protocol, decoder, events, sent })
}

impl Server {
    pub fn send(&self, message: ServerMessage) {
        let _ = self.events.send(LinkEvent::Message(Box::new(message)));
    }

    /// The connection drops (the session sees it at once).
    pub fn drop_connection(&self) {
        let _ = self.events.send(LinkEvent::Closed("the server closed the connection".into()));
    }

    /// The next thing the session sent on this link.
    pub async fn next(&mut self) -> Sent {
        let outgoing = self.sent.recv().await.expect("the link's writer is open");
        self.decode(outgoing)
    }

    /// Whatever the session sent and nobody read yet.
    pub fn unread(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        while let Ok(outgoing) = self.sent.try_recv() {
            out.push(self.decode(outgoing));
        }
        out
    }

    fn decode(&self, outgoing: Outgoing) -> Sent {
        match (outgoing, self.protocol) {
            (Outgoing::Frame(frame), Protocol::V1) => {
                Sent::Message(bsatn::from_slice(&frame).expect("a client message"))
            }
            (Outgoing::Frame(frame), _) => Sent::V2(bsatn::from_slice(&frame).expect("a v2 client message")),
            (Outgoing::Close(reason), _) => Sent::Close(reason),
        }
    }

    /// v2 messages in one v3 frame, decoded as the gateway decodes them and handed to the session as the
    /// websocket reader does (`websocket::link_events`); returns the event rows among them.
    pub fn send_v2(&mut self, messages: &[ws2::ServerMessage]) -> Vec<EventRows> {
        let inbound = self.decoder.decode(&frame(&v2_bsatn(messages))).unwrap();
        let events = inbound
            .iter()
            .filter_map(|i| match i {
                Inbound::Events(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        for event in crate::session::websocket::link_events(inbound) {
            let _ = self.events.send(event);
        }
        events
    }

    /// Reads a `SubscribeMulti` (v2/v3: `Subscribe`) and answers it with `rows` of `document`.
    pub async fn apply_subscription(&mut self, rows: &[Vec<u8>]) {
        match self.next().await {
            Sent::Message(ws::ClientMessage::SubscribeMulti(s)) => {
                self.send(ws::ServerMessage::SubscribeMultiApplied(ws::SubscribeMultiApplied {
                    request_id: s.request_id,
                    total_host_execution_duration_micros: 0,
                    query_id: s.query_id,
                    update: update(rows, &[]),
                }))
            }
            Sent::V2(ws2::ClientMessage::Subscribe(s)) => {
                assert_eq!(&*s.query_strings, ["SELECT * FROM document".into()]);
                self.send_v2(&[ws2::ServerMessage::SubscribeApplied(ws2::SubscribeApplied {
                    request_id: s.request_id,
                    query_set_id: s.query_set_id,
                    rows: query_rows("document", rows),
                })]);
            }
            _ => panic!("expected a subscription"),
        }
    }
}

/// What the session sent on a link.
pub(super) enum Sent {
    Message(ws::ClientMessage<Bytes>),
    /// A message on a v2/v3 link.
    V2(ws2::ClientMessage),
    Close(Option<String>),
}

/// A `document` row of the reference module with `id` and `title`.
pub(super) fn doc(id: u64, title: &str) -> Vec<u8> {
    bsatn::to_vec(&ProductValue::from(vec![
        AlgebraicValue::U64(id),
        AlgebraicValue::String("tenant".into()),
        AlgebraicValue::String(title.into()),
        AlgebraicValue::String("body".into()),
        AlgebraicValue::product([AlgebraicValue::U256(Box::new(identity().to_u256()))]),
        AlgebraicValue::product([AlgebraicValue::I64(1_700_000_000_000_000)]),
        AlgebraicValue::U32(1),
    ]))
    .unwrap()
}

/// A database update of `document`.
pub(super) fn update(inserts: &[Vec<u8>], deletes: &[Vec<u8>]) -> ws::DatabaseUpdate<ws::BsatnFormat> {
    ws::DatabaseUpdate {
        tables: vec![ws::TableUpdate {
            table_id: 4096.into(),
            table_name: "document".into(),
            num_rows: (inserts.len() + deletes.len()) as u64,
            updates: [ws::CompressableQueryUpdate::Uncompressed(ws::QueryUpdate {
                deletes: row_list(deletes),
                inserts: row_list(inserts),
            })]
            .into(),
        }],
    }
}

/// Transaction number `n` (its timestamp), called by `caller` with `request_id`, committing `update`.
pub(super) fn tx(
    n: i64,
    caller: ConnectionId,
    request_id: u32,
    update: ws::DatabaseUpdate<ws::BsatnFormat>,
) -> ServerMessage {
    ws::ServerMessage::TransactionUpdate(ws::TransactionUpdate {
        status: ws::UpdateStatus::Committed(update),
        timestamp: Timestamp::from_micros_since_unix_epoch(n),
        caller_identity: identity(),
        caller_connection_id: caller,
        reducer_call: ws::ReducerCallInfo {
            reducer_name: "create_document".into(),
            reducer_id: 3,
            args: Box::default(),
            request_id,
        },
        energy_quanta_used: EnergyQuanta { quanta: 7 },
        total_host_execution_duration: TimeDuration::from_micros(5),
    })
}

/// A light update (no transaction identity, as servers send for other callers' transactions).
pub(super) fn light(update: ws::DatabaseUpdate<ws::BsatnFormat>) -> ServerMessage {
    ws::ServerMessage::TransactionUpdateLight(ws::TransactionUpdateLight { request_id: 0, update })
}

/// Options with a scripted connector (returned: the requests to open links), no jitter, backoff
/// `1 s, 2 s, 4 s …`, and an idle timeout of a day: scripted links send no pings, so a scenario that
/// waits for minutes of paused time would otherwise see its links closed as dead (the idle-timeout test
/// sets its own).
pub(super) fn options(token: TokenSource) -> (SessionOptions, mpsc::UnboundedReceiver<OpenRequest>) {
    let (tx, opens) = mpsc::unbounded_channel();
    let connect = ConnectParams::for_tests("http://127.0.0.1:3000");
    let mut options = SessionOptions::new(connect, token);
    options.reconnect = Some(BackoffPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
        multiplier: 2.0,
        jitter: 0.0,
    });
    options.idle_timeout = Duration::from_secs(24 * 3600);
    options.connector = Arc::new(ScriptedConnector(tx));
    (options, opens)
}

/// Opens a session on link 1 and subscribes `document` with `rows`.
pub(super) async fn live_session(
    options: SessionOptions,
    opens: &mut mpsc::UnboundedReceiver<OpenRequest>,
    rows: &[Vec<u8>],
) -> (Session, Server, Arc<Recorder>) {
    live_session_on(Protocol::V1, options, opens, rows).await
}

/// [`live_session`] on a link that negotiated `protocol`.
pub(super) async fn live_session_on(
    protocol: Protocol,
    options: SessionOptions,
    opens: &mut mpsc::UnboundedReceiver<OpenRequest>,
    rows: &[Vec<u8>],
) -> (Session, Server, Arc<Recorder>) {
    let schema = Arc::new(reference_schema());
    let opening = tokio::spawn(Session::open(options, schema, None).with_current_subscriber());
    let mut server = opens.recv().await.unwrap().accept_with(1, protocol);
    let session = opening.await.unwrap().unwrap();
    let subscribing = tokio::spawn({
        let session = session.clone();
        async move { session.subscribe(vec!["SELECT * FROM document".into()], Duration::from_secs(10)).await }
    });
    server.apply_subscription(rows).await;
    subscribing.await.unwrap().unwrap();
    let recorder = Arc::new(Recorder::default());
    session.add_sink(recorder.clone());
    (session, server, recorder)
}

/// Runs a scenario, failing it if it has not finished after an hour of paused time: a session task that
/// died (a panicking sink) or waits for a message the script never sends then fails the test instead of
/// hanging it (with nothing else to wait for, the paused clock jumps straight to this deadline).
pub(super) async fn scenario(script: impl std::future::Future<Output = ()>) {
    let limit = Duration::from_secs(3600);
    if tokio::time::timeout(limit, script).await.is_err() {
        panic!("the scenario did not finish within {limit:?} of paused time");
    }
}

/// Waits, in paused time, until `done` holds, and fails after `within`.
pub(super) async fn wait_until(within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the session task run until it waits again (the paused clock moves only when all are idle).
pub(super) async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// The change batches a session reported: metadata, and `(op, id, title)` per change.
#[derive(Default)]
pub(super) struct Recorder(Mutex<Vec<Batch>>);

/// One reported transaction: its metadata and `(op, id, title)` per change.
pub(super) type Batch = (TransactionMeta, Vec<(&'static str, u64, String)>);

impl ChangeSink for Recorder {
    fn on_transaction(&self, tx: &Transaction) {
        let mut changes = Vec::new();
        for table in &tx.tables {
            for change in &table.changes {
                let op = match change {
                    RowChange::Insert { .. } => "insert",
                    RowChange::Update { .. } => "update",
                    RowChange::Delete { .. } => "delete",
                };
                let mut json = Vec::new();
                table.table.row_to_json(change.row(), &mut json).unwrap();
                let row: serde_json::Value = serde_json::from_slice(&json).unwrap();
                changes.push((op, id_of(&row), title_of(&row)));
            }
        }
        // Event rows: `(event, id, title)` for `document` rows, `(event, 0, table name)` for others.
        for table in &tx.events {
            for event in &table.rows {
                let mut json = Vec::new();
                let document = table.table.name == "document" && table.table.row_to_json(event, &mut json).is_ok();
                match document.then(|| serde_json::from_slice::<serde_json::Value>(&json).unwrap()) {
                    Some(row) => changes.push(("event", id_of(&row), title_of(&row))),
                    None => changes.push(("event", 0, table.table.name.clone())),
                }
            }
        }
        self.0.lock().unwrap().push((tx.meta.clone(), changes));
    }
}

impl Recorder {
    pub fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// A `document` row's id (a `u64`, which the codec writes as a JSON string so no digit is lost).
fn id_of(row: &serde_json::Value) -> u64 {
    row["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("a u64 id written as a string: {row}"))
}

fn title_of(row: &serde_json::Value) -> String {
    row["title"].as_str().unwrap_or_else(|| panic!("a title: {row}")).to_string()
}

/// The titles of the session's `document` rows, by id.
pub(super) fn titles(session: &Session) -> Vec<(u64, String)> {
    let rows: Vec<serde_json::Value> = session.with_projection(|p| {
        let table = p.table("document").unwrap();
        table
            .iter()
            .map(|row| {
                let mut json = Vec::new();
                table.def().row_to_json(row, &mut json).unwrap();
                serde_json::from_slice(&json).unwrap()
            })
            .collect()
    });
    let mut out: Vec<(u64, String)> = rows.iter().map(|r| (id_of(r), title_of(r))).collect();
    out.sort();
    out
}

/// Hands out JWTs (unsigned: the session only reads their lifetime) that expire `lifetime` after now.
pub(super) struct Tokens {
    pub lifetime: Duration,
    pub issued: Mutex<u32>,
}

impl TokenProvider for Tokens {
    fn token(&self) -> BoxFuture<'static, Result<String>> {
        let mut issued = self.issued.lock().unwrap();
        *issued += 1;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let claims =
            format!(r#"{{"sub":"gateway","n":{},"iat":{now},"exp":{}}}"#, *issued, now + self.lifetime.as_secs());
        let token = format!("{}.{}.sig", b64(r#"{"alg":"ES256"}"#), b64(&claims));
        Box::pin(async move { Ok(token) })
    }
}

/// A session whose token comes from [`Tokens`] of `lifetime`.
pub(super) fn rotating(lifetime: Duration) -> TokenSource {
    TokenSource::Provider(Arc::new(Tokens { lifetime, issued: Mutex::new(0) }))
}
