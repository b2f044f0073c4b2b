// The four enterprise identity providers the stand-ins imitate: where each puts its issuer, which
// algorithm it signs with, what its `sub` looks like and which other claims its ID tokens carry.
// docs/enterprise-identity.md compares these shapes with what the real providers send (with sources).
//
// Users are fixed (a stand-in is a fresh, known realm/tenant/workspace/environment), so docs and tests can
// name them; the issuer's host:port changes per start, so Identities never collide between runs.

import { createHash } from 'node:crypto';

/** Where a client of the stand-ins is redirected after sign-in; never contacted (the flow reads the
 * `Location` header). */
export const REDIRECT_URI = 'http://127.0.0.1/oidc-standins/callback';

/** A pairwise `sub` as Entra ID issues it: opaque, 43 base64url characters, different per application. */
export function pairwiseSubject(accountId, sector, salt) {
  return createHash('sha256').update(`${sector}|${accountId}|${salt}`).digest('base64url');
}

/** The standard person claims (OIDC Core §5.1) both Keycloak and Google send. */
function person(u) {
  return { email: u.email, email_verified: true, name: `${u.given} ${u.family}`, given_name: u.given, family_name: u.family };
}

/**
 * Keycloak: issuer `<base>/realms/<realm>`, `sub` the user's UUID, RS256 (the realm's default key),
 * `preferred_username`, `email`, `email_verified`, `name`, `given_name`, `family_name`.
 */
const keycloak = {
  name: 'keycloak',
  path: '/realms/acme',
  alg: 'RS256',
  clientId: 'spacetime-app',
  users: [
    { username: 'alice', accountId: '5b0f6c1e-2a4d-4c8e-9f3a-7d2e1b6a9c40', given: 'Alice', family: 'Archer', email: 'alice@acme.example' },
    { username: 'bob', accountId: 'c7a94e2d-8b15-4f60-a3d1-0e5f9b2c7d18', given: 'Bob', family: 'Baker', email: 'bob@acme.example' },
  ],
  claims: (u) => ({ preferred_username: u.username, ...person(u) }),
  scopes: { openid: [], email: ['email', 'email_verified'], profile: ['preferred_username', 'name', 'given_name', 'family_name'] },
};

/**
 * Entra ID (v2.0 endpoint) for one tenant: issuer `<base>/<tenant id>/v2.0`, RS256, `sub` pairwise per
 * application, `oid` the user's object id (stable across applications), `tid` the tenant, `ver: "2.0"`,
 * `preferred_username` (the sign-in name, mutable), `name`, `email` (optional claim).
 */
function entraTenant({ name, tenantId, clientId, users }) {
  return {
    name,
    path: `/${tenantId}/v2.0`,
    alg: 'RS256',
    clientId,
    pairwise: true,
    tenantId,
    users,
    claims: (u) => ({ oid: u.accountId, tid: tenantId, ver: '2.0', preferred_username: u.upn, name: u.name, email: u.upn }),
    scopes: { openid: ['oid', 'tid', 'ver'], email: ['email'], profile: ['preferred_username', 'name'] },
  };
}

/** The Entra stand-in: the Contoso tenant. */
const entra = entraTenant({
  name: 'entra',
  tenantId: '3c9a5e14-6f2b-4d8a-b0e7-91d4c2f8a653',
  clientId: '0a7e3c58-91d4-4b2f-8e6a-5c1d9f7b2e40',
  users: [
    { username: 'alice', accountId: '9e1d4b7a-3c52-4f08-b6e9-2a7d5c0f8e13', name: 'Alice Archer', upn: 'alice@contoso.example' },
    { username: 'carol', accountId: 'f4c8a2e6-5d1b-4a97-8c3e-6b0d2f9a1e57', name: 'Carol Chen', upn: 'carol@contoso.example' },
  ],
});

/** A second Entra tenant (Fabrikam), another customer's directory: its own `tid`, issuer and users. Not
 * started by default; customer-SSO tests use it to show one tenant's users stay out of another's
 * organization. */
const entraFabrikam = entraTenant({
  name: 'entra-fabrikam',
  tenantId: '8d2f6b90-1e4c-4a7b-9c35-e0a1b7d4f286',
  clientId: '5f1b8d27-6c3e-4e90-a2d4-7b9e0c3f1a68',
  users: [{ username: 'dan', accountId: '2b7e9c14-0d6a-4f35-8e21-c4a9f7b3d560', name: 'Dan Dorsey', upn: 'dan@fabrikam.example' }],
});

/**
 * Google Workspace: issuer at the host's root (like `https://accounts.google.com`), RS256, `sub` a
 * numeric string (up to 21 digits) never reused, `hd` the Workspace domain, `email`, `email_verified`.
 */
const google = {
  name: 'google',
  path: '',
  alg: 'RS256',
  clientId: '407408718192-standin.apps.googleusercontent.com',
  users: [
    { username: 'alice', accountId: '110248495921238986420', given: 'Alice', family: 'Archer', email: 'alice@example.org' },
    { username: 'dave', accountId: '104733960571523849162', given: 'Dave', family: 'Diaz', email: 'dave@example.org' },
  ],
  claims: (u) => ({ hd: u.email.split('@')[1], ...person(u) }),
  scopes: { openid: ['hd'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
};

/**
 * A WorkOS-style broker (AuthKit): issuer `<base>/user_management/<client id>`, `sub` a `user_<ULID>`,
 * the organization the user signed in through as `org_id` (`org_<ULID>`), `role`, `permissions`. Signs
 * with ES256 here (the other stand-ins cover RS256; see the docs for what WorkOS itself uses).
 */
const WORKOS_CLIENT = 'client_01JD4Z7W3QK8V2N6M5T0R9XBCE';
const workos = {
  name: 'workos',
  path: `/user_management/${WORKOS_CLIENT}`,
  alg: 'ES256',
  clientId: WORKOS_CLIENT,
  users: [
    { username: 'alice', accountId: 'user_01JD4Z8A1B2C3D4E5F6G7H8J9K', org: 'org_01JD4Z9M8N7P6Q5R4S3T2V1W0X', role: 'admin', email: 'alice@initech.example' },
    { username: 'erin', accountId: 'user_01JD4ZB0C1D2E3F4G5H6J7K8M9', org: 'org_01JD4Z9M8N7P6Q5R4S3T2V1W0X', role: 'member', email: 'erin@initech.example' },
  ],
  claims: (u) => ({
    org_id: u.org,
    role: u.role,
    permissions: u.role === 'admin' ? ['documents:read', 'documents:write', 'members:manage'] : ['documents:read'],
    email: u.email,
    email_verified: true,
  }),
  scopes: { openid: ['org_id', 'role', 'permissions'], email: ['email', 'email_verified'], profile: [] },
};

/** Every shape, by name. */
export const SHAPES = { keycloak, entra, google, workos, 'entra-fabrikam': entraFabrikam };

/** The stand-ins started when none are named: one of each provider. */
export const DEFAULT_NAMES = ['keycloak', 'entra', 'google', 'workos'];

