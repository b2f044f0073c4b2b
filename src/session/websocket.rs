//! One websocket connection to a database: the handshake, the first `IdentityToken`, and the two halves
//! the session drives (server messages in as [`LinkEvent`]s, [`Outgoing`] frames out). The session reaches
//! it through [`super::connector::WebSocketConnector`].

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::stream::{SplitStream, Stream, StreamExt};
use futures_util::SinkExt;
use spacetimedb_client_api_messages::websocket::v1 as ws;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::connector::{LinkEvent, OpenLink, Outgoing};
use super::uri::{Compression, ServerAddress};
use crate::codec::inbound::{FrameDecoder, Inbound, Protocol};
use crate::codec::protocol::ServerMessage;
use crate::error::{ErrorCode, GatewayError, Result};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type FrameReader = SplitStream<Socket>;

/// Initial subscriptions of large tables arrive as one message: allow far more than tungstenite's
/// default, but keep a bound so a broken peer cannot make us buffer without limit.
const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// What to connect to, and how.
#[derive(Clone, Debug)]
pub struct ConnectParams {
    pub address: ServerAddress,
    pub database: String,
    pub token: Option<String>,
    pub compression: Compression,
    /// Ask for `TransactionUpdateLight` for other callers' transactions (no reducer name or caller).
    pub light: bool,
    pub timeout: Duration,
    /// The websocket read and write buffer size; `None` keeps tungstenite's default (128 KiB each). A
    /// connection that only carries small reducer calls (the per-user pool's) needs far less.
    pub buffer_size: Option<usize>,
    /// The largest message the gateway sends. The server closes the websocket on a larger one, failing
    /// every request in flight on it, so a larger call is refused before sending (see `protocol`).
    pub max_message_bytes: usize,
    /// The sub-protocols offered, in any order: the server picks by its own preference (2.x: v3, v2,
    /// v1; 1.x: v1 only — `docs/protocol-2x.md` §1), so a list with v1 still connects to 1.x.
    pub protocols: Vec<Protocol>,
}

#[cfg(test)]
impl ConnectParams {
    /// Database `db` at `base`, anonymous, uncompressed, the default protocols, a 1 MiB message limit.
    pub(crate) fn for_tests(base: &str) -> ConnectParams {
        ConnectParams {
            address: ServerAddress::parse(base).unwrap(),
            database: "db".into(),
            token: None,
            compression: Compression::None,
            light: false,
            timeout: Duration::from_secs(10),
            buffer_size: None,
            max_message_bytes: 1 << 20,
            protocols: DEFAULT_PROTOCOLS.to_vec(),
        }
    }
}

/// What a gateway offers unless configured otherwise: v1 alone, as before #18. v2/v3 links are decoded
/// and driven (`codec::inbound`, `driver::tests::v2_frames`) but not yet run against a 2.x server.
pub const DEFAULT_PROTOCOLS: &[Protocol] = &[Protocol::V1];

/// Connects, checks the negotiated protocol and waits for the server's `IdentityToken`.
pub async fn open(params: &ConnectParams) -> Result<OpenLink> {
    let url = params.address.subscribe_url(&params.database, params.compression, params.light);
    let fut = async {
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| GatewayError::invalid_argument(format!("cannot build a websocket request for {url}: {e}")))?;
        let headers = request.headers_mut();
        let offer = HeaderValue::from_str(&offer(&params.protocols)?).expect("protocol tokens are ASCII");
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, offer);
        if let Some(token) = &params.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                GatewayError::invalid_argument("the token contains characters not allowed in an HTTP header")
            })?;
            headers.insert(header::AUTHORIZATION, value);
        }
        let mut config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        if let Some(size) = params.buffer_size {
            config = config.read_buffer_size(size).write_buffer_size(size);
        }
        let (socket, response) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .map_err(|e| handshake_error(e, &params.address.http_base, &params.database))?;
        let answer = response.headers().get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok());
        let protocol = negotiated(&params.protocols, answer)?;
        let (sink, mut reader) = socket.split();
        let mut decoder = FrameDecoder::new(protocol);
        let (identity, early) = first_identity(&mut reader, &mut decoder).await?;
        let writer = spawn_writer(sink);
        Ok(OpenLink {
            identity: identity.identity,
            connection_id: identity.connection_id,
            token: identity.token.into(),
            protocol,
            events: events(reader, decoder, early).boxed(),
            writer,
        })
    };
    tokio::time::timeout(params.timeout, fut).await.map_err(|_| {
        GatewayError::new(
            ErrorCode::Timeout,
            format!(
                "connecting to {} (database {}) took longer than {} ms",
                params.address.ws_base,
                params.database,
                params.timeout.as_millis()
            ),
        )
    })?
}

/// The `Sec-WebSocket-Protocol` request header: the offered tokens, comma-separated (RFC 6455 §4.1).
fn offer(protocols: &[Protocol]) -> Result<String> {
    if protocols.is_empty() {
        return Err(GatewayError::invalid_argument("at least one websocket protocol must be offered"));
    }
    Ok(protocols.iter().map(|p| p.subprotocol()).collect::<Vec<_>>().join(", "))
}

/// The protocol the server chose: one we offered, or the connect fails.
fn negotiated(offered: &[Protocol], answer: Option<&str>) -> Result<Protocol> {
    answer.and_then(Protocol::from_subprotocol).filter(|p| offered.contains(p)).ok_or_else(|| {
        GatewayError::new(
            ErrorCode::Protocol,
            format!(
                "the server did not choose one of the offered protocols ({}); it answered {answer:?}",
                offer(offered).unwrap_or_default()
            ),
        )
    })
}

/// Reads until the `IdentityToken` (v2/v3: `InitialConnection`) arrives. The server sends it first;
/// anything else before it is a protocol violation we report rather than guess about. What a v3 frame
/// carries after it is returned, to be delivered first.
async fn first_identity(
    reader: &mut FrameReader,
    decoder: &mut FrameDecoder,
) -> Result<(ws::IdentityToken, Vec<LinkEvent>)> {
    let Some(frame) = next_frame(reader).await? else {
        return Err(GatewayError::new(
            ErrorCode::ConnectFailed,
            "the server closed the connection right after the handshake (its client_connected reducer may have rejected this identity)",
        ));
    };
    let mut inbound = decoder.decode(&frame)?.into_iter();
    match inbound.next() {
        Some(Inbound::Server(message)) => match *message {
            ServerMessage::IdentityToken(token) => Ok((token, link_events(inbound))),
            _ => Err(GatewayError::protocol("the server sent another message before its IdentityToken")),
        },
        _ => Err(GatewayError::protocol("the server sent another message before its IdentityToken")),
    }
}

/// The next binary frame, skipping control frames; `None` once the connection is closed.
async fn next_frame(reader: &mut FrameReader) -> Result<Option<bytes::Bytes>> {
    loop {
        match reader.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(GatewayError::protocol(format!("websocket error: {e}"))),
            Some(Ok(Message::Binary(frame))) => return Ok(Some(frame)),
            Some(Ok(Message::Close(_))) => return Ok(None),
            // Pings are answered by tungstenite itself; pongs and raw frames carry nothing for us.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Text(_))) => {
                return Err(GatewayError::protocol("the server sent a text frame on a binary protocol"))
            }
        }
    }
}

/// What the session reads of a frame's decoded messages, in order: each message, and the event-table
/// rows that follow a transaction's message as one [`LinkEvent::Events`] (one batch for the listeners).
/// Reducer return values (v2/v3) are not consumed above the codec yet (`docs/protocol-2x.md` §7).
pub(crate) fn link_events(inbound: impl IntoIterator<Item = Inbound>) -> Vec<LinkEvent> {
    let mut out = Vec::new();
    for item in inbound {
        match item {
            Inbound::Server(message) => out.push(LinkEvent::Message(message)),
            Inbound::Events(rows) => match out.last_mut() {
                Some(LinkEvent::Events(batch)) => batch.push(rows),
                _ => out.push(LinkEvent::Events(vec![rows])),
            },
            Inbound::ReducerReturned { .. } => {}
        }
    }
    out
}

/// The reader of a websocket as the stream of events a session reads; it ends after `Closed`. A v3
/// frame can carry several messages: they are queued and delivered in order.
fn events(
    reader: FrameReader,
    decoder: FrameDecoder,
    early: Vec<LinkEvent>,
) -> impl Stream<Item = LinkEvent> + Send + 'static {
    let state = Some((reader, decoder, VecDeque::from(early)));
    futures_util::stream::unfold(state, |state| async move {
        let (mut reader, mut decoder, mut queue) = state?;
        loop {
            if let Some(event) = queue.pop_front() {
                return Some((event, Some((reader, decoder, queue))));
            }
            let event = match reader.next().await {
                None => LinkEvent::Closed("the server closed the connection".into()),
                Some(Err(e)) => LinkEvent::Closed(format!("websocket error: {e}")),
                Some(Ok(Message::Binary(frame))) => match decoder.decode(&frame) {
                    Ok(inbound) => {
                        queue.extend(link_events(inbound));
                        continue;
                    }
                    Err(e) => LinkEvent::Closed(e.message),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => LinkEvent::Alive,
                Some(Ok(Message::Close(frame))) => LinkEvent::Closed(match frame {
                    Some(f) if !f.reason.is_empty() => {
                        format!("the server closed the connection ({}: {})", f.code, f.reason)
                    }
                    Some(f) => format!("the server closed the connection ({})", f.code),
                    None => "the server closed the connection".into(),
                }),
                Some(Ok(Message::Text(_))) => {
                    LinkEvent::Closed("the server sent a text frame on a binary protocol".into())
                }
                Some(Ok(Message::Frame(_))) => continue,
            };
            let more = !matches!(event, LinkEvent::Closed(_));
            return Some((event, more.then_some((reader, decoder, queue))));
        }
    })
}

fn spawn_writer(mut sink: futures_util::stream::SplitSink<Socket, Message>) -> mpsc::UnboundedSender<Outgoing> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    tokio::spawn(async move {
        while let Some(outgoing) = rx.recv().await {
            let (message, closing) = match outgoing {
                Outgoing::Frame(frame) => (Message::Binary(frame.into()), false),
                Outgoing::Close(reason) => (
                    Message::Close(reason.map(|reason| CloseFrame { code: CloseCode::Normal, reason: reason.into() })),
                    true,
                ),
            };
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    tx
}

fn handshake_error(e: WsError, http_base: &str, database: &str) -> GatewayError {
    match e {
        WsError::Http(response) => {
            let status = response.status();
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().trim().to_string();
            let detail = if body.is_empty() { String::new() } else { format!(": {body}") };
            match status {
                StatusCode::UNAUTHORIZED => GatewayError::new(
                    ErrorCode::Unauthorized,
                    format!("SpacetimeDB at {http_base} rejected the token{detail}"),
                ),
                StatusCode::NOT_FOUND => GatewayError::new(
                    ErrorCode::NoSuchDatabase,
                    format!("SpacetimeDB at {http_base} has no database '{database}'"),
                ),
                _ => GatewayError::new(
                    ErrorCode::ConnectFailed,
                    format!("SpacetimeDB at {http_base} refused the websocket upgrade with HTTP {status}{detail}"),
                ),
            }
        }
        other => GatewayError::new(
            ErrorCode::ConnectFailed,
            format!("could not connect to SpacetimeDB at {http_base}: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_every_protocol_and_accepts_only_an_offered_answer() {
        let all = [Protocol::V3, Protocol::V2, Protocol::V1];
        assert_eq!(offer(&all).unwrap(), "v3.bsatn.spacetimedb, v2.bsatn.spacetimedb, v1.bsatn.spacetimedb");
        assert_eq!(offer(DEFAULT_PROTOCOLS).unwrap(), "v1.bsatn.spacetimedb");
        assert_eq!(offer(&[]).unwrap_err().code, ErrorCode::InvalidArgument);
        // A 1.x server answers v1 whatever else is offered (it knows nothing else); 2.x prefers v3.
        assert_eq!(negotiated(&all, Some("v1.bsatn.spacetimedb")).unwrap(), Protocol::V1);
        assert_eq!(negotiated(&all, Some("v3.bsatn.spacetimedb")).unwrap(), Protocol::V3);
        for (offered, answer) in [
            (&[Protocol::V1][..], Some("v3.bsatn.spacetimedb")),
            (&all[..], Some("v1.json.spacetimedb")),
            (&all[..], None),
        ] {
            assert_eq!(negotiated(offered, answer).unwrap_err().code, ErrorCode::Protocol, "{answer:?}");
        }
    }
}
