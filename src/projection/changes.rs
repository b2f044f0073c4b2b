//! What the projection saw change, as its observers receive it: one [`Transaction`] per committed
//! transaction (or subscription change, or rehydration after a reconnect), table by table.

use std::sync::Arc;

use spacetimedb_lib::{ConnectionId, Identity};

use super::{Row, RowChange};
use crate::codec::schema::TableDef;

/// Facts about the transaction behind a batch of changes, when the server sent them (full updates; a
/// light update or a subscription change carries none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionMeta {
    pub timestamp_micros: Option<i64>,
    pub reducer: Option<Box<str>>,
    pub caller_identity: Option<Identity>,
    pub caller_connection_id: Option<ConnectionId>,
    /// The batch is not one transaction but the difference between what the gateway held and what a new
    /// connection found (after a reconnect): everything that changed while it was away.
    pub rehydrated: bool,
    /// The batch is one committed transaction of the database (not a subscription change or a
    /// rehydration): see [`Commit`].
    pub commit: Option<Commit>,
}

/// A committed transaction as every connection subscribed to the same queries receives it: the same row
/// changes, in the same order relative to the database's other transactions. What lets gateway replicas
/// name it the same way (the SSE relay's database positions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Commit {
    /// The transaction's timestamp when every such connection receives it (v1 full updates). `None` on
    /// v2/v3, where only the caller's own result carries one.
    pub shared_timestamp_micros: Option<i64>,
}

/// The changes one table saw in one transaction.
pub struct TableChanges {
    pub table: Arc<TableDef>,
    pub changes: Vec<RowChange>,
}

/// Rows of an event table (SpacetimeDB 2.x, v2/v3 connections) in one transaction: events, never stored
/// in their table, so never in the projection; observers see them once, as they arrive.
pub struct TableEvents {
    pub table: Arc<TableDef>,
    pub rows: Vec<Row>,
}

/// Everything the projection saw change in one transaction (or one subscription change, or one
/// rehydration after a reconnect), and the event-table rows of a transaction (`events`, in a batch of
/// their own: see `session::driver::apply`).
pub struct Transaction {
    pub meta: TransactionMeta,
    pub tables: Vec<TableChanges>,
    pub events: Vec<TableEvents>,
}

/// An observer of the projection (the JS `onChange` listeners, the SSE relay). Called on the session
/// task, in commit order, once per transaction that changed something, while the projection is locked
/// for writing: it must not block, and must not read the projection through the session.
pub trait ChangeSink: Send + Sync {
    fn on_transaction(&self, tx: &Transaction);

    /// The gateway may have missed transactions: a new connection replaced a lost one, and the batch that
    /// follows (`rehydrated`, possibly empty and then not told) is a difference, not the transactions.
    /// Called on the session task, before that batch.
    fn on_gap(&self) {}
}
