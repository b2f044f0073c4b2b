//! The options of `Gateway.connect` and of `callReducer`, as JSON objects (how they cross from JS): one
//! schema per surface, with its defaults and its errors. Every wrong value is `INVALID_ARGUMENT` naming
//! the option and what was passed; the JS layer only reads the caller's objects safely and takes out what
//! JSON cannot carry (a token function, a verifier handle).

use std::time::Duration;

use serde_json::{Map, Value};
use tracing::level_filters::LevelFilter;

use crate::actors::{PoolOptions, UserCallOptions, UserRoute};
use crate::codec::inbound::Protocol;
use crate::codec::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::codec::value::{describe_js, is_plain_object};
use crate::diagnostics::parse_level;
use crate::error::{GatewayError, Result};
use crate::relay::options::relay_config_from;
use crate::relay::RelayConfig;
use crate::session::backoff::BackoffPolicy;
use crate::session::uri::{Compression, ServerAddress};
use crate::session::websocket::DEFAULT_PROTOCOLS;

/// The longest timer JS can set (`setTimeout`'s limit), in ms.
const MAX_MS: f64 = 2_147_483_647.0;
/// Largest `userCalls.maxConnections`: beyond it, file descriptors and server limits bite long before.
const MAX_POOL_CONNECTIONS: f64 = 100_000.0;

/// `onLog` is a function the JS layer takes out before the options cross; it is named here so the list
/// of known options is the one users see.
const CONNECT_KEYS: [&str; 16] = [
    "uri",
    "database",
    "token",
    "subscriptions",
    "compression",
    "timeoutMs",
    "callTimeoutMs",
    "maxMessageBytes",
    "reconnect",
    "userCalls",
    "tenantColumn",
    "sharedTables",
    "relay",
    "onLog",
    "logLevel",
    "protocols",
];
const RECONNECT_KEYS: [&str; 7] =
    ["initialDelayMs", "maxDelayMs", "multiplier", "jitter", "callWaitMs", "idleTimeoutMs", "alignTimeoutMs"];
/// `verifier` is a handle the JS layer takes out before the options cross; it is named here so the list
/// of known options is the one users see.
const USER_CALL_KEYS: [&str; 5] = ["via", "maxConnections", "idleTimeoutMs", "verifier", "delegatedTokens"];
const RELAY_KEYS: [&str; 9] = [
    "logCapacity",
    "revocations",
    "maxSnapshotsPerPrincipal",
    "snapshotBytesPerTake",
    "heartbeatMs",
    "retryMs",
    "maxQueueEvents",
    "maxQueueBytes",
    "overflow",
];

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_argument(message)
}

/// How the session reconnects after losing its connection.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconnectOptions {
    /// The delays between attempts; `None` turns reconnecting off (a lost connection closes the gateway).
    pub backoff: Option<BackoffPolicy>,
    /// How long a reducer call made while disconnected waits for the connection.
    pub call_wait: Duration,
    /// A connection silent for this long (the server pings every 15 s) is dead.
    pub idle_timeout: Duration,
    /// How long a token refresh may search for its switch point before falling back to a diff.
    pub align_timeout: Duration,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        ReconnectOptions {
            backoff: Some(BackoffPolicy::default()),
            call_wait: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(45),
            align_timeout: Duration::from_secs(5),
        }
    }
}

/// `Gateway.connect`'s options, checked and with their defaults.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub address: ServerAddress,
    pub database: String,
    /// A fixed token; a token function crosses separately.
    pub token: Option<String>,
    /// Query sets subscribed before `connect` resolves.
    pub subscriptions: Vec<String>,
    pub compression: Compression,
    /// Bounds the whole connect (token, schema, websocket, subscriptions) and each later `subscribe`.
    pub timeout: Duration,
    /// The default timeout of a reducer call.
    pub call_timeout: Duration,
    /// The largest websocket message the gateway sends; larger calls are refused before sending.
    pub max_message_bytes: usize,
    pub reconnect: ReconnectOptions,
    pub user_calls: UserCallOptions,
    /// `tenantColumn`, `sharedTables` and `relay`, parsed (checked against the schema at connect).
    pub relay: RelayConfig,
    /// The least severe records the log function (`onLog`) receives.
    pub log_level: LevelFilter,
    /// The websocket sub-protocols offered (`protocols`); the server picks one by its own order.
    pub protocols: Vec<Protocol>,
}

impl ConnectOptions {
    /// Parses `Gateway.connect`'s options (JSON text of an object).
    pub fn parse(text: &str) -> Result<ConnectOptions> {
        let map = object(text, "Gateway.connect", &CONNECT_KEYS)?;
        let uri = non_empty_string(&map, "uri", "options.uri")?
            .ok_or_else(|| invalid("options.uri must be a non-empty string, got undefined"))?;
        let database = non_empty_string(&map, "database", "options.database")?
            .ok_or_else(|| invalid("options.database must be a non-empty string, got undefined"))?;
        let compression = match map.get("compression") {
            None => Compression::None,
            Some(Value::String(s)) if ["none", "gzip", "brotli"].contains(&s.as_str()) => Compression::parse(s)?,
            Some(other) => {
                return Err(invalid(format!(
                    "options.compression must be 'none', 'gzip' or 'brotli', got {}",
                    describe_js(other)
                )))
            }
        };
        Ok(ConnectOptions {
            address: ServerAddress::parse(&uri)?,
            database,
            token: non_empty_string(&map, "token", "options.token")?,
            subscriptions: subscriptions(&map)?,
            compression,
            timeout: timeout(&map, "timeoutMs", "options.timeoutMs")?.unwrap_or(Duration::from_secs(10)),
            call_timeout: timeout(&map, "callTimeoutMs", "options.callTimeoutMs")?.unwrap_or(Duration::from_secs(30)),
            max_message_bytes: max_message_bytes(map.get("maxMessageBytes"))?,
            reconnect: reconnect(map.get("reconnect"))?,
            user_calls: user_calls(map.get("userCalls"))?,
            relay: relay(&map)?,
            log_level: log_level(map.get("logLevel"))?,
            protocols: protocols(map.get("protocols"))?,
        })
    }
}

/// `logLevel`: `'error'`, `'warn'`, `'info'` (the default), `'debug'` or `'trace'`.
fn log_level(value: Option<&Value>) -> Result<LevelFilter> {
    match value {
        None => Ok(LevelFilter::INFO),
        Some(Value::String(name)) if parse_level(name).is_some() => Ok(parse_level(name).unwrap_or(LevelFilter::INFO)),
        Some(other) => Err(invalid(format!(
            "options.logLevel must be 'error', 'warn', 'info', 'debug' or 'trace', got {}",
            describe_js(other)
        ))),
    }
}

/// `protocols`: a non-empty list of distinct `'v1'`, `'v2'`, `'v3'` (the default: `['v1']`, see
/// `session::websocket::DEFAULT_PROTOCOLS`).
fn protocols(value: Option<&Value>) -> Result<Vec<Protocol>> {
    let Some(value) = value else { return Ok(DEFAULT_PROTOCOLS.to_vec()) };
    let wrong = |what: String| invalid(format!("options.protocols {what}"));
    let Value::Array(items) = value else {
        return Err(wrong(format!("must be a non-empty array of 'v1', 'v2', 'v3', got {}", describe_js(value))));
    };
    if items.is_empty() {
        return Err(wrong("must list at least one protocol ('v1', 'v2' or 'v3'), got an empty array".into()));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let protocol = item
            .as_str()
            .and_then(Protocol::from_name)
            .ok_or_else(|| wrong(format!("may contain only 'v1', 'v2' and 'v3', got {}", describe_js(item))))?;
        if out.contains(&protocol) {
            return Err(wrong(format!("lists '{}' twice", protocol.name())));
        }
        out.push(protocol);
    }
    Ok(out)
}

/// Parses `text` as a JSON object whose keys are all in `known`; `what` names it in messages.
fn object(text: &str, what: &str, known: &[&str]) -> Result<Map<String, Value>> {
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("{what}: not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(invalid(format!("{what} must be an object, got {}", describe_js(&value))));
    };
    check_known(&map, what, known)?;
    Ok(map)
}

fn check_known(map: &Map<String, Value>, what: &str, known: &[&str]) -> Result<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(invalid(format!("unknown option '{key}' of {what} (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

/// A member that must be an object (`name` in messages); `None` when absent.
fn member_object<'m>(value: Option<&'m Value>, name: &str) -> Result<Option<&'m Map<String, Value>>> {
    match value {
        None => Ok(None),
        Some(value @ Value::Object(map)) if is_plain_object(value) => Ok(Some(map)),
        Some(other) => Err(invalid(format!("{name} must be an object, got {}", describe_js(other)))),
    }
}

fn non_empty_string(map: &Map<String, Value>, key: &str, name: &str) -> Result<Option<String>> {
    non_empty(map.get(key), name, "")
}

/// A present value that must be a non-empty string; `hint` follows "string" in the message.
fn non_empty(value: Option<&Value>, name: &str, hint: &str) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!("{name} must be a non-empty string{hint}, got {}", describe_js(other)))),
    }
}

/// A positive number of milliseconds within JS's timer range.
fn timeout(map: &Map<String, Value>, key: &str, name: &str) -> Result<Option<Duration>> {
    match map.get(key) {
        None => Ok(None),
        Some(value) => milliseconds(value, name).map(Some),
    }
}

fn milliseconds(value: &Value, name: &str) -> Result<Duration> {
    match value.as_f64() {
        Some(ms) if value.is_number() && ms > 0.0 && ms <= MAX_MS => Ok(Duration::from_secs_f64(ms / 1000.0)),
        _ => Err(invalid(format!("{name} must be a positive number of milliseconds, got {}", describe_js(value)))),
    }
}

fn subscriptions(map: &Map<String, Value>) -> Result<Vec<String>> {
    let Some(value) = map.get("subscriptions") else { return Ok(Vec::new()) };
    let queries = match value {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|q| q.as_str().filter(|q| !q.trim().is_empty()).map(str::to_string))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    queries.ok_or_else(|| invalid("options.subscriptions must be a non-empty array of SQL strings"))
}

fn max_message_bytes(value: Option<&Value>) -> Result<usize> {
    let Some(value) = value else { return Ok(DEFAULT_MAX_MESSAGE_BYTES) };
    match value.as_f64() {
        Some(n) if value.is_number() && n.fract() == 0.0 && (1024.0..=4_294_967_295.0).contains(&n) => Ok(n as usize),
        _ => Err(invalid(format!(
            "options.maxMessageBytes must be a whole number of bytes from 1024 to 4294967295, got {}",
            describe_js(value)
        ))),
    }
}

/// `reconnect`: `true` or absent for the defaults, `false` to turn reconnecting off, or an object of
/// numbers over the defaults.
fn reconnect(value: Option<&Value>) -> Result<ReconnectOptions> {
    let defaults = ReconnectOptions::default();
    let map = match value {
        None | Some(Value::Bool(true)) => return Ok(defaults),
        Some(Value::Bool(false)) => return Ok(ReconnectOptions { backoff: None, ..defaults }),
        Some(value @ Value::Object(map)) if is_plain_object(value) => map,
        Some(other) => {
            return Err(invalid(format!("options.reconnect must be an object or false, got {}", describe_js(other))))
        }
    };
    check_known(map, "options.reconnect", &RECONNECT_KEYS)?;
    let mut numbers = Map::new();
    for (key, v) in map {
        if !v.is_number() {
            return Err(invalid(format!("reconnect.{key} must be a number, got {}", describe_js(v))));
        }
        numbers.insert(key.clone(), v.clone());
    }
    let base = BackoffPolicy::default();
    let ms = |key: &str, default: Duration| -> Result<Duration> {
        match numbers.get(key) {
            None => Ok(default),
            Some(v) => match v.as_f64() {
                Some(ms) if ms > 0.0 && ms <= MAX_MS => Ok(Duration::from_secs_f64(ms / 1000.0)),
                _ => Err(invalid(format!(
                    "reconnect.{key} must be a positive number of milliseconds, got {}",
                    describe_js(v)
                ))),
            },
        }
    };
    let number = |key: &str, default: f64| numbers.get(key).and_then(Value::as_f64).unwrap_or(default);
    let (initial, max) = (ms("initialDelayMs", base.initial)?, ms("maxDelayMs", base.max)?);
    let (multiplier, jitter) = (number("multiplier", base.multiplier), number("jitter", base.jitter));
    if !(multiplier >= 1.0 && (0.0..=1.0).contains(&jitter)) {
        return Err(invalid("reconnect.multiplier must be ≥ 1 and reconnect.jitter in [0, 1]"));
    }
    Ok(ReconnectOptions {
        backoff: Some(BackoffPolicy { initial, max: max.max(initial), multiplier, jitter }),
        call_wait: ms("callWaitMs", defaults.call_wait)?,
        idle_timeout: ms("idleTimeoutMs", defaults.idle_timeout)?,
        align_timeout: ms("alignTimeoutMs", defaults.align_timeout)?,
    })
}

fn route(value: &Value, name: &str) -> Result<UserRoute> {
    match value {
        Value::String(s) if s == "pool" || s == "http" => UserRoute::parse(s),
        other => Err(invalid(format!("{name} must be 'pool' or 'http', got {}", describe_js(other)))),
    }
}

/// `userCalls`: how calls with a user's token reach SpacetimeDB.
fn user_calls(value: Option<&Value>) -> Result<UserCallOptions> {
    let mut out = UserCallOptions::default();
    let Some(map) = member_object(value, "options.userCalls")? else { return Ok(out) };
    check_known(map, "options.userCalls", &USER_CALL_KEYS)?;
    if let Some(via) = map.get("via") {
        out.via = route(via, "userCalls.via")?;
    }
    if let Some(max) = map.get("maxConnections") {
        match max.as_f64() {
            Some(n) if max.is_number() && n.fract() == 0.0 && (1.0..=MAX_POOL_CONNECTIONS).contains(&n) => {
                out.pool.max_connections = n as usize
            }
            _ => {
                return Err(invalid(format!(
                    "userCalls.maxConnections must be a whole number from 1 to {MAX_POOL_CONNECTIONS}, got {}",
                    describe_js(max)
                )))
            }
        }
    }
    if let Some(idle) = timeout(map, "idleTimeoutMs", "userCalls.idleTimeoutMs")? {
        out.pool = PoolOptions { idle_timeout: idle, ..out.pool };
    }
    out.delegated_as_subject = match map.get("delegatedTokens") {
        None => false,
        Some(Value::String(s)) if s == "refuse" => false,
        Some(Value::String(s)) if s == "as-subject" => true,
        Some(other) => {
            return Err(invalid(format!(
                "userCalls.delegatedTokens must be 'refuse' or 'as-subject', got {}",
                describe_js(other)
            )))
        }
    };
    Ok(out)
}

/// The relay options: `tenantColumn` and `sharedTables` at the top, the limits under `relay`.
fn relay(map: &Map<String, Value>) -> Result<RelayConfig> {
    let mut config = Map::new();
    for key in ["tenantColumn", "sharedTables"] {
        if let Some(v) = map.get(key) {
            config.insert(key.into(), v.clone());
        }
    }
    if let Some(limits) = member_object(map.get("relay"), "options.relay")? {
        check_known(limits, "options.relay", &RELAY_KEYS)?;
        config.extend(limits.clone());
    }
    relay_config_from(&config)
}

/// Who a reducer call acts as, and its timeout: `callReducer`'s `opts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Fills the reducer's `actor` parameter (the service topology): a string for `actor: String`, an
    /// object for a structured actor (e.g. the cookbook module's `{ sub, act }`).
    pub actor: Option<Value>,
    /// Runs the call as the token's holder, over the given route or the gateway's default.
    pub user: Option<(String, Option<UserRoute>)>,
    /// Overrides the gateway's `callTimeoutMs`.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Parses `callReducer`'s options (JSON text of an object). Members it does not know are ignored, as
    /// they always were.
    pub fn parse(text: &str) -> Result<CallOptions> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("callReducer opts: not valid JSON: {e}")))?;
        let Some(map) = member_object(Some(&value), "callReducer opts")? else { unreachable!("present") };
        let timeout = timeout(map, "timeoutMs", "opts.timeoutMs")?;
        let actor = match map.get("actor") {
            Some(object @ Value::Object(_)) if is_plain_object(object) => Some(object.clone()),
            other => non_empty(
                other,
                "opts.actor",
                " or an object (derive it from the verified session, never from browser input)",
            )?
            .map(Value::String),
        };
        let token = non_empty(map.get("token"), "opts.token", " (a SpacetimeDB access token for the user)")?;
        let via = map.get("via").map(|v| route(v, "opts.via")).transpose()?;
        let user = match (token, via) {
            (Some(token), via) => Some((token, via)),
            (None, Some(_)) => return Err(invalid("opts.via applies only to calls with opts.token (per-user calls)")),
            (None, None) => None,
        };
        Ok(CallOptions { actor, user, timeout })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn connect(extra: &str) -> Result<ConnectOptions> {
        let comma = if extra.is_empty() { "" } else { "," };
        ConnectOptions::parse(&format!(r#"{{"uri":"http://127.0.0.1:3000","database":"db"{comma}{extra}}}"#))
    }

    fn refused(extra: &str) -> String {
        let e = connect(extra).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{extra}");
        e.message
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let o = connect("").unwrap();
        assert_eq!(o.timeout, Duration::from_secs(10));
        assert_eq!(o.call_timeout, Duration::from_secs(30));
        assert_eq!(o.compression, Compression::None);
        assert_eq!(o.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
        assert_eq!(o.reconnect, ReconnectOptions::default());
        assert_eq!(o.user_calls, UserCallOptions::default());
        assert_eq!(o.relay, RelayConfig::default());
        assert!(o.token.is_none() && o.subscriptions.is_empty());
        assert_eq!(o.protocols, vec![Protocol::V1]);
        // An object of reconnect settings starts from the same defaults as no object at all.
        assert_eq!(connect(r#""reconnect":{}"#).unwrap().reconnect, ReconnectOptions::default());
        assert_eq!(connect(r#""reconnect":true"#).unwrap().reconnect, ReconnectOptions::default());
        assert_eq!(connect(r#""userCalls":{}"#).unwrap().user_calls, UserCallOptions::default());
    }

    #[test]
    fn reads_every_option() {
        let o = connect(
            r#""token":"t","subscriptions":["SELECT * FROM a"],"compression":"gzip","timeoutMs":500,
               "callTimeoutMs":700,"maxMessageBytes":2048,
               "reconnect":{"initialDelayMs":50,"maxDelayMs":10,"multiplier":3,"jitter":0,"alignTimeoutMs":9},
               "userCalls":{"via":"http","maxConnections":7,"idleTimeoutMs":1000},
               "tenantColumn":"tenant_id","relay":{"logCapacity":5}"#,
        )
        .unwrap();
        assert_eq!((o.token.as_deref(), o.subscriptions.len()), (Some("t"), 1));
        assert_eq!(
            (o.compression, o.timeout, o.call_timeout),
            (Compression::Gzip, Duration::from_millis(500), Duration::from_millis(700))
        );
        assert_eq!(o.max_message_bytes, 2048);
        let backoff = o.reconnect.backoff.unwrap();
        assert_eq!(
            (backoff.initial, backoff.max, backoff.multiplier),
            (Duration::from_millis(50), Duration::from_millis(50), 3.0)
        );
        assert_eq!(o.reconnect.align_timeout, Duration::from_millis(9));
        assert_eq!(o.user_calls.via, UserRoute::Http);
        assert_eq!(o.user_calls.pool, PoolOptions { max_connections: 7, idle_timeout: Duration::from_secs(1) });
        assert_eq!(o.relay.log_capacity, 5);
        assert!(connect(r#""reconnect":false"#).unwrap().reconnect.backoff.is_none());
        assert_eq!(o.log_level, LevelFilter::INFO);
        assert_eq!(connect(r#""logLevel":"debug""#).unwrap().log_level, LevelFilter::DEBUG);
        assert_eq!(
            connect(r#""protocols":["v3","v2","v1"]"#).unwrap().protocols,
            vec![Protocol::V3, Protocol::V2, Protocol::V1]
        );
        assert_eq!(connect(r#""protocols":["v2"]"#).unwrap().protocols, vec![Protocol::V2]);
    }

    #[test]
    fn every_wrong_value_names_its_option() {
        for (extra, says) in [
            (r#""bogus":1"#, "unknown option 'bogus' of Gateway.connect (known: uri, database"),
            (r#""timeoutMs":-1"#, "options.timeoutMs must be a positive number of milliseconds, got -1"),
            (r#""timeoutMs":"5""#, r#"options.timeoutMs must be a positive number of milliseconds, got "5""#),
            (r#""callTimeoutMs":null"#, "options.callTimeoutMs must be a positive number of milliseconds, got null"),
            (r#""compression":"zstd""#, r#"options.compression must be 'none', 'gzip' or 'brotli', got "zstd""#),
            (r#""token":"""#, "options.token must be a non-empty string, got an empty string"),
            (r#""subscriptions":[]"#, "options.subscriptions must be a non-empty array of SQL strings"),
            (r#""subscriptions":[" "]"#, "options.subscriptions must be a non-empty array"),
            (r#""maxMessageBytes":10"#, "options.maxMessageBytes must be a whole number of bytes from 1024"),
            (r#""reconnect":null"#, "options.reconnect must be an object or false, got null"),
            (r#""reconnect":{"jitter":"x"}"#, r#"reconnect.jitter must be a number, got "x""#),
            (r#""reconnect":{"delay":1}"#, "unknown option 'delay' of options.reconnect"),
            (r#""reconnect":{"initialDelayMs":0}"#, "reconnect.initialDelayMs must be a positive number"),
            (r#""reconnect":{"multiplier":0.5}"#, "reconnect.multiplier must be ≥ 1"),
            (r#""userCalls":null"#, "options.userCalls must be an object, got null"),
            (r#""userCalls":{"via":"ws"}"#, r#"userCalls.via must be 'pool' or 'http', got "ws""#),
            (
                r#""userCalls":{"delegatedTokens":"yes"}"#,
                r#"userCalls.delegatedTokens must be 'refuse' or 'as-subject', got "yes""#,
            ),
            (r#""userCalls":{"maxConnections":0}"#, "userCalls.maxConnections must be a whole number from 1 to 100000"),
            (r#""userCalls":{"idleTimeoutMs":0}"#, "userCalls.idleTimeoutMs must be a positive number"),
            (r#""userCalls":{"pool":1}"#, "unknown option 'pool' of options.userCalls"),
            (r#""relay":null"#, "options.relay must be an object, got null"),
            (r#""relay":{"tenantColumn":"t"}"#, "unknown option 'tenantColumn' of options.relay"),
            (r#""relay":{"logCapacity":-1}"#, "logCapacity must be an integer"),
            (
                r#""logLevel":"verbose""#,
                r#"options.logLevel must be 'error', 'warn', 'info', 'debug' or 'trace', got "verbose""#,
            ),
            (r#""protocols":"v1""#, r#"options.protocols must be a non-empty array of 'v1', 'v2', 'v3', got "v1""#),
            (r#""protocols":[]"#, "options.protocols must list at least one protocol"),
            (r#""protocols":["v4"]"#, r#"options.protocols may contain only 'v1', 'v2' and 'v3', got "v4""#),
            (r#""protocols":["v1.bsatn.spacetimedb"]"#, "options.protocols may contain only 'v1', 'v2' and 'v3'"),
            (r#""protocols":[1]"#, "options.protocols may contain only 'v1', 'v2' and 'v3', got 1"),
            (r#""protocols":["v1","v3","v1"]"#, "options.protocols lists 'v1' twice"),
            (r#""timeoutMs":{"\u0000bigint":"10"}"#, "got a bigint (10n)"),
            (r#""timeoutMs":{"\u0000function":null}"#, "got a function"),
        ] {
            let message = refused(extra);
            assert!(message.contains(says), "{extra}: {message}");
        }
        let e = ConnectOptions::parse(r#"{"database":"db"}"#).unwrap_err();
        assert!(e.message.contains("options.uri must be a non-empty string"), "{}", e.message);
    }

    #[test]
    fn call_options() {
        assert_eq!(CallOptions::parse("{}").unwrap(), CallOptions::default());
        let o = CallOptions::parse(r#"{"actor":"u1","token":"t","via":"http","timeoutMs":5,"other":1}"#).unwrap();
        assert_eq!(o.actor, Some(Value::String("u1".into())));
        assert_eq!(o.user, Some(("t".into(), Some(UserRoute::Http))));
        assert_eq!(o.timeout, Some(Duration::from_millis(5)));
        let o = CallOptions::parse(r#"{"actor":{"sub":"u1","act":"robot:k"}}"#).unwrap();
        assert_eq!(o.actor, Some(serde_json::json!({ "sub": "u1", "act": "robot:k" })));
        for (json, says) in [
            (r#"{"via":"http"}"#, "opts.via applies only to calls with opts.token (per-user calls)"),
            (r#"{"token":""}"#, "opts.token must be a non-empty string (a SpacetimeDB access token for the user)"),
            (
                r#"{"actor":5}"#,
                "opts.actor must be a non-empty string or an object (derive it from the verified session",
            ),
            (r#"{"actor":["u1"]}"#, "opts.actor must be a non-empty string or an object"),
            (r#"{"token":"t","via":"x"}"#, r#"opts.via must be 'pool' or 'http', got "x""#),
            (r#"{"timeoutMs":0}"#, "opts.timeoutMs must be a positive number of milliseconds, got 0"),
        ] {
            let e = CallOptions::parse(json).unwrap_err();
            assert!(e.message.contains(says), "{json}: {}", e.message);
        }
    }
}
