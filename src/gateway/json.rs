//! The JSON the JS surface reads: rows of the projection and change batches. Everything crosses into JS
//! as one JSON string per call (one `JSON.parse` there), which is far cheaper than building JS objects
//! field by field through napi; the value mapping is in docs/value-mapping.md.

use crate::codec::json_io::{find_table, RowFilter};
use crate::codec::schema::TableDef;
use crate::codec::value::{format_timestamp, write_json_string};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{RowChange, Transaction};
use crate::session::Session;

/// The current rows of `table` as a JSON array, filtered by `where_json` when given.
pub fn rows_json(session: &Session, table: &str, where_json: Option<&str>) -> Result<String> {
    let def = find_table(session.schema(), table)?;
    if !session.is_subscribed(table) {
        return Err(GatewayError::invalid_argument(format!(
            "table '{table}' is not subscribed; subscribe first, e.g. gateway.subscribe(['SELECT * FROM {table}'])"
        )));
    }
    let filter = match where_json {
        Some(json) => RowFilter::parse(def, json)?,
        None => RowFilter::default(),
    };
    // Copy the row handles out so the projection is not locked while decoding.
    let rows: Vec<_> =
        session.with_projection(|p| p.table(table).map(|t| t.iter().cloned().collect()).unwrap_or_default());
    let mut out = Vec::with_capacity(2 + rows.len() * 64);
    out.push(b'[');
    let mut first = true;
    for row in rows {
        if !filter.matches(def, &row)? {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        def.row_to_json(&row, &mut out)?;
    }
    out.push(b']');
    into_string(out)
}

/// One transaction as `{"changes":[{"table","op","row","oldRow"?}…], "timestamp"?, "reducer"?,
/// "callerIdentity"?, "callerConnectionId"?}`; event-table rows (v2/v3) as changes with `op: "event"`.
pub fn transaction_json(tx: &Transaction) -> String {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"changes\":[");
    let mut first = true;
    for table in &tx.tables {
        for change in &table.changes {
            if !first {
                out.push(b',');
            }
            first = false;
            write_change(&mut out, &table.table, change);
        }
    }
    for table in &tx.events {
        for row in &table.rows {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\"table\":");
            write_json_string(&mut out, &table.table.name);
            out.extend_from_slice(b",\"op\":\"event\",\"row\":");
            table.table.row_to_json_or_null(row, &mut out);
            out.push(b'}');
        }
    }
    out.push(b']');
    let meta = &tx.meta;
    if let Some(micros) = meta.timestamp_micros {
        write_field(&mut out, "timestamp", &format_timestamp(micros));
    }
    if let Some(reducer) = &meta.reducer {
        write_field(&mut out, "reducer", reducer);
    }
    if let Some(identity) = &meta.caller_identity {
        write_field(&mut out, "callerIdentity", &identity.to_hex());
    }
    if let Some(connection_id) = &meta.caller_connection_id {
        write_field(&mut out, "callerConnectionId", &connection_id.to_hex());
    }
    if meta.rehydrated {
        out.extend_from_slice(b",\"rehydrated\":true");
    }
    out.push(b'}');
    // Only valid UTF-8 is ever written (JSON from the codec and escaped strings).
    String::from_utf8(out).expect("change JSON is UTF-8")
}

fn write_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b',');
    write_json_string(out, key);
    out.push(b':');
    write_json_string(out, value);
}

fn write_change(out: &mut Vec<u8>, table: &TableDef, change: &RowChange) {
    out.extend_from_slice(b"{\"table\":");
    write_json_string(out, &table.name);
    let (op, row, old) = match change {
        RowChange::Insert { row } => ("insert", row, None),
        RowChange::Update { old, new } => ("update", new, Some(old)),
        RowChange::Delete { row } => ("delete", row, None),
    };
    out.extend_from_slice(b",\"op\":\"");
    out.extend_from_slice(op.as_bytes());
    out.extend_from_slice(b"\",\"row\":");
    table.row_to_json_or_null(row, out);
    if let Some(old) = old {
        out.extend_from_slice(b",\"oldRow\":");
        table.row_to_json_or_null(old, out);
    }
    out.push(b'}');
}

fn into_string(out: Vec<u8>) -> Result<String> {
    String::from_utf8(out).map_err(|_| GatewayError::new(ErrorCode::Internal, "row JSON was not UTF-8"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::codec::tests::reference_schema;
    use crate::projection::{TableEvents, TransactionMeta};

    #[test]
    fn event_rows_are_changes_with_op_event() {
        let schema = reference_schema();
        use spacetimedb_lib::{bsatn, AlgebraicValue, ProductValue};
        let table = Arc::new(schema.table("document").unwrap().clone());
        let row = bsatn::to_vec(&ProductValue::from(vec![
            AlgebraicValue::U64(7),
            AlgebraicValue::String("t1".into()),
            AlgebraicValue::String("ping".into()),
            AlgebraicValue::String("body".into()),
            AlgebraicValue::product([AlgebraicValue::U256(Box::new(0u8.into()))]),
            AlgebraicValue::product([AlgebraicValue::I64(0)]),
            AlgebraicValue::U32(1),
        ]))
        .unwrap();
        let tx = Transaction {
            meta: TransactionMeta::default(),
            tables: Vec::new(),
            events: vec![TableEvents { table, rows: vec![row.into()] }],
        };
        let json: serde_json::Value = serde_json::from_str(&transaction_json(&tx)).unwrap();
        assert_eq!(json["changes"][0]["table"], "document");
        assert_eq!(json["changes"][0]["op"], "event");
        assert_eq!(
            (&json["changes"][0]["row"]["id"], &json["changes"][0]["row"]["title"]),
            (&"7".into(), &"ping".into())
        );
        assert!(json["changes"][0].get("oldRow").is_none());
    }
}
