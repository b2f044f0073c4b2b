//! The cookbook's tables. Everything mutable and revocation-sensitive lives here, not in token claims:
//! memberships, roles and their permissions, API-key grants, impersonation grants, session contexts.
//!
//! Visibility on SpacetimeDB 1.3 (docs/authorization-cookbook.md): tables that only the module and the
//! database owner need are private; the others are public and filtered per caller by row-level security
//! (`visibility.rs`) through `read_grant`, the materialised "who may read what in which tenant" table.

use spacetimedb::{table, Identity, SpacetimeType, Timestamp};

/// What kind of actor an app actor id is: a person, or a machine (an API key's robot, `robot:<keyId>`).
#[derive(SpacetimeType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    Human,
    Robot,
}

/// How an action reached the module, recorded in every audit row.
#[derive(SpacetimeType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A person acting as themselves.
    Human,
    /// An API key's robot acting on its own grants.
    Robot,
    /// An API key's robot acting for a user: both the key's grants and the user's permissions apply.
    Delegated,
    /// An admin acting as a user through an `impersonation_grant`.
    Impersonation,
    /// The database owner or a trusted gateway administering the module (trust, identity links).
    Service,
}

/// The module's settings, one row (`id = 0`), written once by `init`. Private.
#[table(name = config)]
pub struct Config {
    #[primary_key]
    pub id: u32,
    /// The identity that published the database: the only one that may manage trusted gateways.
    pub owner: Identity,
}

/// Identities allowed to name an actor in a reducer's `actor` argument (gateways holding a service
/// connection). Private: only the owner reads it.
#[table(name = trusted_gateway)]
pub struct TrustedGateway {
    #[primary_key]
    pub identity: Identity,
    pub note: String,
    pub added_at: Timestamp,
}

/// Every app actor the module knows: a user id (`user_123`) or a robot (`robot:<keyId>`), its kind, and
/// whether it may act at all (`active = false` refuses every identity linked to it — a deprovisioned
/// user). Private.
#[table(name = actor_identity_map)]
pub struct ActorIdentityMap {
    #[primary_key]
    pub actor: String,
    pub kind: ActorKind,
    /// The identity most recently linked to this actor (the one its tokens give under the current issuer).
    pub primary_identity: Identity,
    pub active: bool,
    pub updated_at: Timestamp,
}

/// Issuer + subject ↔ app actor, with the Identity SpacetimeDB derives from them (computed by the
/// module with `Identity::from_claims`, never taken from the caller). One actor may hold several links:
/// an old and a new issuer during a migration, customer SSO. Private.
#[table(name = identity_link)]
pub struct IdentityLink {
    #[primary_key]
    pub identity: Identity,
    #[index(btree)]
    pub issuer: String,
    pub subject: String,
    #[index(btree)]
    pub actor: String,
    pub linked_at: Timestamp,
    /// The last use of this link: a connection or a committed call resolved through it (`None`: never
    /// used). Recorded at most once a minute (`caller::USE_GRANULARITY_MICROS`); read by
    /// `spacetime-gateway identity retire-check` to see whether an old issuer is still in use.
    pub last_seen_at: Option<Timestamp>,
}

#[table(name = tenant, public)]
pub struct Tenant {
    #[primary_key]
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A role of one tenant. Built-in roles (`owner`, `admin`, `member`, `viewer`) are created with the
/// tenant; more can be added. What a role may do is only what `role_permission` says.
#[table(name = role, public)]
pub struct Role {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[table(name = role_permission, public)]
pub struct RolePermission {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub role_id: u64,
    #[index(btree)]
    pub tenant_id: String,
    pub permission: String,
}

#[table(name = membership, public)]
pub struct Membership {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    #[index(btree)]
    pub actor: String,
    #[index(btree)]
    pub role_id: u64,
    pub added_at: Timestamp,
}

/// Materialised visibility: `reader` may read what `permission` (a `*.read` permission) covers in
/// `tenant_id`. Kept up to date by the module from memberships, role permissions, identity links and
/// trusted gateways; row-level security filters join it on `:sender`. This is the 1.3 stand-in for a
/// sender view (`#[view]`, SpacetimeDB ≥ 1.8).
#[table(name = read_grant, public)]
pub struct ReadGrant {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    #[index(btree)]
    pub reader: Identity,
    pub permission: String,
}

/// The active tenant of an app session (and who acts in it: an impersonating admin's session records
/// both). The gateway watches a session's row to end its streams when it changes.
#[table(name = session_context, public)]
pub struct SessionContext {
    #[primary_key]
    pub sid: String,
    #[index(btree)]
    pub tenant_id: String,
    /// Who acts (the admin, when impersonating).
    pub actor: String,
    /// Whose permissions apply (the impersonated user; otherwise `actor`).
    pub effective_actor: String,
    pub via: Via,
    pub updated_at: Timestamp,
}

/// `admin` may act as `target` in `tenant_id` until `expires_at`, unless revoked.
#[table(name = impersonation_grant, public)]
pub struct ImpersonationGrant {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    #[index(btree)]
    pub admin: String,
    pub target: String,
    pub granted_by: String,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

/// What an API key may do: its robot `robot:<key_id>` acts in `tenant_id` with `permissions`, and, with
/// `can_delegate`, for users of that tenant (delegated access, within both the key's and the user's
/// permissions). The key's secret never reaches the module (the app verifies keys, e.g. Better Auth's
/// api-key plugin, and mints the robot's token).
#[table(name = api_key_grant, public)]
pub struct ApiKeyGrant {
    #[primary_key]
    pub key_id: String,
    #[index(btree)]
    pub tenant_id: String,
    pub permissions: Vec<String>,
    pub can_delegate: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

#[table(name = document, public)]
pub struct Document {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    pub title: String,
    pub body: String,
    /// The effective actor that created it (an app actor id, stable across identity migrations).
    pub owner: String,
    pub updated_at: Timestamp,
    pub version: u32,
}

/// One row per change: who acted, for whom, through which path.
#[table(name = audit_event, public)]
pub struct AuditEvent {
    #[primary_key]
    #[auto_inc]
    pub id: u64,
    #[index(btree)]
    pub tenant_id: String,
    /// Who acted: the user, the robot, or the impersonating admin.
    pub actor: String,
    /// Whose rights applied: the user acted for (delegated, impersonation); otherwise `actor`.
    pub effective_actor: String,
    pub via: Via,
    /// The reducer that made the change.
    pub reducer: String,
    /// What happened, e.g. `document.create`, and to what.
    pub action: String,
    pub subject: String,
    /// The API key of a robot or delegated action, the grant of an impersonation.
    pub key_id: Option<String>,
    pub impersonation_grant: Option<u64>,
    /// The trusted gateway that named the actor (`None` when the caller acted over its own connection).
    pub gateway: Option<Identity>,
    pub at: Timestamp,
}
