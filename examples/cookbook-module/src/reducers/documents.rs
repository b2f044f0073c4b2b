//! Documents: the tenant data the guards protect. Writing needs `document.write` in the document's
//! tenant, whoever calls and through whichever path.

use spacetimedb::{reducer, ReducerContext, Table};

use crate::audit;
use crate::authz::{authorize, authorize_actor};
use crate::caller::{resolve, ActorClaim};
use crate::tables::{document, Document};

const MAX_TITLE_BYTES: usize = 200;
const MAX_BODY_BYTES: usize = 64 * 1024;

fn check_content(title: &str, body: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("title must not be empty".into());
    }
    if title.len() > MAX_TITLE_BYTES {
        return Err(format!("title is {} bytes, the limit is {MAX_TITLE_BYTES}", title.len()));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("body is {} bytes, the limit is {MAX_BODY_BYTES}", body.len()));
    }
    Ok(())
}

#[reducer]
pub fn create_document(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    tenant_id: String,
    title: String,
    body: String,
) -> Result<(), String> {
    let allowed = authorize_actor(ctx, actor, &tenant_id, "document.write")?;
    check_content(&title, &body)?;
    let doc = ctx.db.document().insert(Document {
        id: 0,
        tenant_id,
        title,
        body,
        owner: allowed.caller.effective.clone(),
        updated_at: ctx.timestamp,
        version: 1,
    });
    audit::record(ctx, &allowed, "create_document", "document.create", doc.id.to_string());
    Ok(())
}

fn find(ctx: &ReducerContext, id: u64) -> Result<Document, String> {
    ctx.db.document().id().find(id).ok_or_else(|| format!("no such document: {id}"))
}

/// Updates a document; the permission is checked in the document's own tenant, so a key or member of
/// another tenant is refused.
#[reducer]
pub fn update_document(
    ctx: &ReducerContext,
    actor: Option<ActorClaim>,
    id: u64,
    title: String,
    body: String,
) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    let doc = find(ctx, id)?;
    let allowed = authorize(ctx, &caller, &doc.tenant_id, "document.write")?;
    check_content(&title, &body)?;
    ctx.db.document().id().update(Document { title, body, updated_at: ctx.timestamp, version: doc.version + 1, ..doc });
    audit::record(ctx, &allowed, "update_document", "document.update", id.to_string());
    Ok(())
}

#[reducer]
pub fn delete_document(ctx: &ReducerContext, actor: Option<ActorClaim>, id: u64) -> Result<(), String> {
    let caller = resolve(ctx, actor)?;
    let doc = find(ctx, id)?;
    let allowed = authorize(ctx, &caller, &doc.tenant_id, "document.write")?;
    ctx.db.document().id().delete(id);
    audit::record(ctx, &allowed, "delete_document", "document.delete", id.to_string());
    Ok(())
}
