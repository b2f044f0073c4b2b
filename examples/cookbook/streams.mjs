// Which SSE stream a member gets: the gateway's stream selection expresses what the member's role grants,
// read from the projection the gateway holds (the module's own tables), and names the rows that
// authorization depends on so the relay ends the stream — in commit order — when they change.
//
// Quoted by docs/authorization-cookbook.md; exercised by __test__/cookbook.visibility.test.mjs.

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

/**
 * `gateway.stream()` options for `actor` in `tenantId`, or `null` when their role grants no read access
 * (answer 403). `sid` lets `revoke({ sid })` end the session's streams; `act` (an impersonating admin)
 * marks every frame; `grantId` (their impersonation grant) ends the stream when the grant changes.
 */
export function memberStreamOptions(gateway, { actor, tenantId, sid, act, grantId, lastEventId }) {
  const held = permissionsOf(gateway, actor, tenantId);
  if (!held) return null;
  const tables = [...new Set([...held.permissions].flatMap((p) => READ_TABLES[p] ?? []))].sort();
  if (tables.length === 0) return null;
  const revokeOn = {
    membership: { id: held.membership.id },
    role_permission: { role_id: held.membership.role_id },
    ...(grantId !== undefined ? { impersonation_grant: { id: grantId } } : {}),
  };
  return {
    tenantId,
    tables,
    revokeOn,
    lastEventId,
    principal: { sub: actor, ...(sid ? { sid } : {}), ...(act ? { act: { sub: act } } : {}) },
  };
}
