// SCIM provisioning with Better Auth (examples/better-auth-idp/scim.mjs): a real Better Auth 1.7.5 with the
// organization and @better-auth/scim plugins on a private PostgreSQL database, served over HTTP. The test
// is the directory (the IdP): real SCIM requests with the connection's bearer token create a user and
// Groups, and delete the user. Group memberships become organization members (spacetime.scimProjection),
// which the organization hooks carry into the module's `membership`; the user's live SSE stream, opened by
// a real SSE client through the app's route, ends `revoked` when the directory deletes the user.

import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { organization } from 'better-auth/plugins';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableScim, scimProvisioning } from '../examples/better-auth-idp/scim.mjs';
import { betterAuthGateway } from '../lib/better-auth.js';
import { privateDatabase, serveAuth, signUp, trustedGateway } from './helpers/better-auth.mjs';
import { connectSse, label } from './helpers/sse.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';
import { until } from './helpers/wait.mjs';

const PASSWORD = 'correct horse battery';
/** The directory's Groups (by their immutable externalId) and the Better Auth role each grants. */
const GROUP_ROLES = { 'grp-staff': 'member', 'grp-admins': 'admin' };
const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let database;
let closeGateway;
let broker;
let gateway;
let web;
let auth;
let spacetime;
let org;
let owner;
let scimToken;

/** A SCIM request as the directory sends it; resolves `{ status, body }`. */
async function scimRequest(method, path, body, token = scimToken) {
  const response = await fetch(`${web.url}/api/auth/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const scimUser = (externalId, email) => ({
  schemas: [SCIM_USER],
  externalId,
  userName: email,
  name: { givenName: externalId, familyName: 'Directory' },
  emails: [{ value: email, primary: true }],
  active: true,
});

/** Better Auth's user of that e-mail address, read as the app would. */
async function userByEmail(email) {
  const { adapter } = await auth.$context;
  return adapter.findOne({ model: 'user', where: [{ field: 'email', value: email }] });
}

/** Better Auth's role of `userId` in the organization (its `member` table), or undefined. */
async function memberRole(userId) {
  const { adapter } = await auth.$context;
  const member = await adapter.findOne({ model: 'member', where: [{ field: 'userId', value: userId }, { field: 'organizationId', value: org.id }] });
  return member?.role;
}

/** The module's role of the user in the organization, as the gateway's projection of `membership` has it. */
const moduleRole = (userId) => gateway.rows('membership', { tenant_id: org.id, member: broker.identityFor(userId) })[0]?.role;

/** The app's SSE route: the Better Auth session, checked against the `member` table, opens the stream. */
async function eventsRoute(req, res) {
  const organizationId = new URL(req.url, web.url).searchParams.get('org') ?? undefined;
  try {
    const who = await spacetime.authorize({ headers: new Headers({ cookie: req.headers.cookie ?? '' }), organizationId });
    gateway.stream({ tenantId: who.organizationId, tables: ['document'], principal: who.principal }).pipe(res);
  } catch (error) {
    res.writeHead(error.code === 'UNAUTHENTICATED' ? 401 : 403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: error.code }));
  }
}

beforeAll(async () => {
  database = await privateDatabase('scim');
  ({ broker, gateway, close: closeGateway } = await trustedGateway('scim suite', (issuer) => ({
    subscriptions: ['SELECT * FROM tenant', 'SELECT * FROM membership', 'SELECT * FROM document'],
    userCalls: { verifier: issuer },
  })));
  spacetime = betterAuthGateway({ auth: () => auth, gateway, broker });

  web = await serveAuth(() => auth, (req, res) => (req.url.startsWith('/api/events') ? eventsRoute(req, res) : res.writeHead(404).end()));
  const options = {
    database: database.pool,
    baseURL: web.url,
    secret: 'a test secret that is long enough for better auth',
    emailAndPassword: { enabled: true },
    plugins: [
      organization({ organizationHooks: spacetime.organizationHooks }),
      scimProvisioning({
        spacetime,
        credentialHashSecret: 'a credential hash secret of at least 32 characters',
        roleOfGroup: (group) => GROUP_ROLES[group.externalId],
      }),
    ],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  auth = betterAuth(options);

  owner = await signUp(auth, 'owner');
  org = await auth.api.createOrganization({ body: { name: 'Acme', slug: uniqueId('acme') }, headers: owner.headers });
  ({ token: scimToken } = await enableScim(auth, { organizationId: org.id, adminUserId: owner.user.id, expiresAt: new Date(Date.now() + 86_400_000) }));
});
afterAll(async () => {
  await web?.close();
  await closeGateway?.();
  await database?.drop();
});

describe('SCIM provisioning into an organization', () => {
  it('a Group membership makes the user a member (in Better Auth and in the module); a second Group raises the role; a replay repairs the module', async () => {
    const email = `${uniqueId('erin')}@acme.test`;
    const created = await scimRequest('POST', '/Users', scimUser(uniqueId('emp'), email));
    expect(created.status).toBe(201);
    const user = await userByEmail(email);
    expect(user).toMatchObject({ email });
    // A user in no mapped Group belongs to no organization.
    expect(await memberRole(user.id)).toBeUndefined();
    expect(moduleRole(user.id)).toBeUndefined();

    const staff = await scimRequest('POST', '/Groups', { schemas: [SCIM_GROUP], externalId: 'grp-staff', displayName: 'Staff', members: [{ value: created.body.id }] });
    expect(staff.status).toBe(201);
    expect(await memberRole(user.id)).toBe('member');
    await until(() => moduleRole(user.id) === 'Member', "the module's membership");

    const admins = await scimRequest('POST', '/Groups', { schemas: [SCIM_GROUP], externalId: 'grp-admins', displayName: 'Admins' });
    const added = await scimRequest('PATCH', `/Groups/${admins.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: created.body.id }] }] });
    expect(added.status).toBeLessThan(300);
    expect(await memberRole(user.id)).toBe('admin,member');
    await until(() => moduleRole(user.id) === 'Admin', 'the Admin role in the module');

    // The module out of step with Better Auth (as after a hook that failed once Better Auth had committed):
    // replaying the provisioning domain repairs it.
    await gateway.callReducer('sync_remove_member', [org.id, broker.identityFor(user.id)]);
    expect(moduleRole(user.id)).toBeUndefined();
    await auth.api.reconcileSCIMProjection({ body: { provisioningDomainId: org.id } });
    await until(() => moduleRole(user.id) === 'Admin', 'the repaired membership');
    expect(await memberRole(user.id)).toBe('admin,member');
  });

  it("deleting the user removes the membership and revokes the user's live SSE stream", async () => {
    const email = `${uniqueId('finn')}@acme.test`;
    const created = await scimRequest('POST', '/Users', scimUser(uniqueId('emp'), email));
    const staff = await scimRequest('GET', `/Groups?filter=${encodeURIComponent('externalId eq "grp-staff"')}`);
    expect(staff.body.Resources).toHaveLength(1);
    const joined = await scimRequest('PATCH', `/Groups/${staff.body.Resources[0].id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: created.body.id }] }] });
    expect(joined.status).toBeLessThan(300);
    const user = await userByEmail(email);
    await until(() => moduleRole(user.id) === 'Member', "the module's membership");

    // SCIM creates no sign-in method: the user's SSO would. A password stands in for it here.
    const context = await auth.$context;
    await context.internalAdapter.linkAccount({ userId: user.id, providerId: 'credential', accountId: user.id, password: await context.password.hash(PASSWORD) });
    const signIn = await fetch(`${web.url}/api/auth/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: web.url }, body: JSON.stringify({ email, password: PASSWORD }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

    const stream = await connectSse(`${web.url}/api/events?org=${org.id}`, { headers: { cookie } }).opened;
    expect(stream.status).toBe(200);
    await stream.until((frames) => frames.some((f) => label(f) === 'snapshot/end'), 10_000, 'the snapshot');

    const deleted = await scimRequest('DELETE', `/Users/${created.body.id}`);
    expect(deleted.status).toBe(204);
    await stream.until((frames, client) => client.ended, 10_000, 'the end of the stream');
    expect(stream.frames.map(label).at(-1)).toBe('revoked/membership removed');
    expect(await memberRole(user.id)).toBeUndefined();
    expect(moduleRole(user.id)).toBeUndefined();
    // Better Auth ended the user's sessions too: the route refuses the next attempt.
    const again = await fetch(`${web.url}/api/events?org=${org.id}`, { headers: { cookie } });
    expect(again.status).toBe(401);
  });

  it('leaves memberships nobody provisioned alone, and refuses a wrong bearer token', async () => {
    expect(moduleRole(owner.user.id)).toBe('Owner');
    const refused = await scimRequest('POST', '/Users', scimUser(uniqueId('emp'), `${uniqueId('mallory')}@acme.test`), 'not-the-token');
    expect(refused.status).toBe(401);
    expect(await memberRole(owner.user.id)).toBe('owner');
  });

  it('a connection whose provisioning domain is no organization fails the SCIM request and changes nothing', async () => {
    const { token } = await enableScim(auth, { organizationId: uniqueId('no-such-org'), adminUserId: owner.user.id, expiresAt: new Date(Date.now() + 86_400_000) });
    const email = `${uniqueId('gail')}@acme.test`;
    const created = await scimRequest('POST', '/Users', scimUser(uniqueId('emp'), email), token);
    expect(created).toMatchObject({ status: 500, body: { detail: 'SCIM projection reconciliation failed' } });
    expect(await userByEmail(email)).toBeNull();
    // The cause, as the app's logs would show it (the same request through the server API).
    const call = auth.api.createSCIMUser({ headers: new Headers({ authorization: `Bearer ${token}` }), body: scimUser(uniqueId('emp'), email) });
    await expect(call).rejects.toMatchObject({ cause: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('is not a Better Auth organization') } });
    expect(await userByEmail(email)).toBeNull();
  });
});
