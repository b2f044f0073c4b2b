//! Session contexts: the active tenant of an app session, and who acts in it. Switching tenants (or
//! starting to impersonate someone) needs `tenant.read` there for the effective actor; an impersonating
//! admin's switch also needs a live grant, so the row records the impersonation for the gateway to see.

use spacetimedb::{reducer, ReducerContext, Table};

use crate::audit;
use crate::authz::authorize;
use crate::caller::{resolve, ActorClaim};
use crate::tables::{session_context, SessionContext};

const MAX_SID_BYTES: usize = 200;

#[reducer]
pub fn set_active_tenant(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    sid: String,
    tenant_id: String,
) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    if sid.is_empty() || sid.len() > MAX_SID_BYTES {
        return Err(format!("sid must be 1 to {MAX_SID_BYTES} bytes"));
    }
    let allowed = authorize(ctx, &caller, &tenant_id, "tenant.read")?;
    if let Some(existing) = ctx.db.session_context().sid().find(sid.clone()) {
        if existing.actor != caller.actor {
            return Err(format!("session {sid} belongs to {}", existing.actor));
        }
        ctx.db.session_context().sid().delete(sid.clone());
    }
    ctx.db.session_context().insert(SessionContext {
        sid: sid.clone(),
        tenant_id,
        actor: caller.actor.clone(),
        effective_actor: caller.effective.clone(),
        via: caller.via,
        updated_at: ctx.timestamp,
    });
    audit::record(ctx, &allowed, "set_active_tenant", "session.set", sid);
    Ok(())
}

/// Ends a session's context (sign-out, end of impersonation).
#[reducer]
pub fn end_session(ctx: &ReducerContext, actor: Option<ActorClaim>, sid: String) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    let existing =
        ctx.db.session_context().sid().find(sid.clone()).ok_or_else(|| format!("no session context {sid}"))?;
    if existing.actor != caller.actor {
        return Err(format!("session {sid} belongs to {}", existing.actor));
    }
    // Ending is always allowed to the session's own actor; the audit row still names the tenant.
    let allowed = crate::authz::Allowed { caller, tenant_id: existing.tenant_id.clone(), impersonation_grant: None };
    ctx.db.session_context().sid().delete(sid.clone());
    audit::record(ctx, &allowed, "end_session", "session.end", sid);
    Ok(())
}
