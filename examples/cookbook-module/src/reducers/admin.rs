//! Administration by the database owner and trusted gateways: which gateways may name actors, which
//! identities belong to which app actor, and whether an actor may act at all. Audited with an empty
//! tenant id (`Via::Service`): only the owner sees those rows.

use spacetimedb::{reducer, Identity, ReducerContext, Table};

use crate::audit;
use crate::authz::Allowed;
use crate::caller::{is_trusted_gateway, kind_of, Caller};
use crate::tables::{
    actor_identity_map, config, identity_link, trusted_gateway, ActorIdentityMap, IdentityLink, TrustedGateway, Via,
};
use crate::visibility::{refresh_actor, refresh_all};

/// SpacetimeDB's limits for `iss` and `sub`.
const MAX_CLAIM_BYTES: usize = 128;

fn is_owner(ctx: &ReducerContext) -> bool {
    ctx.db.config().id().find(0).is_some_and(|c| c.owner == ctx.sender)
}

/// The caller as a service principal, if it is the owner (or, with `gateways`, a trusted gateway).
fn service(ctx: &ReducerContext, gateways: bool, what: &str) -> Result<Allowed, String> {
    let role = if is_owner(ctx) {
        "owner"
    } else if gateways && is_trusted_gateway(ctx, ctx.sender) {
        "gateway"
    } else if gateways {
        return Err(format!("only the database owner or a trusted gateway may {what}"));
    } else {
        return Err(format!("only the database owner may {what}"));
    };
    let actor = format!("{role}:{}", ctx.sender.to_hex());
    let caller = Caller { actor: actor.clone(), effective: actor, via: Via::Service, gateway: None };
    Ok(Allowed { caller, tenant_id: String::new(), impersonation_grant: None })
}

/// Trusts `identity` to name actors (a gateway's service connection). Owner only.
#[reducer]
pub fn trust_gateway(ctx: &ReducerContext, identity: Identity, note: String) -> Result<(), String> {
    let allowed = service(ctx, false, "trust gateways")?;
    ctx.db.trusted_gateway().identity().delete(identity);
    ctx.db.trusted_gateway().insert(TrustedGateway { identity, note, added_at: ctx.timestamp });
    refresh_all(ctx);
    audit::record(ctx, &allowed, "trust_gateway", "gateway.trust", identity.to_hex().to_string());
    Ok(())
}

/// Stops trusting `identity`; its next call naming an actor is refused. Owner only.
#[reducer]
pub fn distrust_gateway(ctx: &ReducerContext, identity: Identity) -> Result<(), String> {
    let allowed = service(ctx, false, "distrust gateways")?;
    if !ctx.db.trusted_gateway().identity().delete(identity) {
        return Err(format!("{} is not a trusted gateway", identity.to_hex()));
    }
    refresh_all(ctx);
    audit::record(ctx, &allowed, "distrust_gateway", "gateway.distrust", identity.to_hex().to_string());
    Ok(())
}

fn check_claim(value: &str, what: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > MAX_CLAIM_BYTES {
        return Err(format!("{what} must be 1 to {MAX_CLAIM_BYTES} bytes, got {}", value.len()));
    }
    Ok(())
}

/// Links the identity SpacetimeDB derives from `issuer` + `subject` to `app_actor` (registering the actor
/// when new; its kind follows from the id: `robot:<keyId>` is a robot). The identity is computed here,
/// never taken from the caller. Idempotent; refuses to move a linked identity to another actor.
#[reducer]
pub fn link_identity(ctx: &ReducerContext, issuer: String, subject: String, app_actor: String) -> Result<(), String> {
    let allowed = service(ctx, true, "link identities")?;
    check_claim(&issuer, "issuer")?;
    check_claim(&subject, "subject")?;
    check_claim(&app_actor, "app_actor")?;
    if kind_of(&subject) != kind_of(&app_actor) {
        return Err(format!(
            "subject {subject} and actor {app_actor} are not the same kind (robot:<keyId> is a robot)"
        ));
    }
    let identity = Identity::from_claims(&issuer, &subject);
    if let Some(link) = ctx.db.identity_link().identity().find(identity) {
        if link.actor != app_actor {
            return Err(format!("{issuer} / {subject} is already linked to {}", link.actor));
        }
        return Ok(());
    }
    ctx.db.identity_link().insert(IdentityLink {
        identity,
        issuer: issuer.clone(),
        subject: subject.clone(),
        actor: app_actor.clone(),
        linked_at: ctx.timestamp,
        last_seen_at: None,
    });
    let entry = ctx.db.actor_identity_map().actor().find(app_actor.clone());
    let active = entry.as_ref().is_none_or(|e| e.active);
    ctx.db.actor_identity_map().actor().delete(app_actor.clone());
    ctx.db.actor_identity_map().insert(ActorIdentityMap {
        actor: app_actor.clone(),
        kind: kind_of(&app_actor),
        primary_identity: identity,
        active,
        updated_at: ctx.timestamp,
    });
    refresh_actor(ctx, &app_actor);
    audit::record(ctx, &allowed, "link_identity", "identity.link", format!("{issuer} {subject} -> {app_actor}"));
    Ok(())
}

/// Removes an identity link: that identity no longer acts as its actor.
#[reducer]
pub fn unlink_identity(ctx: &ReducerContext, identity: Identity) -> Result<(), String> {
    let allowed = service(ctx, true, "unlink identities")?;
    let link = ctx
        .db
        .identity_link()
        .identity()
        .find(identity)
        .ok_or_else(|| format!("{} is not linked", identity.to_hex()))?;
    ctx.db.identity_link().identity().delete(identity);
    refresh_actor(ctx, &link.actor);
    audit::record(
        ctx,
        &allowed,
        "unlink_identity",
        "identity.unlink",
        format!("{} {} -/-> {}", link.issuer, link.subject, link.actor),
    );
    Ok(())
}

/// Activates or deactivates an app actor (e.g. SCIM deprovisioning): a deactivated actor's calls are
/// refused through every identity and path, and its read grants disappear.
#[reducer]
pub fn set_actor_active(ctx: &ReducerContext, app_actor: String, active: bool) -> Result<(), String> {
    let allowed = service(ctx, true, "activate or deactivate actors")?;
    let entry = ctx
        .db
        .actor_identity_map()
        .actor()
        .find(app_actor.clone())
        .ok_or_else(|| format!("actor {app_actor} is not known"))?;
    ctx.db.actor_identity_map().actor().update(ActorIdentityMap { active, updated_at: ctx.timestamp, ..entry });
    refresh_actor(ctx, &app_actor);
    let action = if active { "actor.activate" } else { "actor.deactivate" };
    audit::record(ctx, &allowed, "set_actor_active", action, app_actor);
    Ok(())
}
