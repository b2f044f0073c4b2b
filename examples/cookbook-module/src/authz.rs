//! Permission checks. A reducer asks for a *permission* in a tenant (`document.write`), never for a
//! role name: what a role may do is data (`role_permission`), changed at run time without a new module.
//!
//! Per path (`Via`):
//! - human: the person's role in the tenant must grant the permission;
//! - robot: the API key's grant must be live (not revoked, not expired), for this tenant, and list it;
//! - delegated: both — the key's grant (which must allow delegation) **and** the user's role;
//! - impersonation: a live `impersonation_grant` (admin → user, this tenant), then the user's role.
//!
//! Every check reads the tables at call time, so a revoked key, an expired grant or a removed membership
//! stops the very next call, whatever tokens are still valid.

use spacetimedb::{ReducerContext, Timestamp};

use crate::caller::{key_of, resolve, ActorClaim, Caller};
use crate::tables::{
    api_key_grant, impersonation_grant, membership, role_permission, tenant, ApiKeyGrant, ImpersonationGrant, Via,
};

/// Every permission a role or key may hold. `*.read` ones also decide visibility (`read_grant`).
pub const PERMISSIONS: &[&str] = &[
    "tenant.read",
    "tenant.manage",
    "member.read",
    "member.manage",
    "role.manage",
    "document.read",
    "document.write",
    "audit.read",
    "api_key.read",
    "api_key.manage",
    "impersonation.read",
    "impersonation.grant",
    "session.read",
];

/// The permissions that make rows visible (see `visibility.rs`).
pub const READ_PERMISSIONS: &[&str] = &[
    "tenant.read",
    "member.read",
    "document.read",
    "audit.read",
    "api_key.read",
    "impersonation.read",
    "session.read",
];

/// What an admin may not do that an owner may: rename or close the tenant, and read session contexts
/// (those are for gateways).
const OWNER_ONLY: &[&str] = &["tenant.manage", "session.read"];

/// The roles every tenant starts with, and what they may do. Only seed data: after creation they are
/// rows like any other role.
pub fn builtin_roles() -> Vec<(&'static str, Vec<&'static str>)> {
    let all = PERMISSIONS.to_vec();
    let admin = all.iter().copied().filter(|p| !OWNER_ONLY.contains(p)).collect();
    vec![
        ("owner", all),
        ("admin", admin),
        ("member", vec!["tenant.read", "member.read", "document.read", "document.write"]),
        ("viewer", vec!["tenant.read", "document.read"]),
    ]
}

pub fn check_permission_name(permission: &str) -> Result<(), String> {
    if PERMISSIONS.contains(&permission) {
        Ok(())
    } else {
        Err(format!("unknown permission '{permission}' (known: {})", PERMISSIONS.join(", ")))
    }
}

/// What an allowed action carries into its audit row.
#[derive(Clone, Debug)]
pub struct Allowed {
    pub caller: Caller,
    pub tenant_id: String,
    pub impersonation_grant: Option<u64>,
}

pub fn require_tenant(ctx: &ReducerContext, tenant_id: &str) -> Result<(), String> {
    match ctx.db.tenant().id().find(tenant_id.to_string()) {
        Some(_) => Ok(()),
        None => Err(format!("no such tenant: {tenant_id}")),
    }
}

/// Whether `actor`'s role in `tenant_id` grants `permission`.
pub fn role_grants(ctx: &ReducerContext, actor: &str, tenant_id: &str, permission: &str) -> Result<bool, String> {
    let Some(member) = ctx.db.membership().actor().filter(actor).find(|m| m.tenant_id == tenant_id) else {
        return Err(format!("{actor} is not a member of tenant {tenant_id}"));
    };
    Ok(ctx.db.role_permission().role_id().filter(member.role_id).any(|p| p.permission == permission))
}

fn require_role_grants(ctx: &ReducerContext, actor: &str, tenant_id: &str, permission: &str) -> Result<(), String> {
    if role_grants(ctx, actor, tenant_id, permission)? {
        Ok(())
    } else {
        Err(format!("{actor}'s role in tenant {tenant_id} does not grant {permission}"))
    }
}

/// Resolves the caller (`caller::resolve`) and checks it may do `permission` in `tenant_id`.
pub fn authorize_actor(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: &str,
    permission: &str,
) -> Result<Allowed, String> {
    authorize(ctx, &resolve(ctx, actor)?, tenant_id, permission)
}

/// Checks that `caller` may do `permission` in `tenant_id` (see the module comment).
pub fn authorize(ctx: &ReducerContext, caller: &Caller, tenant_id: &str, permission: &str) -> Result<Allowed, String> {
    require_tenant(ctx, tenant_id)?;
    let allowed =
        |impersonation_grant| Allowed { caller: caller.clone(), tenant_id: tenant_id.to_string(), impersonation_grant };
    match caller.via {
        Via::Human => {
            require_role_grants(ctx, &caller.actor, tenant_id, permission)?;
            Ok(allowed(None))
        }
        Via::Robot => {
            live_key(ctx, &caller.actor, tenant_id, permission)?;
            Ok(allowed(None))
        }
        Via::Delegated => {
            let key = live_key(ctx, &caller.actor, tenant_id, permission)?;
            if !key.can_delegate {
                return Err(format!(
                    "api key {} may not act for users (it was created without delegation)",
                    key.key_id
                ));
            }
            require_role_grants(ctx, &caller.effective, tenant_id, permission)?;
            Ok(allowed(None))
        }
        Via::Impersonation => {
            let grant = live_impersonation(ctx, &caller.actor, &caller.effective, tenant_id)?;
            require_role_grants(ctx, &caller.effective, tenant_id, permission)?;
            Ok(allowed(Some(grant.id)))
        }
        Via::Service => Err(format!("{} is a service identity and holds no permissions in tenants", caller.actor)),
    }
}

fn micros(t: Timestamp) -> i64 {
    t.to_micros_since_unix_epoch()
}

/// The grant of the key behind `robot`, if it is live, scoped to `tenant_id` and lists `permission`.
fn live_key(ctx: &ReducerContext, robot: &str, tenant_id: &str, permission: &str) -> Result<ApiKeyGrant, String> {
    let key_id = key_of(robot).ok_or_else(|| format!("{robot} names no key"))?;
    let key = ctx
        .db
        .api_key_grant()
        .key_id()
        .find(key_id.to_string())
        .ok_or_else(|| format!("api key {key_id} has no grant"))?;
    if let Some(at) = key.revoked_at {
        let by = key.revoked_by.as_deref().unwrap_or("?");
        return Err(format!("api key {key_id} was revoked at {at} by {by}"));
    }
    if micros(ctx.timestamp) >= micros(key.expires_at) {
        return Err(format!("api key {key_id} expired at {}", key.expires_at));
    }
    if key.tenant_id != tenant_id {
        return Err(format!("api key {key_id} is scoped to tenant {}, not {tenant_id}", key.tenant_id));
    }
    if !key.permissions.iter().any(|p| p == permission) {
        return Err(format!(
            "api key {key_id} does not grant {permission} (it grants: {})",
            key.permissions.join(", ")
        ));
    }
    Ok(key)
}

/// The newest live grant for `admin` to act as `target` in `tenant_id`; the error names why none is.
pub fn live_impersonation(
    ctx: &ReducerContext,
    admin: &str,
    target: &str,
    tenant_id: &str,
) -> Result<ImpersonationGrant, String> {
    let now = micros(ctx.timestamp);
    let mut newest_dead: Option<ImpersonationGrant> = None;
    let mut grants: Vec<ImpersonationGrant> = ctx
        .db
        .impersonation_grant()
        .admin()
        .filter(admin)
        .filter(|g| g.target == target && g.tenant_id == tenant_id)
        .collect();
    grants.sort_by_key(|g| std::cmp::Reverse(g.id));
    for grant in grants {
        if grant.revoked_at.is_none() && now < micros(grant.expires_at) {
            return Ok(grant);
        }
        newest_dead.get_or_insert(grant);
    }
    match newest_dead {
        None => Err(format!("{admin} has no impersonation grant to act as {target} in tenant {tenant_id}")),
        Some(g) if g.revoked_at.is_some() => Err(format!(
            "impersonation grant {} ({admin} as {target} in tenant {tenant_id}) was revoked at {} by {}",
            g.id,
            g.revoked_at.expect("checked"),
            g.revoked_by.as_deref().unwrap_or("?")
        )),
        Some(g) => Err(format!(
            "impersonation grant {} ({admin} as {target} in tenant {tenant_id}) expired at {}",
            g.id, g.expires_at
        )),
    }
}
