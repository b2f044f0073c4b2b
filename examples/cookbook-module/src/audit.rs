//! The audit trail: one `audit_event` row per change, naming who acted, whose rights applied, the path
//! (human, robot, delegated, impersonation), the key or grant involved, and the gateway that named the
//! actor. Written in the same transaction as the change, so there is never a change without its row.

use spacetimedb::{ReducerContext, Table};

use crate::authz::Allowed;
use crate::tables::{audit_event, AuditEvent};

/// Records `action` on `subject` by an allowed caller, from `reducer`.
pub fn record(ctx: &ReducerContext, allowed: &Allowed, reducer: &str, action: &str, subject: impl Into<String>) {
    let caller = &allowed.caller;
    ctx.db.audit_event().insert(AuditEvent {
        id: 0,
        tenant_id: allowed.tenant_id.clone(),
        actor: caller.actor.clone(),
        effective_actor: caller.effective.clone(),
        via: caller.via,
        reducer: reducer.to_string(),
        action: action.to_string(),
        subject: subject.into(),
        key_id: caller.key_id().map(str::to_string),
        impersonation_grant: allowed.impersonation_grant,
        gateway: caller.gateway,
        at: ctx.timestamp,
    });
}
