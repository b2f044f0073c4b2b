//! The relay's options as JSON objects (how they cross from JS): `Gateway.connect`'s relay options,
//! `gateway.stream()` options, `revoke`/`narrow` selectors. Unknown keys and ill-typed values are
//! `INVALID_ARGUMENT` naming the option.

use std::time::Duration;

use serde_json::{Map, Value};

use super::admission::SnapshotLimits;
use super::relay::{RelayConfig, Selector, StreamDefaults};
use super::revocations::RevocationOptions;
use super::selection::{SelectionRequest, Tenant};
use super::stream::{OverflowPolicy, Principal, QueueLimits, StreamSettings};
use super::tables::TenantColumns;
use crate::codec::value::describe_json;
use crate::error::{GatewayError, Result};

/// The largest number of milliseconds a timer option takes (as `setTimeout`).
const MAX_MS: u64 = 2_147_483_647;

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_argument(message)
}

/// Parses `text` as a JSON object whose keys are all in `known`.
fn object(text: &str, what: &str, known: &[&str]) -> Result<Map<String, Value>> {
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("{what}: not valid JSON: {e}")))?;
    let Value::Object(map) = value else { return Err(invalid(format!("{what} must be an object"))) };
    check_keys(&map, what, known)?;
    Ok(map)
}

/// `INVALID_ARGUMENT` naming the first key of `map` that is not in `known`.
pub(super) fn check_keys(map: &Map<String, Value>, what: &str, known: &[&str]) -> Result<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(invalid(format!("{what}: unknown option '{key}' (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

/// A present, non-null value of `key`.
fn get<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn integer(map: &Map<String, Value>, key: &str, min: u64, max: u64) -> Result<Option<u64>> {
    let Some(value) = get(map, key) else { return Ok(None) };
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(Some(n as u64)),
        _ => Err(invalid(format!("{key} must be an integer from {min} to {max}, got {}", describe_json(value)))),
    }
}

fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!("{key} must be a non-empty string, got {}", describe_json(other)))),
    }
}

fn strings(map: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| invalid(format!("{key} must be an array of table names"))),
        Some(other) => Err(invalid(format!("{key} must be an array of table names, got {}", describe_json(other)))),
    }
}

fn boolean(map: &Map<String, Value>, key: &str) -> Result<bool> {
    match get(map, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid(format!("{key} must be a boolean, got {}", describe_json(other)))),
    }
}

fn where_object<'m>(map: &'m Map<String, Value>, key: &str) -> Result<Option<&'m Map<String, Value>>> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::Object(w)) => Ok(Some(w)),
        Some(other) => Err(invalid(format!(
            "{key} must be an object {{ table: {{ column: value }} }}, got {}",
            describe_json(other)
        ))),
    }
}

const LIMIT_KEYS: [&str; 5] = ["heartbeatMs", "retryMs", "maxQueueEvents", "maxQueueBytes", "overflow"];

/// Reads the stream limits present in `map` over `defaults`.
fn defaults_from(map: &Map<String, Value>, defaults: &StreamDefaults) -> Result<StreamDefaults> {
    let overflow = match get(map, "overflow") {
        None => defaults.limits.overflow,
        Some(Value::String(s)) if s == "resync" => OverflowPolicy::Resync,
        Some(Value::String(s)) if s == "close" => OverflowPolicy::Close,
        Some(other) => {
            return Err(invalid(format!("overflow must be 'resync' or 'close', got {}", describe_json(other))))
        }
    };
    Ok(StreamDefaults {
        limits: QueueLimits {
            max_events: integer(map, "maxQueueEvents", 1, 1 << 24)?.map_or(defaults.limits.max_events, |n| n as usize),
            max_bytes: integer(map, "maxQueueBytes", 1024, 1 << 32)?.map_or(defaults.limits.max_bytes, |n| n as usize),
            overflow,
        },
        heartbeat: integer(map, "heartbeatMs", 100, MAX_MS)?.map_or(defaults.heartbeat, Duration::from_millis),
        retry_ms: integer(map, "retryMs", 0, MAX_MS)?.map_or(defaults.retry_ms, |n| n as u32),
    })
}

/// The relay options of `Gateway.connect`: `{ tenantColumn?, sharedTables?, logCapacity?,
/// maxSnapshotsPerPrincipal?, snapshotBytesPerTake?, heartbeatMs?, retryMs?, maxQueueEvents?,
/// maxQueueBytes?, overflow? }`.
pub fn parse_relay_config(text: &str) -> Result<RelayConfig> {
    let mut known = vec![
        "tenantColumn",
        "sharedTables",
        "logCapacity",
        "maxSnapshotsPerPrincipal",
        "snapshotBytesPerTake",
        "revocations",
    ];
    known.extend(LIMIT_KEYS);
    relay_config_from(&object(text, "relay options", &known)?)
}

/// The relay options from an object whose keys were checked (see [`parse_relay_config`]).
pub fn relay_config_from(map: &Map<String, Value>) -> Result<RelayConfig> {
    let base = RelayConfig::default();
    let tenant_columns = match get(map, "tenantColumn") {
        None => base.tenant_columns,
        Some(Value::String(column)) if !column.is_empty() => TenantColumns::Named(column.clone()),
        Some(Value::Object(per_table)) => TenantColumns::PerTable(
            per_table
                .iter()
                .map(|(table, column)| match column {
                    Value::String(c) if !c.is_empty() => Ok((table.clone(), c.clone())),
                    other => Err(invalid(format!(
                        "tenantColumn.{table} must be a column name, got {}",
                        describe_json(other)
                    ))),
                })
                .collect::<Result<_>>()?,
        ),
        Some(other) => {
            return Err(invalid(format!(
                "tenantColumn must be a column name or {{ table: column }}, got {}",
                describe_json(other)
            )))
        }
    };
    Ok(RelayConfig {
        tenant_columns,
        shared_tables: strings(map, "sharedTables")?.unwrap_or_default(),
        log_capacity: integer(map, "logCapacity", 0, 1 << 24)?.map_or(base.log_capacity, |n| n as usize),
        defaults: defaults_from(map, &base.defaults)?,
        snapshots: SnapshotLimits {
            per_principal: integer(map, "maxSnapshotsPerPrincipal", 1, 1 << 20)?
                .map_or(base.snapshots.per_principal, |n| n as usize),
            // At least one rows frame (about 64 KiB), so every take moves snapshots on.
            bytes_per_take: integer(map, "snapshotBytesPerTake", 64 << 10, 1 << 32)?
                .map_or(base.snapshots.bytes_per_take, |n| n as usize),
        },
        revocations: get(map, "revocations").map(RevocationOptions::parse).transpose()?,
    })
}

/// The selection options of `gateway.stream()` and `gateway.snapshot()`, parsed.
pub struct SelectionOptions {
    options: Map<String, Value>,
    pub tables: Option<Vec<String>>,
}

impl SelectionOptions {
    fn new(options: Map<String, Value>) -> Result<SelectionOptions> {
        let tables = strings(&options, "tables")?;
        let parsed = SelectionOptions { options, tables };
        parsed.selection()?;
        principal(&parsed.options)?;
        Ok(parsed)
    }

    /// The selection part, borrowing the parsed options.
    pub fn selection(&self) -> Result<SelectionRequest<'_>> {
        Ok(SelectionRequest {
            tenant_id: get(&self.options, "tenantId"),
            all_tenants: boolean(&self.options, "allTenants")?,
            tables: self.tables.clone(),
            where_: where_object(&self.options, "where")?,
            revoke_on: where_object(&self.options, "revokeOn")?,
        })
    }

    /// `principal`, parsed (its `act` changes the ids of a stream, so also the resume id of a snapshot).
    pub fn principal(&self) -> Result<Principal> {
        principal(&self.options)
    }
}

const SELECTION_KEYS: [&str; 5] = ["tenantId", "allTenants", "tables", "where", "principal"];

fn principal(options: &Map<String, Value>) -> Result<Principal> {
    match get(options, "principal") {
        None => Ok(Principal::default()),
        Some(Value::Object(p)) => {
            if let Some(key) = p.keys().find(|k| !["sub", "sid", "act"].contains(&k.as_str())) {
                return Err(invalid(format!("principal: unknown field '{key}' (known: sub, sid, act)")));
            }
            let act = match get(p, "act") {
                None => None,
                Some(Value::Object(act)) if act.len() == 1 => string(act, "sub")?,
                Some(other) => {
                    return Err(invalid(format!(
                        "principal.act must be {{ sub }} (who acts for principal.sub), got {}",
                        describe_json(other)
                    )))
                }
            };
            if act.is_some() && string(p, "sub")?.is_none() {
                return Err(invalid("principal.act needs principal.sub: the one acted for"));
            }
            Ok(Principal { sub: string(p, "sub")?, sid: string(p, "sid")?, act })
        }
        Some(other) => Err(invalid(format!("principal must be {{ sub?, sid?, act? }}, got {}", describe_json(other)))),
    }
}

/// The options of `gateway.stream()`, parsed.
pub struct StreamRequest {
    pub view: SelectionOptions,
    pub settings: StreamSettings,
    pub last_event_id: Option<String>,
}

impl StreamRequest {
    /// The selection part, borrowing the parsed options.
    pub fn selection(&self) -> Result<SelectionRequest<'_>> {
        self.view.selection()
    }
}

/// `{ tenantId | allTenants, tables?, where?, revokeOn?, lastEventId?, principal?, schemaVersion?,
/// heartbeatMs?, retryMs?, maxQueueEvents?, maxQueueBytes?, overflow? }`.
pub fn parse_stream_options(text: &str, defaults: &StreamDefaults) -> Result<StreamRequest> {
    let mut known = SELECTION_KEYS.to_vec();
    known.extend(["revokeOn", "lastEventId", "schemaVersion"]);
    known.extend(LIMIT_KEYS);
    let options = object(text, "stream options", &known)?;
    let limits = defaults_from(&options, defaults)?;
    let last_event_id = match get(&options, "lastEventId") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(invalid(format!("lastEventId must be a string, got {}", describe_json(other)))),
    };
    let settings = StreamSettings {
        limits: limits.limits,
        heartbeat: limits.heartbeat,
        retry_ms: limits.retry_ms,
        schema_version: integer(&options, "schemaVersion", 0, u32::MAX as u64)?.map_or(1, |n| n as u32),
        principal: principal(&options)?,
    };
    Ok(StreamRequest { view: SelectionOptions::new(options)?, settings, last_event_id })
}

/// `gateway.snapshot()`'s `{ tenantId | allTenants, tables?, where?, principal? }` (`principal` is
/// accepted so one options object can serve both calls; it changes no rows).
pub fn parse_view_options(text: &str) -> Result<SelectionOptions> {
    SelectionOptions::new(object(text, "snapshot options", &SELECTION_KEYS)?)
}

/// `{ streamId?, sub?, sid?, tenantId? }` (at least one).
pub fn parse_selector(text: &str) -> Result<Selector> {
    let map = object(text, "selector", &["streamId", "sub", "sid", "tenantId"])?;
    let selector = Selector {
        stream_id: integer(&map, "streamId", 1, u32::MAX as u64)?.map(|n| n as u32),
        sub: string(&map, "sub")?,
        sid: string(&map, "sid")?,
        tenant: get(&map, "tenantId").map(Tenant::key_of).transpose()?,
        sid_sha256: None,
    };
    if selector == Selector::default() {
        return Err(invalid("the selector must name a stream: { streamId }, { sub }, { sid } or { tenantId }"));
    }
    Ok(selector)
}

/// `narrow`'s `{ tables?, where? }`.
pub struct Narrowing {
    pub tables: Option<Vec<String>>,
    options: Map<String, Value>,
}

impl Narrowing {
    pub fn where_(&self) -> Option<&Map<String, Value>> {
        where_object(&self.options, "where").ok().flatten()
    }
}

pub fn parse_narrowing(text: &str) -> Result<Narrowing> {
    let options = object(text, "narrow", &["tables", "where"])?;
    let tables = strings(&options, "tables")?;
    where_object(&options, "where")?;
    if tables.is_none() && get(&options, "where").is_none() {
        return Err(invalid("narrow needs tables or where"));
    }
    Ok(Narrowing { tables, options })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn error(result: Result<impl Sized>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidArgument, "{e}");
                e.message
            }
        }
    }

    #[test]
    fn stream_options_fill_defaults_and_read_every_field() {
        let defaults = StreamDefaults::default();
        let r = parse_stream_options(r#"{"tenantId":"t1"}"#, &defaults).unwrap();
        assert_eq!(r.settings.limits, defaults.limits);
        assert_eq!(r.settings.schema_version, 1);
        assert_eq!(r.last_event_id, None);
        let r = parse_stream_options(
            r#"{"allTenants":true,"tables":["document"],"where":{"document":{"title":"x"}},"lastEventId":"e-3",
                "principal":{"sub":"u1","sid":"s1"},"schemaVersion":7,"heartbeatMs":500,"retryMs":0,
                "maxQueueEvents":5,"maxQueueBytes":4096,"overflow":"close"}"#,
            &defaults,
        )
        .unwrap();
        assert_eq!(r.settings.principal, Principal { sub: Some("u1".into()), sid: Some("s1".into()), act: None });
        let acted =
            parse_stream_options(r#"{"tenantId":"t","principal":{"sub":"u1","act":{"sub":"admin_1"}}}"#, &defaults);
        assert_eq!(acted.unwrap().settings.principal.act.as_deref(), Some("admin_1"));
        assert_eq!(r.settings.limits, QueueLimits { max_events: 5, max_bytes: 4096, overflow: OverflowPolicy::Close });
        assert_eq!((r.settings.schema_version, r.settings.retry_ms), (7, 0));
        assert_eq!(r.settings.heartbeat, Duration::from_millis(500));
        assert_eq!(r.last_event_id.as_deref(), Some("e-3"));
        let selection = r.selection().unwrap();
        assert!(selection.all_tenants);
        assert_eq!(r.view.tables, Some(vec!["document".to_string()]));
        assert_eq!(selection.tables, Some(vec!["document".to_string()]));
        // An empty Last-Event-ID header means none.
        assert_eq!(
            parse_stream_options(r#"{"tenantId":"t","lastEventId":""}"#, &defaults).unwrap().last_event_id,
            None
        );
    }

    #[test]
    fn bad_stream_options_name_the_option() {
        let d = StreamDefaults::default();
        let cases = [
            (r#"[]"#, "must be an object"),
            (r#"{"tenantID":"t"}"#, "unknown option 'tenantID'"),
            (r#"{"tenantId":"t","heartbeatMs":50}"#, "heartbeatMs must be an integer from 100"),
            (r#"{"tenantId":"t","maxQueueEvents":1.5}"#, "maxQueueEvents"),
            (r#"{"tenantId":"t","overflow":"drop"}"#, "overflow must be 'resync' or 'close'"),
            (r#"{"tenantId":"t","tables":"document"}"#, "tables must be an array"),
            (r#"{"tenantId":"t","where":[1]}"#, "where must be an object"),
            (r#"{"tenantId":"t","principal":{"user":"x"}}"#, "unknown field 'user'"),
            (r#"{"tenantId":"t","principal":{"sub":"u","act":"admin"}}"#, "principal.act must be { sub }"),
            (r#"{"tenantId":"t","principal":{"sub":"u","act":{"sub":"a","x":1}}}"#, "principal.act must be { sub }"),
            (r#"{"tenantId":"t","principal":{"act":{"sub":"admin"}}}"#, "principal.act needs principal.sub"),
            (r#"{"tenantId":"t","revokeOn":[1]}"#, "revokeOn must be an object"),
            (r#"{"tenantId":"t","lastEventId":3}"#, "lastEventId must be a string"),
            (r#"{"tenantId":"t","allTenants":"yes"}"#, "allTenants must be a boolean"),
            (r#"{"tenantId":"t","schemaVersion":-1}"#, "schemaVersion"),
        ];
        for (text, message) in cases {
            let m = error(parse_stream_options(text, &d));
            assert!(m.contains(message), "{text}: {m}");
        }
    }

    #[test]
    fn relay_config_reads_tenant_columns_shared_tables_and_limits() {
        let c = parse_relay_config(
            r#"{"tenantColumn":{"document":"tenant_id"},"sharedTables":["tenant"],"logCapacity":5,"maxQueueEvents":9}"#,
        )
        .unwrap();
        assert_eq!(c.tenant_columns, TenantColumns::PerTable(vec![("document".into(), "tenant_id".into())]));
        assert_eq!(c.shared_tables, vec!["tenant".to_string()]);
        assert_eq!(c.log_capacity, 5);
        assert_eq!(c.defaults.limits.max_events, 9);
        assert_eq!(parse_relay_config("{}").unwrap(), RelayConfig::default());
        assert!(error(parse_relay_config(r#"{"tenantColumn":5}"#)).contains("tenantColumn"));
        assert!(error(parse_relay_config(r#"{"logCapacity":-1}"#)).contains("logCapacity"));
        let c = parse_relay_config(r#"{"maxSnapshotsPerPrincipal":2,"snapshotBytesPerTake":131072}"#).unwrap();
        assert_eq!(c.snapshots, SnapshotLimits { per_principal: 2, bytes_per_take: 131072 });
        assert!(error(parse_relay_config(r#"{"maxSnapshotsPerPrincipal":0}"#)).contains("maxSnapshotsPerPrincipal"));
        assert!(error(parse_relay_config(r#"{"snapshotBytesPerTake":1000}"#)).contains("snapshotBytesPerTake"));
    }

    #[test]
    fn snapshot_options_are_the_selection_options() {
        let v = parse_view_options(r#"{"tenantId":"t1","tables":["document"],"principal":{"sub":"u"}}"#).unwrap();
        assert_eq!(v.selection().unwrap().tenant_id, Some(&Value::String("t1".into())));
        for (text, message) in [
            (r#"{"tenantId":"t","lastEventId":"x"}"#, "unknown option 'lastEventId'"),
            (r#"{"tenantId":"t","heartbeatMs":500}"#, "unknown option 'heartbeatMs'"),
            (r#"{"tenantId":"t","principal":"u"}"#, "principal must be"),
            (r#"{"tenantId":"t","where":[]}"#, "where must be an object"),
        ] {
            let m = error(parse_view_options(text));
            assert!(m.contains(message), "{text}: {m}");
        }
    }

    #[test]
    fn selectors_and_narrowings() {
        assert_eq!(
            parse_selector(r#"{"tenantId":42,"sub":"u"}"#).unwrap(),
            Selector { tenant: Some("42".into()), sub: Some("u".into()), ..Selector::default() }
        );
        assert!(error(parse_selector("{}")).contains("must name a stream"));
        assert!(error(parse_selector(r#"{"streamId":0}"#)).contains("streamId"));
        assert!(error(parse_selector(r#"{"tenantId":[1]}"#)).contains("tenantId"));
        let n = parse_narrowing(r#"{"tables":["document"]}"#).unwrap();
        assert_eq!(n.tables, Some(vec!["document".to_string()]));
        assert!(n.where_().is_none());
        assert!(error(parse_narrowing("{}")).contains("needs tables or where"));
    }
}
