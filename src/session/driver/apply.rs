//! The active link's messages: applied to the projection in commit order, then told to every change
//! sink while the projection is still write-locked; call results answered once their writes are in.

use spacetimedb_client_api_messages::websocket::v1 as ws;

use super::Driver;
use crate::codec::inbound::EventRows;
use crate::codec::inbound::Protocol;
use crate::codec::protocol::{self, DatabaseUpdate, ServerMessage};
use crate::error::{ErrorCode, GatewayError, Result};
use crate::projection::{Commit, Projection, Row, TableChanges, TableEvents, Transaction, TransactionMeta};
use crate::session::alignment::TxKey;
use crate::session::calls::CallOutcome;
use crate::session::link::LinkId;

/// How many applied transaction keys to remember for late results of draining links.
const REMEMBERED_KEYS: usize = 10_000;

pub(super) fn tx_key(tx: &ws::TransactionUpdate<ws::BsatnFormat>) -> TxKey {
    TxKey {
        timestamp_micros: tx.timestamp.to_micros_since_unix_epoch(),
        caller_identity: tx.caller_identity,
        caller_connection_id: tx.caller_connection_id,
        reducer_id: tx.reducer_call.reducer_id,
        request_id: tx.reducer_call.request_id,
    }
}

/// The facts of a committed transaction received on a link speaking `protocol`.
pub(super) fn tx_meta(tx: &ws::TransactionUpdate<ws::BsatnFormat>, protocol: Protocol) -> TransactionMeta {
    let timestamp_micros = tx.timestamp.to_micros_since_unix_epoch();
    TransactionMeta {
        timestamp_micros: Some(timestamp_micros),
        // v2/v3 reducer results do not name the reducer (`codec::v2` leaves the name empty).
        reducer: Some(&*tx.reducer_call.reducer_name).filter(|name| !name.is_empty()).map(Into::into),
        caller_identity: Some(tx.caller_identity),
        caller_connection_id: tx.caller_connection_id.none_if_zero(),
        rehydrated: false,
        // On v2/v3 a full update is the caller's own result; everyone else gets it light, without time.
        commit: Some(Commit { shared_timestamp_micros: (protocol == Protocol::V1).then_some(timestamp_micros) }),
    }
}

/// The facts of a light update: a committed transaction, nothing more known.
pub(super) fn light_meta() -> TransactionMeta {
    TransactionMeta { commit: Some(Commit::default()), ..Default::default() }
}

pub(super) fn outcome_of(tx: &ws::TransactionUpdate<ws::BsatnFormat>) -> Result<CallOutcome> {
    match &tx.status {
        ws::UpdateStatus::Committed(_) => Ok(CallOutcome {
            request_id: tx.reducer_call.request_id,
            timestamp_micros: tx.timestamp.to_micros_since_unix_epoch(),
            energy_quanta_used: tx.energy_quanta_used.quanta,
            duration_micros: tx.total_host_execution_duration.to_micros(),
            returned: None,
        }),
        ws::UpdateStatus::Failed(message) => Err(GatewayError::new(ErrorCode::ReducerFailed, message.to_string())),
        ws::UpdateStatus::OutOfEnergy => Err(GatewayError::new(
            ErrorCode::ReducerFailed,
            format!("reducer '{}' ran out of energy", &*tx.reducer_call.reducer_name),
        )),
    }
}

/// Applies a database update to `projection`; returns the changes, table by table.
pub(super) fn apply_update(projection: &mut Projection, update: &DatabaseUpdate) -> Vec<TableChanges> {
    let mut tables = Vec::with_capacity(update.tables.len());
    for table_update in &update.tables {
        match apply_table(projection, table_update) {
            Ok(Some(changes)) => tables.push(changes),
            Ok(None) => {}
            // A malformed update of one table must not corrupt the others; it is reported, and the
            // projection of that table stays as it was before this transaction.
            Err(e) => tracing::warn!(table = &*table_update.table_name, error = %e, "ignored an update of a table"),
        }
    }
    tables
}

pub(super) fn apply_table(
    projection: &mut Projection,
    table_update: &protocol::TableUpdate,
) -> Result<Option<TableChanges>> {
    let name = &*table_update.table_name;
    let mut deletes = Vec::new();
    let mut inserts = Vec::new();
    for query_update in protocol::query_updates(table_update)? {
        deletes.extend(protocol::rows(&query_update.deletes)?);
        inserts.extend(protocol::rows(&query_update.inserts)?);
    }
    let changes = projection.apply(name, &deletes, &inserts)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let table = projection.table(name).expect("apply succeeded, so the table exists").def().clone();
    Ok(Some(TableChanges { table, changes }))
}

impl Driver {
    /// Applies an update to the projection and tells every observer what changed. Observers are told
    /// while the projection is still locked for writing: whoever reads the projection (e.g. the relay
    /// taking a stream's snapshot) sees either the state before this transaction and then its changes, or
    /// the state after it and not its changes — never both, never neither.
    pub(super) fn apply_and_notify(&self, update: &DatabaseUpdate, meta: TransactionMeta) {
        let mut projection = self.shared.projection.write().unwrap();
        let tables = apply_update(&mut projection, update);
        self.notify(Transaction { meta, tables, events: Vec::new() });
        drop(projection);
    }

    pub(super) fn notify(&self, tx: Transaction) {
        if tx.tables.is_empty() && tx.events.is_empty() {
            return;
        }
        for sink in self.shared.sinks.read().unwrap().iter() {
            sink.on_transaction(&tx);
        }
    }

    /// Event-table rows of the transaction the active link just applied: told to every observer as one
    /// batch of `events` with that transaction's facts (right after its own batch), never applied to the
    /// projection.
    /// Rows of a table the schema does not have, or a malformed row list, are reported and left out.
    pub(super) fn notify_events(&self, batches: Vec<EventRows>) {
        // Locked like a transaction's changes, so observers see events in order with changes.
        let projection = self.shared.projection.write().unwrap();
        let mut events: Vec<TableEvents> = Vec::new();
        for batch in batches {
            let name = &*batch.table_name;
            let Some(table) = projection.table(name) else {
                tracing::warn!(table = name, "ignored event rows of a table the module schema does not have");
                continue;
            };
            let rows = match protocol::rows(&batch.events) {
                Ok(rows) => rows.iter().map(|row| Row::from(&row[..])).collect::<Vec<_>>(),
                Err(e) => {
                    tracing::warn!(table = name, error = %e, "ignored malformed event rows");
                    continue;
                }
            };
            match events.iter_mut().find(|e| e.table.name == name) {
                Some(known) => known.rows.extend(rows),
                None => events.push(TableEvents { table: table.def().clone(), rows }),
            }
        }
        self.notify(Transaction { meta: self.events_meta.clone(), tables: Vec::new(), events });
        drop(projection);
    }

    /// The driving link applied transaction `key`: answer calls held for it, and remember it.
    pub(super) fn note_applied(&mut self, key: Option<TxKey>) {
        let Some(key) = key else { return };
        for held in self.held.remove(&key).unwrap_or_default() {
            let _ = held.reply.send(Ok(held.outcome));
        }
        if self.applied_keys.len() == REMEMBERED_KEYS {
            if let Some(old) = self.applied_keys.pop_front() {
                self.applied_set.remove(&old);
            }
        }
        self.applied_keys.push_back(key);
        self.applied_set.insert(key);
    }

    pub(super) fn on_active_message(&mut self, id: LinkId, message: ServerMessage) {
        self.events_meta = TransactionMeta::default();
        match message {
            ServerMessage::TransactionUpdate(tx) => {
                let key = tx_key(&tx);
                if let ws::UpdateStatus::Committed(update) = &tx.status {
                    // Apply first: when a caller's `callReducer` resolves, the projection already holds its writes.
                    let meta = tx_meta(&tx, self.link_protocol(id));
                    self.apply_and_notify(update, meta.clone());
                    self.events_meta = meta;
                    self.note_applied(Some(key));
                    if let Some(p) = &mut self.preparing {
                        p.alignment.active_applied(Some(key));
                    }
                }
                self.resolve_call(id, &tx);
                self.evaluate();
            }
            ServerMessage::TransactionUpdateLight(tx) => {
                self.apply_and_notify(&tx.update, light_meta());
                // Its event-table rows (v2/v3) belong to the same committed transaction.
                self.events_meta = light_meta();
                if let Some(p) = &mut self.preparing {
                    p.alignment.active_applied(None);
                }
                self.evaluate();
            }
            ServerMessage::SubscribeMultiApplied(applied) => {
                self.apply_and_notify(&applied.update, TransactionMeta::default());
                let tables = applied.update.tables.iter().map(|t| Box::<str>::from(&*t.table_name));
                self.shared.subscriptions.lock().unwrap().applied(applied.query_id.id, tables);
            }
            ServerMessage::UnsubscribeMultiApplied(applied) => {
                self.apply_and_notify(&applied.update, TransactionMeta::default())
            }
            ServerMessage::SubscriptionError(err) => match err.query_id {
                Some(query_id) if err.request_id.is_some() => {
                    let error = GatewayError::new(ErrorCode::SubscriptionFailed, err.error.to_string());
                    self.shared.subscriptions.lock().unwrap().rejected(query_id, error);
                }
                // The error arose while evaluating a transaction: the server dropped every subscription of
                // this connection (protocol doc §2.3). A new connection subscribes everything again.
                _ => {
                    let reason = format!("SpacetimeDB dropped all subscriptions of this connection: {}", err.error);
                    self.close_link(id, &reason);
                    self.on_link_closed(id, &reason);
                }
            },
            ServerMessage::ProcedureResult(result) => self.resolve_procedure(id, result),
            // Sent only after connecting (handled by `connection::open`), or for requests we never send.
            ServerMessage::IdentityToken(_)
            | ServerMessage::InitialSubscription(_)
            | ServerMessage::SubscribeApplied(_)
            | ServerMessage::UnsubscribeApplied(_)
            | ServerMessage::OneOffQueryResponse(_) => {}
        }
    }
}
