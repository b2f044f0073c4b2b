//! Who sees which rows, on SpacetimeDB 1.3.
//!
//! 1.3 has no views (`#[view]` arrives in 1.8), but it enforces row-level security filters
//! (`client_visibility_filter`, behind the bindings' `unstable` feature) on every subscription and SQL
//! query of a non-owner, with `:sender` bound to the caller's identity. A filter is a single-table
//! `SELECT` with joins; it may not reference private tables (the caller could not see them either).
//!
//! So visibility is **materialised**: `read_grant` holds one row per (tenant, reader identity, read
//! permission), recomputed by the module whenever a membership, a role's permissions, an identity link,
//! an actor's active flag or the set of trusted gateways changes. Every public table's filter joins it on
//! `:sender`. Trusted gateways get every read permission in every tenant: their service connection holds
//! the projection the SSE relay serves from, and the relay's stream selection narrows it per user.
//!
//! What a `#[view] visible_documents` would compute per caller on ≥ 1.8 is here `DOCUMENT_READ` below
//! plus `read_grant`.

use std::collections::BTreeSet;

use spacetimedb::{client_visibility_filter, Filter, Identity, ReducerContext, Table};

use crate::authz::READ_PERMISSIONS;
use crate::tables::{
    actor_identity_map, identity_link, membership, read_grant, role_permission, tenant, trusted_gateway, ReadGrant,
};

#[client_visibility_filter]
const READ_GRANT_OWN: Filter = Filter::Sql("SELECT * FROM read_grant WHERE reader = :sender");

/// Declares the filter of `$table`: its rows of the tenants (`$column`) where the caller holds
/// `$permission`. `read_grant`, filtered on `:sender`, must drive the join: 1.3's subscription planner
/// needs the right-hand table unfiltered with an index on the join column.
macro_rules! readable_with {
    ($name:ident, $table:literal, $column:literal, $permission:literal) => {
        #[client_visibility_filter]
        const $name: Filter = Filter::Sql(concat!(
            "SELECT ", $table, ".* FROM read_grant JOIN ", $table, " ON read_grant.tenant_id = ", $table, ".", $column,
            " WHERE read_grant.reader = :sender AND read_grant.permission = '", $permission, "'"
        ));
    };
}

readable_with!(TENANT_READ, "tenant", "id", "tenant.read");
readable_with!(ROLE_READ, "role", "tenant_id", "member.read");
readable_with!(ROLE_PERMISSION_READ, "role_permission", "tenant_id", "member.read");
readable_with!(MEMBERSHIP_READ, "membership", "tenant_id", "member.read");
readable_with!(DOCUMENT_READ, "document", "tenant_id", "document.read");
readable_with!(AUDIT_READ, "audit_event", "tenant_id", "audit.read");
readable_with!(API_KEY_READ, "api_key_grant", "tenant_id", "api_key.read");
readable_with!(IMPERSONATION_READ, "impersonation_grant", "tenant_id", "impersonation.read");
readable_with!(SESSION_READ, "session_context", "tenant_id", "session.read");

/// The read grants `tenant_id` should have now.
fn wanted(ctx: &ReducerContext, tenant_id: &str) -> BTreeSet<(Identity, String)> {
    let mut out = BTreeSet::new();
    for member in ctx.db.membership().tenant_id().filter(tenant_id) {
        let active = ctx.db.actor_identity_map().actor().find(member.actor.clone()).is_some_and(|a| a.active);
        if !active {
            continue;
        }
        let permissions: Vec<String> = ctx
            .db
            .role_permission()
            .role_id()
            .filter(member.role_id)
            .map(|p| p.permission)
            .filter(|p| READ_PERMISSIONS.contains(&p.as_str()))
            .collect();
        for link in ctx.db.identity_link().actor().filter(&member.actor) {
            for permission in &permissions {
                out.insert((link.identity, permission.clone()));
            }
        }
    }
    for gateway in ctx.db.trusted_gateway().iter() {
        for permission in READ_PERMISSIONS {
            out.insert((gateway.identity, permission.to_string()));
        }
    }
    out
}

/// Brings `read_grant` of one tenant up to date, changing only the rows that differ (subscribers see
/// exactly the visibility that changed, not a reset).
pub fn refresh_tenant(ctx: &ReducerContext, tenant_id: &str) {
    let mut wanted = wanted(ctx, tenant_id);
    let mut stale = Vec::new();
    for grant in ctx.db.read_grant().tenant_id().filter(tenant_id) {
        if !wanted.remove(&(grant.reader, grant.permission.clone())) {
            stale.push(grant.id);
        }
    }
    for id in stale {
        ctx.db.read_grant().id().delete(id);
    }
    for (reader, permission) in wanted {
        ctx.db.read_grant().insert(ReadGrant { id: 0, tenant_id: tenant_id.to_string(), reader, permission });
    }
}

/// After a change to `actor`'s links or active flag: every tenant it belongs to.
pub fn refresh_actor(ctx: &ReducerContext, actor: &str) {
    let tenants: BTreeSet<String> = ctx.db.membership().actor().filter(actor).map(|m| m.tenant_id).collect();
    for tenant_id in tenants {
        refresh_tenant(ctx, &tenant_id);
    }
}

/// After a change to the trusted gateways: every tenant.
pub fn refresh_all(ctx: &ReducerContext) {
    let tenants: Vec<String> = ctx.db.tenant().iter().map(|t| t.id).collect();
    for tenant_id in tenants {
        refresh_tenant(ctx, &tenant_id);
    }
}
