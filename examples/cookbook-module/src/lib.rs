//! The cookbook module of spacetime-gateway: multi-tenant authorization on SpacetimeDB 1.3.
//!
//! - Tokens carry identity only; everything mutable lives in tables: memberships, roles and their
//!   permissions (`role_permission`), API-key grants, impersonation grants, session contexts.
//! - Reducers ask for permissions (`document.write`), never for role names, and re-read the grants on
//!   every call: a revoked key or an expired grant stops the next call whatever tokens are still valid.
//! - Every change writes an `audit_event` naming the actor, the effective actor and the path (human,
//!   robot, delegated, impersonation).
//! - Callers are resolved in `caller.rs` (own identity through `identity_link`, or an actor named by a
//!   trusted gateway); permissions in `authz.rs`; row visibility in `visibility.rs`.
//!
//! Guide: docs/authorization-cookbook.md and docs/machine-actors.md.

mod audit;
mod authz;
mod caller;
mod reducers;
mod tables;
mod visibility;

use spacetimedb::{reducer, ReducerContext, Table};

use tables::{config, identity_link, Config};

#[reducer(init)]
pub fn init(ctx: &ReducerContext) {
    ctx.db.config().insert(Config { id: 0, owner: ctx.sender });
}

/// A connection is a use of its identity's link too: a user who only reads (subscriptions, no reducer
/// call) still holds a token of that issuer, and retiring the issuer would lock them out. Never refuses:
/// unlinked identities (the owner, gateways, not yet linked users) connect as well.
#[reducer(client_connected)]
pub fn client_connected(ctx: &ReducerContext) {
    if let Some(link) = ctx.db.identity_link().identity().find(ctx.sender) {
        caller::record_use(ctx, link);
    }
}
