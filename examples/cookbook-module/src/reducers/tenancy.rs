//! Tenants, roles, permissions and memberships. Every check asks for a permission; what a role may do is
//! the `role_permission` rows of that role. Nobody may hand out more than they hold: granting a
//! permission to a role, or giving someone a role, needs every permission involved.

use spacetimedb::{reducer, ReducerContext, Table};

use crate::audit;
use crate::authz::{authorize, authorize_actor, builtin_roles, check_permission_name, role_grants, Allowed};
use crate::caller::{kind_of, resolve, ActorClaim};
use crate::tables::{
    actor_identity_map, membership, role, role_permission, tenant, ActorKind, Membership, Role, RolePermission, Tenant,
};
use crate::visibility::refresh_tenant;

const MAX_NAME_BYTES: usize = 200;

fn check_name(value: &str, what: &str) -> Result<(), String> {
    if value.trim().is_empty() || value.len() > MAX_NAME_BYTES {
        return Err(format!("{what} must be 1 to {MAX_NAME_BYTES} bytes and not blank"));
    }
    Ok(())
}

/// Creates a tenant with the built-in roles; the caller (a person acting as themselves) becomes its owner.
#[reducer]
pub fn create_tenant(ctx: &ReducerContext, actor: Option<ActorClaim>, id: String, name: String) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    caller.require_human("create tenants")?;
    check_name(&id, "tenant id")?;
    check_name(&name, "tenant name")?;
    if ctx.db.tenant().id().find(id.clone()).is_some() {
        return Err(format!("tenant {id} already exists"));
    }
    ctx.db.tenant().insert(Tenant {
        id: id.clone(),
        name,
        created_by: caller.actor.clone(),
        created_at: ctx.timestamp,
    });
    let mut owner_role = 0;
    for (role_name, permissions) in builtin_roles() {
        let role = ctx.db.role().insert(Role {
            id: 0,
            tenant_id: id.clone(),
            name: role_name.to_string(),
            created_at: ctx.timestamp,
        });
        for permission in permissions {
            ctx.db.role_permission().insert(RolePermission {
                id: 0,
                role_id: role.id,
                tenant_id: id.clone(),
                permission: permission.to_string(),
            });
        }
        if role_name == "owner" {
            owner_role = role.id;
        }
    }
    ctx.db.membership().insert(Membership {
        id: 0,
        tenant_id: id.clone(),
        actor: caller.actor.clone(),
        role_id: owner_role,
        added_at: ctx.timestamp,
    });
    refresh_tenant(ctx, &id);
    let allowed = Allowed { caller, tenant_id: id.clone(), impersonation_grant: None };
    audit::record(ctx, &allowed, "create_tenant", "tenant.create", id);
    Ok(())
}

/// The role `role_id`, which must belong to `tenant_id` (a role id of another tenant is refused).
fn role_in(ctx: &ReducerContext, tenant_id: &str, role_id: u64) -> Result<Role, String> {
    let role = ctx.db.role().id().find(role_id).ok_or_else(|| format!("no such role: {role_id}"))?;
    if role.tenant_id != tenant_id {
        return Err(format!("role {role_id} belongs to tenant {}, not {tenant_id}", role.tenant_id));
    }
    Ok(role)
}

/// Refuses handing out `permission` unless the effective actor holds it too (robots: their key must).
fn require_holds(ctx: &ReducerContext, allowed: &Allowed, permission: &str) -> Result<(), String> {
    let caller = &allowed.caller;
    if kind_of(&caller.effective) == ActorKind::Robot {
        // A robot's rights are its key's: `authorize` for that permission checks the key.
        return authorize(ctx, caller, &allowed.tenant_id, permission).map(|_| ());
    }
    if role_grants(ctx, &caller.effective, &allowed.tenant_id, permission)? {
        Ok(())
    } else {
        Err(format!("{} may not hand out {permission}: their own role does not grant it", caller.effective))
    }
}

#[reducer]
pub fn create_role(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    name: String,
) -> Result<(), String> {
    let allowed = authorize_actor(ctx, actor, &tenant_id, "role.manage")?;
    check_name(&name, "role name")?;
    if ctx.db.role().tenant_id().filter(&tenant_id).any(|r| r.name == name) {
        return Err(format!("tenant {tenant_id} already has a role named {name}"));
    }
    let role = ctx.db.role().insert(Role { id: 0, tenant_id: tenant_id.clone(), name, created_at: ctx.timestamp });
    audit::record(ctx, &allowed, "create_role", "role.create", role.id.to_string());
    Ok(())
}

#[reducer]
pub fn grant_permission(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    role_id: u64,
    permission: String,
) -> Result<(), String> {
    let allowed = authorize_actor(ctx, actor, &tenant_id, "role.manage")?;
    role_in(ctx, &tenant_id, role_id)?;
    check_permission_name(&permission)?;
    require_holds(ctx, &allowed, &permission)?;
    if ctx.db.role_permission().role_id().filter(role_id).any(|p| p.permission == permission) {
        return Err(format!("role {role_id} already has {permission}"));
    }
    ctx.db.role_permission().insert(RolePermission {
        id: 0,
        role_id,
        tenant_id: tenant_id.clone(),
        permission: permission.clone(),
    });
    refresh_tenant(ctx, &tenant_id);
    audit::record(ctx, &allowed, "grant_permission", "role.grant", format!("{role_id} {permission}"));
    Ok(())
}

#[reducer]
pub fn revoke_permission(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    role_id: u64,
    permission: String,
) -> Result<(), String> {
    let allowed = authorize_actor(ctx, actor, &tenant_id, "role.manage")?;
    role_in(ctx, &tenant_id, role_id)?;
    let row = ctx.db.role_permission().role_id().filter(role_id).find(|p| p.permission == permission);
    let row = row.ok_or_else(|| format!("role {role_id} does not have {permission}"))?;
    ctx.db.role_permission().id().delete(row.id);
    refresh_tenant(ctx, &tenant_id);
    audit::record(ctx, &allowed, "revoke_permission", "role.revoke", format!("{role_id} {permission}"));
    Ok(())
}

/// Adds `member` (a known person) to a tenant with `role_id`, or changes their role. The caller must
/// hold every permission of that role.
#[reducer]
pub fn set_member(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    member: String,
    role_id: u64,
) -> Result<(), String> {
    let allowed = authorize_actor(ctx, actor, &tenant_id, "member.manage")?;
    role_in(ctx, &tenant_id, role_id)?;
    match ctx.db.actor_identity_map().actor().find(member.clone()) {
        Some(entry) if entry.kind == ActorKind::Human => {}
        Some(_) => return Err(format!("{member} is a robot: robots act through API key grants, not memberships")),
        None => return Err(format!("actor {member} is not known to the module (link_identity registers it)")),
    }
    for permission in ctx.db.role_permission().role_id().filter(role_id) {
        require_holds(ctx, &allowed, &permission.permission)?;
    }
    match ctx.db.membership().actor().filter(&member).find(|m| m.tenant_id == tenant_id) {
        Some(m) => {
            ctx.db.membership().id().update(Membership { role_id, ..m });
        }
        None => {
            ctx.db.membership().insert(Membership {
                id: 0,
                tenant_id: tenant_id.clone(),
                actor: member.clone(),
                role_id,
                added_at: ctx.timestamp,
            });
        }
    }
    refresh_tenant(ctx, &tenant_id);
    audit::record(ctx, &allowed, "set_member", "member.set", format!("{member} {role_id}"));
    Ok(())
}

/// Removes `member` from a tenant. Needs `member.manage`, except to leave (remove yourself).
#[reducer]
pub fn remove_member(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    member: String,
) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    let allowed = if member == caller.effective {
        authorize(ctx, &caller, &tenant_id, "tenant.read")?
    } else {
        authorize(ctx, &caller, &tenant_id, "member.manage")?
    };
    let m = ctx.db.membership().actor().filter(&member).find(|m| m.tenant_id == tenant_id);
    let m = m.ok_or_else(|| format!("{member} is not a member of tenant {tenant_id}"))?;
    ctx.db.membership().id().delete(m.id);
    refresh_tenant(ctx, &tenant_id);
    audit::record(ctx, &allowed, "remove_member", "member.remove", member);
    Ok(())
}
