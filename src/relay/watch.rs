//! `revokeOn`: the rows a stream's authorization depends on. When a transaction inserts, updates or
//! deletes a row matching one of them (its old or its new image), the stream ends with a `retry:` hint
//! and `closed` (`authorization_changed`) **before** any change of that transaction or a later one reaches
//! it — in commit order, inside the relay, so no row the changed authorization no longer grants slips
//! through while the app reacts. The client reconnects (`EventSource` does, with its `Last-Event-ID`) and
//! the app opens a stream with the selection the new authorization gives.
//!
//! Typical use: a member's stream watches their `membership` row and their role's `role_permission` rows
//! (docs/authorization-cookbook.md). The relay sees changes of subscribed tables only: the gateway must
//! subscribe to the watched tables.

use serde_json::{Map, Value};

use super::event::Event;
use super::selection::{column_constraints, holds};
use super::tables::RelayTables;
use crate::error::{GatewayError, Result};

/// The reason of the `revoked` frame a watch sends.
pub const REASON: &str = "authorization_changed";

/// One `revokeOn` entry: a table and column equalities.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub table: usize,
    equal: Vec<(usize, Box<[u8]>)>,
}

impl Watch {
    /// Whether `event` changes a row this watch matches.
    pub fn fires(&self, event: &Event) -> bool {
        !event.occurrence
            && event.table.index == self.table
            && [event.old.as_ref(), event.new.as_ref()]
                .into_iter()
                .flatten()
                .any(|row| holds(&self.equal, |c| row.column(c)))
    }
}

/// Parses `revokeOn` (`{ table: { column: value } }`, at least one column per table: an empty one would
/// end the stream on any change of the table, which is what a table-wide constraint should say
/// explicitly — by naming a column).
pub fn parse(tables: &RelayTables, revoke_on: Option<&Map<String, Value>>) -> Result<Vec<Watch>> {
    let Some(revoke_on) = revoke_on else { return Ok(Vec::new()) };
    revoke_on
        .iter()
        .map(|(name, columns)| {
            let table = tables.find(name, "revokeOn")?;
            let equal = column_constraints(table, columns, "revokeOn")?;
            if equal.is_empty() {
                return Err(GatewayError::invalid_argument(format!(
                    "revokeOn.{name} names no column: give the columns of the rows the stream depends on"
                )));
            }
            Ok(Watch { table: table.index, equal })
        })
        .collect()
}
