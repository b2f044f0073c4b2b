//! Revocations published through the database: the relay option `revocations` names a module table whose
//! rows are revoke requests. Every gateway replica subscribed to the table sees each row once, in commit
//! order, and ends its own matching streams with `revoked` — so `revoke` reaches every replica without a
//! broker, within the time a transaction takes to reach each subscriber.
//!
//! A row matches streams like a `revoke` selector: every configured column that holds a value must
//! match (`sub`, the tenant, the session). Sessions are matched by the **SHA-256 of their id** (lowercase
//! hex), never the id itself: the module's table is readable by whoever may subscribe to it (in 1.x a
//! private table by the database owner, a public one by anyone), and a session id does not belong there.
//!
//! Requests apply when their row arrives — also a row a replica only learns of after reconnecting (the
//! difference after its gap) — before any change of the same transaction reaches a stream. A request is
//! idempotent: a stream ends once, and a row seen again (re-subscribed) ends nothing new that a fresh
//! request would not.

use serde_json::{Map, Value};

use super::event::Event;
use super::options::check_keys;
use super::relay::Selector;
use super::selection::Tenant;
use super::tables::RelayTables;
use crate::error::{GatewayError, Result};

/// The `revocations` relay option as given: the table and which of its columns say what.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationOptions {
    pub table: String,
    pub sub: Option<String>,
    pub sid_sha256: Option<String>,
    pub tenant_id: Option<String>,
    pub reason: Option<String>,
}

impl RevocationOptions {
    const KEYS: [&'static str; 5] = ["table", "sub", "sidSha256", "tenantId", "reason"];

    /// Reads `{ table, sub?, sidSha256?, tenantId?, reason? }` (column names).
    pub fn parse(value: &Value) -> Result<RevocationOptions> {
        let invalid = |m: String| GatewayError::invalid_argument(format!("revocations: {m}"));
        let Value::Object(map) = value else {
            return Err(invalid("must be { table, sub?, sidSha256?, tenantId?, reason? } (column names)".into()));
        };
        check_keys(map, "revocations", &Self::KEYS)?;
        let name = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(invalid(format!("{key} must be a column name"))),
            }
        };
        let options = RevocationOptions {
            table: name("table")?.ok_or_else(|| invalid("table is required".into()))?,
            sub: name("sub")?,
            sid_sha256: name("sidSha256")?,
            tenant_id: name("tenantId")?,
            reason: name("reason")?,
        };
        if options.sub.is_none() && options.sid_sha256.is_none() && options.tenant_id.is_none() {
            return Err(invalid("name at least one of the columns sub, sidSha256, tenantId".into()));
        }
        Ok(options)
    }
}

/// The option resolved against the schema: column indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocations {
    table: usize,
    sub: Option<String>,
    sid_sha256: Option<String>,
    tenant_id: Option<String>,
    reason: Option<String>,
}

impl Revocations {
    /// Checks that the table and columns exist, and that `sub`, `sidSha256` and `reason` are strings.
    pub fn resolve(tables: &RelayTables, options: &RevocationOptions) -> Result<Revocations> {
        let table = tables.find(&options.table, "revocations.table")?;
        let check = |column: &Option<String>, key: &str, string: bool| -> Result<()> {
            let Some(name) = column else { return Ok(()) };
            let Some(def) = table.def.columns.iter().find(|c| &c.name == name) else {
                return Err(GatewayError::invalid_argument(format!(
                    "revocations.{key}: table {} has no column '{name}'",
                    options.table
                )));
            };
            if string && !matches!(def.type_name.as_str(), "String" | "Option<String>") {
                return Err(GatewayError::invalid_argument(format!(
                    "revocations.{key}: column {}.{name} is {}, not a string",
                    options.table, def.type_name
                )));
            }
            Ok(())
        };
        check(&options.sub, "sub", true)?;
        check(&options.sid_sha256, "sidSha256", true)?;
        check(&options.tenant_id, "tenantId", false)?;
        check(&options.reason, "reason", true)?;
        Ok(Revocations {
            table: table.index,
            sub: options.sub.clone(),
            sid_sha256: options.sid_sha256.clone(),
            tenant_id: options.tenant_id.clone(),
            reason: options.reason.clone(),
        })
    }

    /// The requests among `events` (rows inserted into, or updated in, the table): a selector and a
    /// reason each. Empty columns (null or `""`) match any value; a row whose configured columns are all
    /// empty selects nothing and is skipped (it does not end every stream).
    pub fn requests(&self, events: &[std::sync::Arc<Event>]) -> Vec<(Selector, String)> {
        events
            .iter()
            .filter(|e| e.table.index == self.table)
            .filter_map(|e| e.new.as_ref().map(|row| (e, row)))
            .filter_map(|(e, row)| {
                let json: Map<String, Value> = serde_json::from_slice(row.json(&e.table.def)).ok()?;
                self.request(&json)
            })
            .collect()
    }

    fn request(&self, row: &Map<String, Value>) -> Option<(Selector, String)> {
        let text = |column: &Option<String>| {
            let value = row.get(column.as_ref()?)?;
            value.as_str().filter(|s| !s.is_empty()).map(str::to_string)
        };
        let tenant = self
            .tenant_id
            .as_ref()
            .and_then(|c| row.get(c))
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .and_then(|v| Tenant::key_of(v).ok());
        let selector = Selector {
            stream_id: None,
            sub: text(&self.sub),
            sid: None,
            sid_sha256: text(&self.sid_sha256).map(|s| s.to_ascii_lowercase()),
            tenant,
        };
        (selector != Selector::default()).then(|| (selector, text(&self.reason).unwrap_or_else(|| "revoked".into())))
    }
}

/// The lowercase hex SHA-256 of a session id: what a revocation row's `sidSha256` column holds.
pub fn sid_sha256(sid: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, sid.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_name_a_table_and_at_least_one_matching_column() {
        let parsed = RevocationOptions::parse(&json!({ "table": "stream_revocation", "sub": "user_id" })).unwrap();
        assert_eq!(parsed.sub.as_deref(), Some("user_id"));
        for (bad, says) in [
            (json!("stream_revocation"), "must be"),
            (json!({ "sub": "user_id" }), "table is required"),
            (json!({ "table": "t" }), "at least one"),
            (json!({ "table": "t", "sub": 3 }), "sub must be a column name"),
            (json!({ "table": "t", "sid": "s" }), "unknown option 'sid'"),
        ] {
            let e = RevocationOptions::parse(&bad).unwrap_err();
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn a_session_is_named_by_its_sha256() {
        // printf %s sess_1 | sha256sum
        assert_eq!(sid_sha256("sess_1"), "8ac3c66dc34f8a4c3d25dd9a8abb2917a61e45d814e91472cd637b0566419007");
    }
}
