//! Server messages of `v2.bsatn.spacetimedb` (and of v3, whose frames carry the same messages), turned
//! into the v1 shape the session, projection and relay already handle, so that everything above the
//! codec stays one code path. Findings and the field-by-field mapping: `docs/protocol-2x.md`.
//!
//! What v1 cannot express gets its own [`Inbound`] variant (event-table rows, a reducer's return
//! value); upper layers may ignore those.

use bytes::Bytes;
use spacetimedb_client_api_messages::energy::EnergyQuanta;
use spacetimedb_client_api_messages::websocket::common::RowSizeHint;
use spacetimedb_client_api_messages::websocket::v1 as ws1;
use spacetimedb_client_api_messages::websocket::v2 as ws2;
use spacetimedb_lib::{bsatn, ConnectionId, Identity, TimeDuration};
use spacetimedb_sats::raw_identifier::RawIdentifier;

use super::inbound::{EventRows, Inbound};
use super::protocol::{DatabaseUpdate, RowList, TableUpdate};
use crate::error::{GatewayError, Result};

/// v2 names tables only; v1's `table_id` is not known. Nothing above the codec reads it.
const UNKNOWN_TABLE_ID: u32 = 0;
/// v2 reducer results name neither the reducer nor its id; `u32::MAX` is what v1 servers put in results
/// of calls rejected before running (protocol doc §2.6), i.e. "no reducer id".
const UNKNOWN_REDUCER_ID: u32 = u32::MAX;

/// Who this connection is, from `InitialConnection`: a v2 `ReducerResult` is always the result of this
/// connection's own call, and v1 results carry the caller, which the session matches against its link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub identity: Identity,
    pub connection_id: ConnectionId,
}

/// Translates one v2 message, appending what it becomes to `out` (one v1-shaped message, then any
/// event-table rows or return value of the same transaction, in that order).
pub(crate) fn translate(
    message: ws2::ServerMessage,
    caller: &mut Option<Caller>,
    out: &mut Vec<Inbound>,
) -> Result<()> {
    let v1 = match message {
        ws2::ServerMessage::InitialConnection(c) => {
            *caller = Some(Caller { identity: c.identity, connection_id: c.connection_id });
            ws1::ServerMessage::IdentityToken(ws1::IdentityToken {
                identity: c.identity,
                token: c.token,
                connection_id: c.connection_id,
            })
        }
        ws2::ServerMessage::SubscribeApplied(a) => {
            ws1::ServerMessage::SubscribeMultiApplied(ws1::SubscribeMultiApplied {
                request_id: a.request_id,
                total_host_execution_duration_micros: 0,
                query_id: a.query_set_id,
                update: rows_update(a.rows, Side::Inserts),
            })
        }
        // Without `SendDroppedRows` the server sends no rows and the projection would keep them: the
        // gateway's v2 `Unsubscribe` always asks for them (`v2_requests::encode_unsubscribe`).
        ws2::ServerMessage::UnsubscribeApplied(a) => {
            ws1::ServerMessage::UnsubscribeMultiApplied(ws1::UnsubscribeMultiApplied {
                request_id: a.request_id,
                total_host_execution_duration_micros: 0,
                query_id: a.query_set_id,
                update: a.rows.map(|rows| rows_update(rows, Side::Deletes)).unwrap_or_default(),
            })
        }
        // v2 always names the query set. A `None` request id means the set failed later, during a
        // transaction; v2 ends only that set, v1 would have ended all, and the session treats it as v1's
        // "all dropped" (it reconnects and resubscribes everything): more work, never a stale row.
        ws2::ServerMessage::SubscriptionError(e) => ws1::ServerMessage::SubscriptionError(ws1::SubscriptionError {
            total_host_execution_duration_micros: 0,
            request_id: e.request_id,
            query_id: Some(e.query_set_id.id),
            table_id: None,
            error: e.error,
        }),
        ws2::ServerMessage::TransactionUpdate(tx) => {
            let (update, events) = split_query_sets(tx.query_sets);
            out.push(Inbound::server(ws1::ServerMessage::TransactionUpdateLight(ws1::TransactionUpdateLight {
                request_id: 0,
                update,
            })));
            out.extend(events.into_iter().map(Inbound::Events));
            return Ok(());
        }
        ws2::ServerMessage::OneOffQueryResult(r) => {
            let (error, tables) = match r.result {
                Ok(rows) => (None, rows.tables.into_vec()),
                Err(e) => (Some(e), Vec::new()),
            };
            ws1::ServerMessage::OneOffQueryResponse(ws1::OneOffQueryResponse {
                message_id: Box::from(r.request_id.to_le_bytes()),
                error,
                tables: tables.into_iter().map(|t| ws1::OneOffTable { table_name: t.table, rows: t.rows }).collect(),
                total_host_execution_duration: TimeDuration::ZERO,
            })
        }
        ws2::ServerMessage::ReducerResult(r) => return reducer_result(r, caller.as_ref(), out),
        ws2::ServerMessage::ProcedureResult(p) => ws1::ServerMessage::ProcedureResult(ws1::ProcedureResult {
            status: match p.status {
                ws2::ProcedureStatus::Returned(value) => ws1::ProcedureStatus::Returned(Box::from(&value[..])),
                ws2::ProcedureStatus::InternalError(e) => ws1::ProcedureStatus::InternalError(e.into()),
            },
            timestamp: p.timestamp,
            total_host_execution_duration: p.total_host_execution_duration,
            request_id: p.request_id,
        }),
    };
    out.push(Inbound::server(v1));
    Ok(())
}

/// A v2 `ReducerResult` becomes the v1 `TransactionUpdate` a v1 caller gets: the caller's own deltas
/// when it committed, the error otherwise. v2 does not report energy or duration (zero here).
fn reducer_result(r: ws2::ReducerResult, caller: Option<&Caller>, out: &mut Vec<Inbound>) -> Result<()> {
    let caller =
        caller.ok_or_else(|| GatewayError::protocol("the server sent a reducer result before InitialConnection"))?;
    let mut events = Vec::new();
    let mut returned = None;
    let status = match r.result {
        ws2::ReducerOutcome::Ok(ok) => {
            let (update, e) = split_query_sets(ok.transaction_update.query_sets);
            events = e;
            returned = (!ok.ret_value.is_empty()).then_some(ok.ret_value);
            ws1::UpdateStatus::Committed(update)
        }
        ws2::ReducerOutcome::OkEmpty => ws1::UpdateStatus::Committed(DatabaseUpdate::default()),
        ws2::ReducerOutcome::Err(bytes) => ws1::UpdateStatus::Failed(reducer_error_text(&bytes).into()),
        ws2::ReducerOutcome::InternalError(message) => ws1::UpdateStatus::Failed(message),
    };
    out.push(Inbound::server(ws1::ServerMessage::TransactionUpdate(ws1::TransactionUpdate {
        status,
        timestamp: r.timestamp,
        caller_identity: caller.identity,
        caller_connection_id: caller.connection_id,
        reducer_call: ws1::ReducerCallInfo {
            reducer_name: RawIdentifier::new(""),
            reducer_id: UNKNOWN_REDUCER_ID,
            args: Box::default(),
            request_id: r.request_id,
        },
        energy_quanta_used: EnergyQuanta::ZERO,
        total_host_execution_duration: TimeDuration::ZERO,
    })));
    out.extend(events.into_iter().map(Inbound::Events));
    if let Some(value) = returned {
        out.push(Inbound::ReducerReturned { request_id: r.request_id, value });
    }
    Ok(())
}

/// A v2 reducer error is the BSATN of the reducer's error type. Reducers returning `Result<(), String>`
/// (the common case) give a string; the V9 schema does not name the error type, so any other value is
/// reported as its bytes.
fn reducer_error_text(bytes: &Bytes) -> String {
    let mut reader = &bytes[..];
    match bsatn::from_reader::<Box<str>>(&mut reader) {
        Ok(text) if reader.is_empty() => text.into(),
        _ => format!("the reducer failed with an error value of {} bytes: {}", bytes.len(), hex::encode(bytes)),
    }
}

#[derive(Clone, Copy)]
enum Side {
    Inserts,
    Deletes,
}

/// Rows present in tables (`SubscribeApplied`, `UnsubscribeApplied`) as a v1 update inserting or
/// deleting them.
fn rows_update(rows: ws2::QueryRows, side: Side) -> DatabaseUpdate {
    let mut update = DatabaseUpdate::default();
    for table in rows.tables.into_vec() {
        let (inserts, deletes) = match side {
            Side::Inserts => (table.rows, RowList::default()),
            Side::Deletes => (RowList::default(), table.rows),
        };
        push_rows(&mut update, &table.table, inserts, deletes);
    }
    update
}

/// Persistent-table deltas of every query set merged into one v1 update (a table touched by two sets
/// gets one query update per set, as v1 servers send it); event-table rows apart.
fn split_query_sets(query_sets: Box<[ws2::QuerySetUpdate]>) -> (DatabaseUpdate, Vec<EventRows>) {
    let mut update = DatabaseUpdate::default();
    let mut events = Vec::new();
    for set in query_sets.into_vec() {
        for table in set.tables.into_vec() {
            for rows in table.rows.into_vec() {
                match rows {
                    ws2::TableUpdateRows::PersistentTable(p) => {
                        push_rows(&mut update, &table.table_name, p.inserts, p.deletes)
                    }
                    ws2::TableUpdateRows::EventTable(e) => events.push(EventRows {
                        query_set_id: set.query_set_id,
                        table_name: table.table_name.clone(),
                        events: e.events,
                    }),
                }
            }
        }
    }
    (update, events)
}

/// Adds one query update to `table`'s entry of `update` (created on first use; updates carry few
/// tables, so a linear search is cheaper than a map).
fn push_rows(update: &mut DatabaseUpdate, table: &RawIdentifier, inserts: RowList, deletes: RowList) {
    let num_rows = row_count(&inserts) + row_count(&deletes);
    let query_update = ws1::CompressableQueryUpdate::Uncompressed(ws1::QueryUpdate { deletes, inserts });
    match update.tables.iter_mut().find(|t| *t.table_name == **table) {
        Some(entry) => {
            entry.num_rows += num_rows;
            entry.updates.push(query_update);
        }
        None => update.tables.push(TableUpdate {
            table_id: UNKNOWN_TABLE_ID.into(),
            table_name: table.clone(),
            num_rows,
            updates: [query_update].into(),
        }),
    }
}

/// The row count a list declares, without trusting it: the crate's own `len` divides by a
/// `FixedSize(0)` hint a hostile server can send. Rows are checked when walked (`protocol::rows`).
fn row_count(list: &RowList) -> u64 {
    let (hint, data) = list.clone().into_inner();
    match hint {
        RowSizeHint::FixedSize(0) => 0,
        RowSizeHint::FixedSize(size) => (data.len() / size as usize) as u64,
        RowSizeHint::RowOffsets(offsets) => offsets.len() as u64,
    }
}
