//! How a transaction's relayed changes (and event-table rows) become numbered events in the log: in a
//! committed transaction, keyed and in digest order (see [`super::positions`]).

use std::sync::Arc;

use super::event::Event;
use super::ids::Anchor;
use super::positions::{change_digest, content_digest, occurrence_digest, tx_key, Digest};
use super::state::State;
use super::tables::RelayTables;
use crate::projection::{Row, RowChange, Transaction};

/// One relayed item of a transaction: a row change, or a row of an event table.
#[derive(Clone, Copy)]
enum Item<'t> {
    Change(&'t RowChange),
    Occurrence(&'t Row),
}

impl Item<'_> {
    fn digest(self, table: &str) -> Digest {
        match self {
            Item::Change(change) => change_digest(table, change),
            Item::Occurrence(row) => occurrence_digest(table, row),
        }
    }
}

/// Logs the relayed changes and event-table rows of `tx` as events. A committed transaction's events get
/// its key and are logged in the order of their digests, so that every replica holds them in the same
/// order.
pub(super) fn log_transaction(tables: &RelayTables, st: &mut State, tx: &Transaction) -> Vec<Arc<Event>> {
    let changes = tx.tables.iter().filter_map(|t| {
        let table = tables.get(&t.table.name)?;
        Some(t.changes.iter().map(move |change| (table, Item::Change(change))))
    });
    let occurrences = tx.events.iter().filter_map(|t| {
        let table = tables.get(&t.table.name)?;
        Some(t.rows.iter().map(move |row| (table, Item::Occurrence(row))))
    });
    let mut items: Vec<_> = changes.flatten().chain(occurrences.flatten()).collect();
    let first = st.log.next_seq();
    let mut keyed = None;
    if let (Some(commit), false) = (&tx.meta.commit, items.is_empty()) {
        let mut digested: Vec<_> =
            items.into_iter().map(|(table, item)| (item.digest(table.name()), table, item)).collect();
        digested.sort_unstable_by_key(|d| d.0);
        let digests: Vec<_> = digested.iter().map(|d| d.0).collect();
        let content = content_digest(&digests);
        keyed = Some((tx_key(st.positions.previous(), commit, &content), content));
        items = digested.into_iter().map(|(_, table, item)| (table, item)).collect();
    }
    let anchor = keyed.map(|(key, _)| Anchor { key, first });
    let events: Vec<_> = items
        .into_iter()
        .map(|(table, item)| {
            let seq = st.log.next_seq();
            let event = Arc::new(match item {
                Item::Change(change) => Event::new(seq, anchor, table.clone(), change),
                Item::Occurrence(row) => Event::occurrence(seq, anchor, table.clone(), row),
            });
            st.log.push(Some(event.clone()));
            event
        })
        .collect();
    if let Some((key, content)) = keyed {
        st.positions.record(key, first, st.log.head(), content);
    }
    // Keys are kept beyond the log's reach (twice as far, and at least 1,024 events), so that a position
    // that just left the log is a `gap`, not an unknown id.
    let reach = 2 * st.log.len() as u64 + 1024;
    st.positions.evict_before(st.log.head().saturating_sub(reach));
    events
}
