//! The reference module of spacetime-gateway: a small multi-tenant document store.
//!
//! SpacetimeDB 1.3 modules cannot read JWT claims, so every authorization decision here is made on
//! `ctx.sender` (the caller's Identity) against tables the module owns: a caller may act in a tenant
//! only through a `membership` row, and may change a document only as its owner or as a tenant admin.
//! Every write leaves an `audit_event` row, so tests can see who did what.
//!
//! Actor attribution (docs/actors.md): a gateway holding one service connection may act for a user only
//! through reducers that take the user's stable actor id as their first parameter, `actor: String`, and
//! only while `ctx.sender` is in `trusted_gateway` (maintained by the database owner). The actor id is
//! resolved to an Identity through `actor_identity_map`, so a document created *as* a user through the
//! gateway belongs to the same Identity as one the user creates over their own connection.
//!
//! Tenants and memberships can also be owned by the app (Better Auth's organizations): a trusted gateway
//! then mirrors them with `sync_tenant`, `sync_member` and `sync_remove_member` from the app's hooks, and
//! the reducers above keep checking the mirrored rows.
//!
//! `all_types` exists for the gateway's generic decoder: it holds one column of every type a module can
//! declare, and `insert_all_types` / `set_scalars` take those types as reducer arguments.

use spacetimedb::sats::{i256, u256};
use spacetimedb::{reducer, table, ConnectionId, Identity, ReducerContext, SpacetimeType, Table, TimeDuration, Timestamp};

// ---------------------------------------------------------------------------------------------------
// Tenants and memberships
// ---------------------------------------------------------------------------------------------------

#[table(name = tenant, public)]
pub struct Tenant {
    /// The tenant's id as the app knows it (e.g. an organization id), not a SpacetimeDB identity.
    #[primary_key]
    pub id: String,
    pub name: String,
    pub created_by: Identity,
    pub created_at: Timestamp,
}

#[derive(SpacetimeType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

#[table(name = membership, public)]
pub struct Membership {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    #[index(btree)]
    pub member: Identity,
    pub role: Role,
    pub added_at: Timestamp,
}

// ---------------------------------------------------------------------------------------------------
// Documents and the audit trail
// ---------------------------------------------------------------------------------------------------

#[table(name = document, public)]
pub struct Document {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    pub title: String,
    pub body: String,
    pub owner: Identity,
    pub updated_at: Timestamp,
    /// Starts at 1 and grows by one on every update; lets clients detect lost or reordered updates.
    pub version: u32,
}

#[table(name = audit_event, public)]
pub struct AuditEvent {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    /// Who acted: the caller's identity, or the identity of the actor a trusted gateway acted for.
    pub actor: Identity,
    /// What happened, e.g. `document.create`.
    pub action: String,
    /// What it happened to, e.g. a document id.
    pub subject: String,
    pub at: Timestamp,
    /// The trusted gateway that acted for `actor`; `None` when the actor called directly.
    pub via: Option<Identity>,
}

const MAX_TITLE_BYTES: usize = 200;
const MAX_BODY_BYTES: usize = 64 * 1024;

fn role_of(ctx: &ReducerContext, tenant_id: &str, who: Identity) -> Option<Role> {
    ctx.db
        .membership()
        .member()
        .filter(&who)
        .find(|m| m.tenant_id == tenant_id)
        .map(|m| m.role)
}

fn require_role(ctx: &ReducerContext, tenant_id: &str, allowed: fn(Role) -> bool, what: &str) -> Result<Role, String> {
    require_role_of(ctx, ctx.sender, tenant_id, allowed, what)
}

/// Like `require_role`, for `who` (the caller, or the actor a trusted gateway acts for).
fn require_role_of(
    ctx: &ReducerContext,
    who: Identity,
    tenant_id: &str,
    allowed: fn(Role) -> bool,
    what: &str,
) -> Result<Role, String> {
    if ctx.db.tenant().id().find(tenant_id.to_string()).is_none() {
        return Err(format!("no such tenant: {tenant_id}"));
    }
    match role_of(ctx, tenant_id, who) {
        None => Err(format!("not a member of tenant {tenant_id}")),
        Some(role) if !allowed(role) => Err(format!("role {role:?} may not {what} in tenant {tenant_id}")),
        Some(role) => Ok(role),
    }
}

fn audit(ctx: &ReducerContext, tenant_id: &str, action: &str, subject: String) {
    audit_as(ctx, Actor { identity: ctx.sender, via: None }, tenant_id, action, subject);
}

fn audit_as(ctx: &ReducerContext, actor: Actor, tenant_id: &str, action: &str, subject: String) {
    ctx.db.audit_event().insert(AuditEvent {
        id: 0,
        tenant_id: tenant_id.to_string(),
        actor: actor.identity,
        action: action.to_string(),
        subject,
        at: ctx.timestamp,
        via: actor.via,
    });
}

fn check_title(title: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("title must not be empty".into());
    }
    if title.len() > MAX_TITLE_BYTES {
        return Err(format!("title is {} bytes, the limit is {MAX_TITLE_BYTES}", title.len()));
    }
    Ok(())
}

fn check_body(body: &str) -> Result<(), String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("body is {} bytes, the limit is {MAX_BODY_BYTES}", body.len()));
    }
    Ok(())
}

/// Creates a tenant; the caller becomes its owner.
#[reducer]
pub fn create_tenant(ctx: &ReducerContext, id: String, name: String) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("tenant id must not be empty".into());
    }
    if ctx.db.tenant().id().find(&id).is_some() {
        return Err(format!("tenant {id} already exists"));
    }
    ctx.db.tenant().insert(Tenant { id: id.clone(), name, created_by: ctx.sender, created_at: ctx.timestamp });
    ctx.db.membership().insert(Membership {
        id: 0,
        tenant_id: id.clone(),
        member: ctx.sender,
        role: Role::Owner,
        added_at: ctx.timestamp,
    });
    audit(ctx, &id, "tenant.create", id.clone());
    Ok(())
}

/// Adds `member` to a tenant, or changes its role. Only owners and admins may, and only owners may
/// grant `Owner`.
#[reducer]
pub fn set_member(ctx: &ReducerContext, tenant_id: String, member: Identity, role: Role) -> Result<(), String> {
    let caller_role = require_role(ctx, &tenant_id, Role::can_manage, "manage members")?;
    if role == Role::Owner && caller_role != Role::Owner {
        return Err("only an owner may grant the Owner role".into());
    }
    let existing = ctx.db.membership().member().filter(&member).find(|m| m.tenant_id == tenant_id);
    match existing {
        Some(m) => {
            ctx.db.membership().id().update(Membership { role, ..m });
        }
        None => {
            ctx.db.membership().insert(Membership {
                id: 0,
                tenant_id: tenant_id.clone(),
                member,
                role,
                added_at: ctx.timestamp,
            });
        }
    }
    audit(ctx, &tenant_id, "member.set", member.to_hex().to_string());
    Ok(())
}

/// Removes `member` from a tenant. Owners and admins may remove others; anyone may leave.
#[reducer]
pub fn remove_member(ctx: &ReducerContext, tenant_id: String, member: Identity) -> Result<(), String> {
    if member != ctx.sender {
        require_role(ctx, &tenant_id, Role::can_manage, "manage members")?;
    }
    let Some(m) = ctx.db.membership().member().filter(&member).find(|m| m.tenant_id == tenant_id) else {
        return Err(format!("{} is not a member of tenant {tenant_id}", member.to_hex()));
    };
    ctx.db.membership().id().delete(m.id);
    audit(ctx, &tenant_id, "member.remove", member.to_hex().to_string());
    Ok(())
}

#[reducer]
pub fn create_document(ctx: &ReducerContext, tenant_id: String, title: String, body: String) -> Result<(), String> {
    insert_document(ctx, Actor { identity: ctx.sender, via: None }, tenant_id, title, body)
}

/// `create_document` for an actor a trusted gateway acts for (see `acting_for`): the document belongs to
/// the actor's identity, and the audit row names both the actor and the gateway.
#[reducer]
pub fn create_document_as(
    ctx: &ReducerContext,
    actor: String,
    tenant_id: String,
    title: String,
    body: String,
) -> Result<(), String> {
    let actor = acting_for(ctx, &actor)?;
    insert_document(ctx, actor, tenant_id, title, body)
}

fn insert_document(ctx: &ReducerContext, actor: Actor, tenant_id: String, title: String, body: String) -> Result<(), String> {
    require_role_of(ctx, actor.identity, &tenant_id, Role::can_write, "write documents")?;
    check_title(&title)?;
    check_body(&body)?;
    let doc = ctx.db.document().insert(Document {
        id: 0,
        tenant_id: tenant_id.clone(),
        title,
        body,
        owner: actor.identity,
        updated_at: ctx.timestamp,
        version: 1,
    });
    audit_as(ctx, actor, &tenant_id, "document.create", doc.id.to_string());
    Ok(())
}

fn writable_document(ctx: &ReducerContext, id: u64, what: &str) -> Result<Document, String> {
    let doc = ctx.db.document().id().find(id).ok_or_else(|| format!("no such document: {id}"))?;
    let role = require_role(ctx, &doc.tenant_id, Role::can_write, what)?;
    if doc.owner != ctx.sender && !role.can_manage() {
        return Err(format!("document {id} belongs to another member"));
    }
    Ok(doc)
}

#[reducer]
pub fn update_document(ctx: &ReducerContext, id: u64, title: String, body: String) -> Result<(), String> {
    let doc = writable_document(ctx, id, "write documents")?;
    check_title(&title)?;
    check_body(&body)?;
    let tenant_id = doc.tenant_id.clone();
    ctx.db.document().id().update(Document {
        title,
        body,
        updated_at: ctx.timestamp,
        version: doc.version + 1,
        ..doc
    });
    audit(ctx, &tenant_id, "document.update", id.to_string());
    Ok(())
}

#[reducer]
pub fn delete_document(ctx: &ReducerContext, id: u64) -> Result<(), String> {
    let doc = writable_document(ctx, id, "delete documents")?;
    ctx.db.document().id().delete(id);
    audit(ctx, &doc.tenant_id, "document.delete", id.to_string());
    Ok(())
}

/// Inserts `count` documents in one transaction (for benchmarks and load tests): titles `seed <n>`,
/// bodies of `body_len` bytes.
#[reducer]
pub fn seed_documents(ctx: &ReducerContext, tenant_id: String, count: u32, body_len: u32) -> Result<(), String> {
    require_role(ctx, &tenant_id, Role::can_write, "write documents")?;
    if count > 1_000_000 || body_len as usize > MAX_BODY_BYTES {
        return Err(format!("at most 1000000 documents of at most {MAX_BODY_BYTES} bytes"));
    }
    let body = "x".repeat(body_len as usize);
    for n in 0..count {
        ctx.db.document().insert(Document {
            id: 0,
            tenant_id: tenant_id.clone(),
            title: format!("seed {n}"),
            body: body.clone(),
            owner: ctx.sender,
            updated_at: ctx.timestamp,
            version: 1,
        });
    }
    audit(ctx, &tenant_id, "document.seed", count.to_string());
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Actor attribution: trusted gateways acting for users (docs/actors.md)
// ---------------------------------------------------------------------------------------------------

/// The module's settings, one row (`id = 0`), written once by `init`.
#[table(name = config)]
pub struct Config {
    #[primary_key]
    pub id: u32,
    /// The identity that published the database: the only one allowed to manage trusted gateways.
    pub owner: Identity,
}

/// Identities allowed to pass an `actor` argument: gateways holding a service connection. Private: only
/// the owner reads it.
#[table(name = trusted_gateway)]
pub struct TrustedGateway {
    #[primary_key]
    pub identity: Identity,
    /// What this gateway is (deployment, environment), for whoever reviews the list.
    pub note: String,
    pub added_at: Timestamp,
}

/// The identity each app actor id (a token `sub`, e.g. `user_123`) acts as, so membership checks and
/// ownership are the same whether the user calls directly or a trusted gateway calls for them.
#[table(name = actor_identity_map)]
pub struct ActorIdentityMap {
    #[primary_key]
    pub actor: String,
    pub identity: Identity,
    pub updated_at: Timestamp,
}

/// Who a reducer acts for: `identity` (owner of what it creates, actor of its audit rows), and the
/// trusted gateway that asserted it, if any.
#[derive(Clone, Copy)]
struct Actor {
    identity: Identity,
    via: Option<Identity>,
}

/// SpacetimeDB's limit for `sub`; actor ids are token subjects.
const MAX_ACTOR_BYTES: usize = 128;

#[reducer(init)]
pub fn init(ctx: &ReducerContext) {
    ctx.db.config().insert(Config { id: 0, owner: ctx.sender });
}

fn require_owner(ctx: &ReducerContext, what: &str) -> Result<(), String> {
    match ctx.db.config().id().find(0) {
        Some(config) if config.owner == ctx.sender => Ok(()),
        Some(_) => Err(format!("only the database owner may {what}")),
        None => Err("the module has no config row (it was not initialised by init)".into()),
    }
}

fn is_trusted_gateway(ctx: &ReducerContext, who: Identity) -> bool {
    ctx.db.trusted_gateway().identity().find(who).is_some()
}

/// The actor a reducer acts for when it takes an `actor` argument: accepted only from a trusted gateway
/// (anyone else could name any actor), and resolved through `actor_identity_map`.
fn acting_for(ctx: &ReducerContext, actor: &str) -> Result<Actor, String> {
    if !is_trusted_gateway(ctx, ctx.sender) {
        return Err(format!(
            "the caller {} is not a trusted gateway: an actor argument is accepted only from identities in trusted_gateway",
            ctx.sender.to_hex()
        ));
    }
    let mapped = ctx.db.actor_identity_map().actor().find(actor.to_string());
    let identity = mapped.map(|m| m.identity).ok_or_else(|| format!("actor {actor} is not mapped to an identity (call map_actor first)"))?;
    Ok(Actor { identity, via: Some(ctx.sender) })
}

/// Lets `identity` act for others through `actor` arguments (owner only). Calling it again updates the note.
#[reducer]
pub fn trust_gateway(ctx: &ReducerContext, identity: Identity, note: String) -> Result<(), String> {
    require_owner(ctx, "trust a gateway")?;
    let row = TrustedGateway { identity, note, added_at: ctx.timestamp };
    if ctx.db.trusted_gateway().identity().find(identity).is_some() {
        ctx.db.trusted_gateway().identity().update(row);
    } else {
        ctx.db.trusted_gateway().insert(row);
    }
    Ok(())
}

/// Withdraws the trust given by `trust_gateway` (owner only); from the next call on, `identity`'s actor
/// arguments are refused.
#[reducer]
pub fn distrust_gateway(ctx: &ReducerContext, identity: Identity) -> Result<(), String> {
    require_owner(ctx, "distrust a gateway")?;
    if !ctx.db.trusted_gateway().identity().delete(identity) {
        return Err(format!("{} is not a trusted gateway", identity.to_hex()));
    }
    Ok(())
}

/// Records which identity an actor id acts as (the owner or a trusted gateway; a gateway computes it with
/// `broker.identityFor(sub)`, the identity the user's own tokens have).
#[reducer]
pub fn map_actor(ctx: &ReducerContext, actor: String, identity: Identity) -> Result<(), String> {
    if require_owner(ctx, "map actors").is_err() && !is_trusted_gateway(ctx, ctx.sender) {
        return Err("only the database owner or a trusted gateway may map actors".into());
    }
    if actor.is_empty() || actor.len() > MAX_ACTOR_BYTES {
        return Err(format!("an actor id must be 1 to {MAX_ACTOR_BYTES} bytes"));
    }
    let row = ActorIdentityMap { actor: actor.clone(), identity, updated_at: ctx.timestamp };
    if ctx.db.actor_identity_map().actor().find(&actor).is_some() {
        ctx.db.actor_identity_map().actor().update(row);
    } else {
        ctx.db.actor_identity_map().insert(row);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Revoking SSE streams on every gateway replica (docs/scaling.md): the gateways subscribe to this table
// (relay option `revocations`) and each ends its own matching streams when a row arrives.
// ---------------------------------------------------------------------------------------------------

/// A revoke request. Empty strings match anything; at least one of user, session, tenant is given.
/// Private: only the owner reads it — the gateways must connect as the owner — and it holds no session
/// id, only its SHA-256.
#[table(name = stream_revocation)]
pub struct StreamRevocation {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    /// The app user (token `sub`) whose streams end.
    pub user_id: String,
    /// Lowercase hex SHA-256 of the app session id whose streams end.
    pub session_sha256: String,
    pub tenant_id: String,
    /// The `revoked` frame's reason.
    pub reason: String,
    pub at: Timestamp,
}

/// How long requests stay: a gateway that reconnects within this time still applies what it missed.
const REVOCATION_KEEP_MICROS: i64 = 10 * 60 * 1_000_000;

/// Publishes a revoke request to every gateway (the owner or a trusted gateway), and drops requests older
/// than ten minutes.
#[reducer]
pub fn revoke_streams(
    ctx: &ReducerContext,
    user_id: String,
    session_sha256: String,
    tenant_id: String,
    reason: String,
) -> Result<(), String> {
    if require_owner(ctx, "revoke streams").is_err() && !is_trusted_gateway(ctx, ctx.sender) {
        return Err("only the database owner or a trusted gateway may revoke streams".into());
    }
    if user_id.is_empty() && session_sha256.is_empty() && tenant_id.is_empty() {
        return Err("name a user, a session or a tenant: an empty request would end every stream".into());
    }
    let digest_ok = session_sha256.is_empty()
        || (session_sha256.len() == 64 && session_sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if !digest_ok {
        return Err("session_sha256 must be 64 lowercase hex digits (the SHA-256 of the session id)".into());
    }
    let now = ctx.timestamp.to_micros_since_unix_epoch();
    let expired: Vec<u64> = ctx
        .db
        .stream_revocation()
        .iter()
        .filter(|r| now - r.at.to_micros_since_unix_epoch() > REVOCATION_KEEP_MICROS)
        .map(|r| r.id)
        .collect();
    for id in expired {
        ctx.db.stream_revocation().id().delete(id);
    }
    ctx.db.stream_revocation().insert(StreamRevocation { id: 0, user_id, session_sha256, tenant_id, reason, at: ctx.timestamp });
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Mirroring an app's organizations (e.g. Better Auth's): the app owns tenants and memberships, a trusted
// gateway keeps these tables in step from the app's hooks (spacetime-gateway/better-auth).
// ---------------------------------------------------------------------------------------------------

fn require_trusted_gateway(ctx: &ReducerContext, what: &str) -> Result<(), String> {
    if !is_trusted_gateway(ctx, ctx.sender) {
        return Err(format!(
            "only a trusted gateway may {what}: the caller {} is not in trusted_gateway",
            ctx.sender.to_hex()
        ));
    }
    Ok(())
}

/// Creates tenant `id` as the app created it, owned by `owner` (the creator's identity), or renames it.
/// Trusted gateways only: the app already decided; the module records it.
#[reducer]
pub fn sync_tenant(ctx: &ReducerContext, id: String, name: String, owner: Identity) -> Result<(), String> {
    require_trusted_gateway(ctx, "sync tenants")?;
    if id.trim().is_empty() {
        return Err("tenant id must not be empty".into());
    }
    match ctx.db.tenant().id().find(&id) {
        Some(tenant) => {
            ctx.db.tenant().id().update(Tenant { name, ..tenant });
        }
        None => {
            ctx.db.tenant().insert(Tenant { id: id.clone(), name, created_by: owner, created_at: ctx.timestamp });
            audit(ctx, &id, "tenant.sync", id.clone());
        }
    }
    sync_membership(ctx, &id, owner, Role::Owner);
    Ok(())
}

/// Sets `member`'s role in tenant `tenant_id` as the app decided it (added, invitation accepted, role
/// changed). Every change replaces the membership row, so its `id` grows with each change of a member's
/// rights: the gateway uses it as the `membership_version` of the tokens it mints. Trusted gateways only.
#[reducer]
pub fn sync_member(ctx: &ReducerContext, tenant_id: String, member: Identity, role: Role) -> Result<(), String> {
    require_trusted_gateway(ctx, "sync members")?;
    if ctx.db.tenant().id().find(&tenant_id).is_none() {
        return Err(format!("no such tenant: {tenant_id}"));
    }
    sync_membership(ctx, &tenant_id, member, role);
    Ok(())
}

/// Removes `member` from tenant `tenant_id` as the app did; a member who is not there is no error (the
/// app may retry a hook). Trusted gateways only.
#[reducer]
pub fn sync_remove_member(ctx: &ReducerContext, tenant_id: String, member: Identity) -> Result<(), String> {
    require_trusted_gateway(ctx, "sync members")?;
    if let Some(m) = ctx.db.membership().member().filter(&member).find(|m| m.tenant_id == tenant_id) {
        ctx.db.membership().id().delete(m.id);
        audit(ctx, &tenant_id, "member.sync_remove", member.to_hex().to_string());
    }
    Ok(())
}

fn sync_membership(ctx: &ReducerContext, tenant_id: &str, member: Identity, role: Role) {
    let existing = ctx.db.membership().member().filter(&member).find(|m| m.tenant_id == tenant_id);
    if existing.as_ref().is_some_and(|m| m.role == role) {
        return; // unchanged: keep the row, and so the version
    }
    let added_at = existing.as_ref().map_or(ctx.timestamp, |m| m.added_at);
    if let Some(m) = existing {
        ctx.db.membership().id().delete(m.id);
    }
    ctx.db.membership().insert(Membership { id: 0, tenant_id: tenant_id.to_string(), member, role, added_at });
    audit(ctx, tenant_id, "member.sync", member.to_hex().to_string());
}

// ---------------------------------------------------------------------------------------------------
// Idempotence probe for outage tests: how often did a call with this key execute?
// ---------------------------------------------------------------------------------------------------

#[table(name = once_marker, public)]
pub struct OnceMarker {
    #[primary_key]
    pub key: String,
    /// 1 after the first execution; more means the same call was executed again.
    pub executions: u32,
    pub first_at: Timestamp,
}

/// Counts executions per `key`: a test sends each key once and checks `executions` stays 1.
#[reducer]
pub fn record_once(ctx: &ReducerContext, key: String) -> Result<(), String> {
    match ctx.db.once_marker().key().find(&key) {
        Some(marker) => {
            ctx.db.once_marker().key().update(OnceMarker { executions: marker.executions + 1, ..marker });
        }
        None => {
            ctx.db.once_marker().insert(OnceMarker { key, executions: 1, first_at: ctx.timestamp });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Every column type a generic decoder must handle
// ---------------------------------------------------------------------------------------------------

#[derive(SpacetimeType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Red,
    Green,
    Blue,
}

#[derive(SpacetimeType, Clone, Debug, PartialEq)]
pub struct Size {
    pub width: f64,
    pub height: f64,
}

/// An enum whose variants carry payloads of different shapes (and one carries none).
#[derive(SpacetimeType, Clone, Debug, PartialEq)]
pub enum Shape {
    Circle(f64),
    Rect(Size),
    Label(String),
    Empty,
}

#[derive(SpacetimeType, Clone, Debug, PartialEq)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

#[derive(SpacetimeType, Clone, Debug, PartialEq)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub geo: Option<Geo>,
    pub tags: Vec<String>,
}

#[table(name = all_types, public)]
#[derive(Clone)]
pub struct AllTypes {
    #[primary_key]
    pub id: u32,
    pub tenant_id: String,
    pub a_u8: u8,
    pub a_u16: u16,
    pub a_u32: u32,
    pub a_u64: u64,
    pub a_u128: u128,
    pub a_u256: u256,
    pub a_i8: i8,
    pub a_i16: i16,
    pub a_i32: i32,
    pub a_i64: i64,
    pub a_i128: i128,
    pub a_i256: i256,
    pub a_f32: f32,
    pub a_f64: f64,
    pub a_bool: bool,
    pub a_string: String,
    pub a_identity: Identity,
    pub a_connection_id: ConnectionId,
    pub a_timestamp: Timestamp,
    pub a_duration: TimeDuration,
    pub maybe_string: Option<String>,
    pub maybe_i32: Option<i32>,
    pub bytes: Vec<u8>,
    pub strings: Vec<String>,
    pub color: Color,
    pub shape: Shape,
    pub address: Address,
    pub shapes: Vec<Shape>,
}

fn upsert_all_types(ctx: &ReducerContext, row: AllTypes) {
    if ctx.db.all_types().id().find(row.id).is_some() {
        ctx.db.all_types().id().update(row);
    } else {
        ctx.db.all_types().insert(row);
    }
}

/// Inserts or replaces a whole `all_types` row: the reducer argument is itself a product of every type.
#[reducer]
pub fn insert_all_types(ctx: &ReducerContext, row: AllTypes) -> Result<(), String> {
    upsert_all_types(ctx, row);
    Ok(())
}

/// Creates or updates row `id` from several scalar and composite arguments, leaving the other columns
/// at defaults. Tests use it to check argument encoding type by type.
#[reducer]
#[allow(clippy::too_many_arguments)]
pub fn set_scalars(
    ctx: &ReducerContext,
    id: u32,
    a_u64: u64,
    a_i128: i128,
    a_identity: Identity,
    a_timestamp: Timestamp,
    maybe_string: Option<String>,
    bytes: Vec<u8>,
    color: Color,
    shape: Shape,
) -> Result<(), String> {
    let base = ctx.db.all_types().id().find(id).unwrap_or_else(|| AllTypes {
        id,
        tenant_id: String::new(),
        a_u8: 0,
        a_u16: 0,
        a_u32: 0,
        a_u64: 0,
        a_u128: 0,
        a_u256: u256::ZERO,
        a_i8: 0,
        a_i16: 0,
        a_i32: 0,
        a_i64: 0,
        a_i128: 0,
        a_i256: i256::ZERO,
        a_f32: 0.0,
        a_f64: 0.0,
        a_bool: false,
        a_string: String::new(),
        a_identity: Identity::ZERO,
        a_connection_id: ConnectionId::ZERO,
        a_timestamp: Timestamp::UNIX_EPOCH,
        a_duration: TimeDuration::from_micros(0),
        maybe_string: None,
        maybe_i32: None,
        bytes: Vec::new(),
        strings: Vec::new(),
        color: Color::Red,
        shape: Shape::Empty,
        address: Address { street: String::new(), city: String::new(), geo: None, tags: Vec::new() },
        shapes: Vec::new(),
    });
    upsert_all_types(ctx, AllTypes {
        a_u64,
        a_i128,
        a_identity,
        a_timestamp,
        maybe_string,
        bytes,
        color,
        shape,
        ..base
    });
    Ok(())
}

#[reducer]
pub fn delete_all_types(ctx: &ReducerContext, id: u32) -> Result<(), String> {
    if !ctx.db.all_types().id().delete(id) {
        return Err(format!("no all_types row with id {id}"));
    }
    Ok(())
}
