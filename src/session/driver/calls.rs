//! Results of reducer calls, found by link and request id; committed results that arrive on a link
//! that no longer drives the projection wait until the driving link applied the same transaction, so
//! callers still read their own writes.

use spacetimedb_client_api_messages::websocket::v1 as ws;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::apply::{outcome_of, tx_key};
use super::Driver;
use crate::codec::protocol::ServerMessage;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::session::calls::CallOutcome;
use crate::session::link::LinkId;

/// A committed call whose result arrived on a link that no longer drives the projection: answered once
/// the driving link applied the same transaction, so callers still read their own writes.
pub(super) struct HeldCall {
    pub(super) reply: oneshot::Sender<Result<CallOutcome>>,
    pub(super) outcome: CallOutcome,
    pub(super) since: Instant,
}

impl Driver {
    /// A message on a link that no longer drives the projection: only its own calls' results matter.
    pub(super) fn on_draining_message(&mut self, id: LinkId, message: ServerMessage) {
        match message {
            ServerMessage::TransactionUpdate(tx) => self.resolve_call(id, &tx),
            ServerMessage::ProcedureResult(result) => self.resolve_procedure(id, result),
            _ => {}
        }
        self.close_if_drained(id);
    }

    /// Answers the procedure call `result` is the result of, if it was made on link `id` (by request id:
    /// procedure results always carry it). Answered at once: a procedure's own transactions arrive as
    /// ordinary updates, and nothing ties them to its result.
    pub(super) fn resolve_procedure(&mut self, id: LinkId, result: ws::ProcedureResult<ws::BsatnFormat>) {
        let mut links = self.shared.links.lock().unwrap();
        let Some(link) = links.all.get_mut(&id) else { return };
        if result.request_id == 0 {
            return;
        }
        let Some(reply) = link.calls.take(result.request_id, "") else { return };
        drop(links);
        let outcome = match result.status {
            ws::ProcedureStatus::Returned(value) => Ok(CallOutcome {
                request_id: result.request_id,
                timestamp_micros: result.timestamp.to_micros_since_unix_epoch(),
                energy_quanta_used: 0,
                duration_micros: result.total_host_execution_duration.to_micros(),
                returned: Some(value),
            }),
            ws::ProcedureStatus::OutOfEnergy => {
                Err(GatewayError::new(ErrorCode::ProcedureFailed, "the procedure ran out of energy"))
            }
            ws::ProcedureStatus::InternalError(message) => Err(GatewayError::new(ErrorCode::ProcedureFailed, message)),
        };
        let _ = reply.send(outcome);
    }

    /// Answers the call `tx` is the result of, if it was made on link `id`.
    pub(super) fn resolve_call(&mut self, id: LinkId, tx: &ws::TransactionUpdate<ws::BsatnFormat>) {
        let mut links = self.shared.links.lock().unwrap();
        let driving = links.active == Some(id);
        let Some(link) = links.all.get_mut(&id) else { return };
        if tx.caller_connection_id != link.connection_id || tx.caller_identity != link.identity {
            return;
        }
        let Some(reply) = link.calls.take(tx.reducer_call.request_id, &tx.reducer_call.reducer_name) else { return };
        drop(links);
        let outcome = outcome_of(tx);
        let key = tx_key(tx);
        let touches_projection = matches!(&tx.status, ws::UpdateStatus::Committed(u) if !u.tables.is_empty());
        match outcome {
            Ok(outcome) if !driving && touches_projection && !self.applied_set.contains(&key) => {
                self.held.entry(key).or_default().push(HeldCall { reply, outcome, since: Instant::now() });
            }
            outcome => {
                let _ = reply.send(outcome);
            }
        }
    }
}
