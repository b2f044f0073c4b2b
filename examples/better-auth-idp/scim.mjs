// SCIM provisioning into Better Auth organizations, and from there into the module's `membership`
// (docs/better-auth.md, "SCIM provisioning"): a customer's directory (Entra ID, Okta, Google Workspace …)
// creates users and Groups; Group memberships become organization members through
// `spacetime.scimProjection`, and the organization hooks carry them into SpacetimeDB.
// __test__/better-auth-scim.test.mjs runs this file against a real SpacetimeDB.
import { scim } from '@better-auth/scim';
import { randomUUID } from 'node:crypto';

const ALL_SCOPES = ['scim.users.read', 'scim.users.write', 'scim.groups.read', 'scim.groups.write'];

/**
 * The SCIM plugin with connections created at run time, one per organization that turns SCIM on
 * (`enableScim`). `spacetime` is your `betterAuthGateway(…)`; `roleOfGroup(group, { organizationId })`
 * names the Better Auth role a directory Group grants (`undefined`: none) — key it on the Group's
 * `externalId` (the directory's immutable id), never on its renameable `displayName`.
 */
export function scimProvisioning({ spacetime, credentialHashSecret, roleOfGroup }) {
  return scim({
    connections: [],
    // Connections and their hashed bearer tokens live in Better Auth's database.
    managedConnections: { credentialHashSecret },
    projection: spacetime.scimProjection({ roleOfGroup }),
  });
}

/**
 * An organization's admin turns SCIM on: a connection whose provisioning domain is the organization, and
 * its bearer token (shown once: give it to the directory with the base URL `<baseURL>/api/auth/scim/v2`).
 */
export async function enableScim(auth, { organizationId, adminUserId, expiresAt }) {
  const { connection, token } = await auth.api.createSCIMManagedConnection({
    body: { creationRequestId: randomUUID(), provisioningDomainId: organizationId, actorId: adminUserId, scopes: ALL_SCOPES, expiresAt },
  });
  return { connectionId: connection.connectionId, token };
}
