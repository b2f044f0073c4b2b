//! Impersonation grants: an admin may act as a user only through an explicit, expiring grant, given by
//! someone holding `impersonation.grant` in that tenant. While it lasts, the admin acts with the *user's*
//! permissions, and every write is audited with both (`actor` = admin, `effective_actor` = user).

use spacetimedb::{reducer, ReducerContext, Table, Timestamp};

use crate::audit;
use crate::authz::{authorize, role_grants};
use crate::caller::{kind_of, resolve, ActorClaim};
use crate::tables::{impersonation_grant, ActorKind, ImpersonationGrant};

/// The longest an impersonation grant may last.
const MAX_GRANT_MICROS: i64 = 24 * 3600 * 1_000_000;

#[reducer]
pub fn grant_impersonation(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    admin: String,
    target: String,
    expires_at: Timestamp,
) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    caller.require_human("grant impersonation")?;
    let allowed = authorize(ctx, &caller, &tenant_id, "impersonation.grant")?;
    if admin == target {
        return Err("an impersonation grant needs two different actors".into());
    }
    for who in [&admin, &target] {
        if kind_of(who) == ActorKind::Robot {
            return Err(format!("{who} is a robot: impersonation is between people (robots use delegated keys)"));
        }
        // Membership is checked by asking for a permission every member role has.
        role_grants(ctx, who, &tenant_id, "tenant.read")?;
    }
    let now = ctx.timestamp.to_micros_since_unix_epoch();
    let until = expires_at.to_micros_since_unix_epoch();
    if until <= now || until - now > MAX_GRANT_MICROS {
        return Err(format!("expires_at {expires_at} must be in the future and at most 24 hours away"));
    }
    let grant = ctx.db.impersonation_grant().insert(ImpersonationGrant {
        id: 0,
        tenant_id,
        admin,
        target,
        granted_by: caller.actor.clone(),
        granted_at: ctx.timestamp,
        expires_at,
        revoked_at: None,
        revoked_by: None,
    });
    audit::record(ctx, &allowed, "grant_impersonation", "impersonation.grant", grant.id.to_string());
    Ok(())
}

/// Revokes a grant: by someone holding `impersonation.grant`, or by its admin (ending their own).
#[reducer]
pub fn revoke_impersonation(ctx: &ReducerContext, actor: Option<ActorClaim>, grant_id: u64) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    caller.require_human("revoke impersonation grants")?;
    let grant =
        ctx.db.impersonation_grant().id().find(grant_id).ok_or_else(|| format!("no impersonation grant {grant_id}"))?;
    let permission = if grant.admin == caller.actor { "tenant.read" } else { "impersonation.grant" };
    let allowed = authorize(ctx, &caller, &grant.tenant_id, permission)?;
    if grant.revoked_at.is_some() {
        return Err(format!("impersonation grant {grant_id} is already revoked"));
    }
    ctx.db.impersonation_grant().id().update(ImpersonationGrant {
        revoked_at: Some(ctx.timestamp),
        revoked_by: Some(caller.actor.clone()),
        ..grant
    });
    audit::record(ctx, &allowed, "revoke_impersonation", "impersonation.revoke", grant_id.to_string());
    Ok(())
}
