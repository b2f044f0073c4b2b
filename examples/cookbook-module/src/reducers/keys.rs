//! API-key grants. The app verifies the key itself (hashed, e.g. Better Auth's api-key plugin) and mints
//! a short-lived token for its robot, `sub = robot:<keyId>` (or, acting for a user, `sub = user` with
//! `act.sub = robot:<keyId>`). The module re-checks the grant here on every call, so revoking a key stops
//! its next call while its token is still valid.

use spacetimedb::{reducer, ReducerContext, Table, Timestamp};

use crate::audit;
use crate::authz::{authorize, check_permission_name, role_grants};
use crate::caller::{resolve, ActorClaim};
use crate::tables::{api_key_grant, ApiKeyGrant};

const MAX_KEY_ID_BYTES: usize = 100;

fn check_key_id(key_id: &str) -> Result<(), String> {
    let ok = !key_id.is_empty()
        && key_id.len() <= MAX_KEY_ID_BYTES
        && key_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(format!("key id must be 1 to {MAX_KEY_ID_BYTES} characters of A-Z a-z 0-9 _ - ."))
    }
}

/// Records a key's grant: its robot may act in `tenant_id` with `permissions` until `expires_at`, and with
/// `can_delegate` for users of the tenant. Only a person acting as themselves, holding `api_key.manage`
/// and every permission handed to the key.
#[reducer]
pub fn create_api_key(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    key_id: String,
    permissions: Vec<String>,
    expires_at: Timestamp,
    can_delegate: bool,
) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    caller.require_human("create api keys")?;
    let allowed = authorize(ctx, &caller, &tenant_id, "api_key.manage")?;
    check_key_id(&key_id)?;
    if permissions.is_empty() {
        return Err("an api key needs at least one permission".into());
    }
    for permission in &permissions {
        check_permission_name(permission)?;
        if !role_grants(ctx, &caller.effective, &tenant_id, permission)? {
            return Err(format!(
                "{} may not give a key {permission}: their own role does not grant it",
                caller.effective
            ));
        }
    }
    if expires_at.to_micros_since_unix_epoch() <= ctx.timestamp.to_micros_since_unix_epoch() {
        return Err(format!("expires_at {expires_at} is not in the future"));
    }
    if ctx.db.api_key_grant().key_id().find(key_id.clone()).is_some() {
        return Err(format!("api key {key_id} already exists"));
    }
    ctx.db.api_key_grant().insert(ApiKeyGrant {
        key_id: key_id.clone(),
        tenant_id,
        permissions,
        can_delegate,
        created_by: caller.actor.clone(),
        created_at: ctx.timestamp,
        expires_at,
        revoked_at: None,
        revoked_by: None,
    });
    audit::record(ctx, &allowed, "create_api_key", "api_key.create", key_id);
    Ok(())
}

/// Revokes a key: its robot's next call fails, whatever tokens it still holds.
#[reducer]
pub fn revoke_api_key(ctx: &ReducerContext, actor: Option<ActorClaim>, key_id: String) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    caller.require_human("revoke api keys")?;
    let key =
        ctx.db.api_key_grant().key_id().find(key_id.clone()).ok_or_else(|| format!("api key {key_id} has no grant"))?;
    let allowed = authorize(ctx, &caller, &key.tenant_id, "api_key.manage")?;
    if key.revoked_at.is_some() {
        return Err(format!("api key {key_id} is already revoked"));
    }
    ctx.db.api_key_grant().key_id().update(ApiKeyGrant {
        revoked_at: Some(ctx.timestamp),
        revoked_by: Some(caller.actor.clone()),
        ..key
    });
    audit::record(ctx, &allowed, "revoke_api_key", "api_key.revoke", key_id);
    Ok(())
}
