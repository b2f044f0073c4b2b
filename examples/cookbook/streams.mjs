// Which SSE stream a member gets. The gateway's stream selection expresses what the member's role grants,
// read from the projection the gateway holds (the module's own tables); it names the rows that
// authorization depends on (`revokeOn`), so the relay ends the stream — in commit order — when they
// change, and the client's reconnect gets the selection the new authorization gives.
//
// Quoted by docs/authorization-cookbook.md; exercised by __test__/cookbook.visibility.test.mjs and
// __test__/cookbook.impersonation.test.mjs.

/** The tables each read permission makes visible (the module's row-level security says the same). */
export const READ_TABLES = {
  'tenant.read': ['tenant'],
  'member.read': ['membership', 'role', 'role_permission'],
  'document.read': ['document'],
  'audit.read': ['audit_event'],
  'api_key.read': ['api_key_grant'],
  'impersonation.read': ['impersonation_grant'],
  'session.read': ['session_context'],
};

/**
 * The permissions `actor` holds in `tenantId` according to the gateway's projection, with the
 * membership they come from; `null` when the actor is not a member.
 */
export function permissionsOf(gateway, actor, tenantId) {
  const [membership] = gateway.rows('membership', { tenant_id: tenantId, actor });
  if (!membership) return null;
  const permissions = gateway.rows('role_permission', { role_id: membership.role_id }).map((p) => p.permission);
  return { membership, permissions: new Set(permissions) };
}

/** The live grant for `admin` to act as `target` in `tenantId` (not revoked, not expired), or `undefined`. */
export function liveImpersonation(gateway, { admin, target, tenantId, now = Date.now() }) {
  return gateway
    .rows('impersonation_grant', { tenant_id: tenantId, admin, target })
    .filter((g) => g.revoked_at === null && Date.parse(g.expires_at) > now)
    .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))[0];
}

/**
 * `gateway.stream()` options for `actor` (`{ sub, act }`, from the verified session: see actor.mjs) in
 * `tenantId`, with the impersonation grant they rely on; `null` when they may read nothing there
 * (answer 403). An admin impersonating a user needs a live grant and sees what the *user* may see; the
 * stream is marked (`principal.act`) and ends when the grant changes. Robots acting for users (delegated
 * keys) call reducers; they do not get browser streams here.
 */
export function memberStreamOptions(gateway, { actor, tenantId, sid, lastEventId }) {
  let grant;
  if (actor.act) {
    if (actor.act.startsWith('robot:')) return null;
    grant = liveImpersonation(gateway, { admin: actor.act, target: actor.sub, tenantId });
    if (!grant) return null;
  }
  const held = permissionsOf(gateway, actor.sub, tenantId);
  if (!held) return null;
  const tables = [...new Set([...held.permissions].flatMap((p) => READ_TABLES[p] ?? []))].sort();
  if (tables.length === 0) return null;
  const options = {
    tenantId,
    tables,
    revokeOn: {
      membership: { id: held.membership.id },
      role_permission: { role_id: held.membership.role_id },
      ...(grant ? { impersonation_grant: { id: grant.id } } : {}),
    },
    principal: { sub: actor.sub, ...(sid ? { sid } : {}), ...(actor.act ? { act: { sub: actor.act } } : {}) },
    ...(lastEventId ? { lastEventId } : {}),
  };
  return { options, grant };
}

/**
 * Opens the member's stream (see `memberStreamOptions`), or returns `null`. An impersonation stream is
 * also revoked when its grant expires: expiry changes no row, so a timer does it.
 */
export function openMemberStream(gateway, request) {
  const chosen = memberStreamOptions(gateway, request);
  if (!chosen) return null;
  const stream = gateway.stream(chosen.options);
  if (chosen.grant) {
    const ms = Date.parse(chosen.grant.expires_at) - Date.now();
    setTimeout(() => gateway.revoke({ streamId: stream.id }, { reason: 'impersonation_expired' }), ms).unref();
  }
  return stream;
}
