// spacetime-gateway/better-auth against a real Better Auth (1.7.5, organization + api-key plugins) on a
// real PostgreSQL (scripts/postgres.sh, started by scripts/test.sh) and the real SpacetimeDB: the app's
// issuer is served over HTTP so SpacetimeDB validates every minted token itself.

import { apiKey } from '@better-auth/api-key';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { organization } from 'better-auth/plugins';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { betterAuthGateway } from '../lib/better-auth.js';
import { decodeToken } from '../lib/index.js';
import { signUp as signUpAs, trustedGateway } from './helpers/better-auth.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error('DATABASE_URL is not set: run the suite with `npm test` (scripts/test.sh starts PostgreSQL)');

/** A key's allowance before Better Auth refuses it, kept small so the test reaches it. */
const KEY_REQUESTS = 4;

let closeGateway;
let broker;
let gateway;
let pool;
let auth;
let spacetime;

const signUp = (name) => signUpAs(auth, name);

/** The module's role of `identity` in `tenant`, as the gateway's projection of `membership` holds it. */
const roleIn = (tenant, identity) => gateway.rows('membership', { tenant_id: tenant, member: identity })[0]?.role;

/** Resolves `read()` once it returns something (a per-user call's rows reach the service projection
 * independently of the call's own result). */
async function eventually(read, what) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    const value = read();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}
const documentTitled = (title) => eventually(() => gateway.rows('document', { title })[0], `the document ${title}`);

beforeAll(async () => {
  ({ broker, gateway, close: closeGateway } = await trustedGateway('better-auth suite', (issuer) => ({
    subscriptions: ['SELECT * FROM tenant', 'SELECT * FROM membership', 'SELECT * FROM document', 'SELECT * FROM audit_event'],
    // A user's key acts as the user on the reference module (docs/better-auth.md): accepted explicitly,
    // since the gateway refuses delegated tokens on per-user calls by default (docs/machine-actors.md).
    userCalls: { verifier: issuer, delegatedTokens: 'as-subject' },
  })));

  spacetime = betterAuthGateway({ auth: () => auth, gateway, broker });
  pool = new pg.Pool({ connectionString: DATABASE_URL });
  const options = {
    database: pool,
    baseURL: 'http://127.0.0.1:3000',
    secret: 'a test secret that is long enough for better auth',
    emailAndPassword: { enabled: true },
    plugins: [
      organization({ organizationHooks: spacetime.organizationHooks }),
      // Organization keys by default (verifyApiKey without a configId needs a default configuration).
      apiKey([
        { configId: 'default', references: 'organization', rateLimit: { enabled: true, timeWindow: 60_000, maxRequests: KEY_REQUESTS } },
        { configId: 'user', references: 'user' },
      ]),
    ],
  };
  // The app's setup step: Better Auth's tables (idempotent; the suite's second run finds them).
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  auth = betterAuth(options);
});
afterAll(async () => {
  await closeGateway?.();
  await pool?.end();
});

describe('organization hooks', () => {
  it('keep the module membership in step: create, add, role change, invitation, removal (which revokes streams)', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const carol = await signUp('carol');
    const org = await auth.api.createOrganization({ body: { name: 'Acme', slug: uniqueId('acme') }, headers: alice.headers });
    const [aliceId, bobId, carolId] = [alice, bob, carol].map((u) => broker.identityFor(u.user.id));
    expect(gateway.rows('tenant', { id: org.id })).toMatchObject([{ name: 'Acme', created_by: aliceId }]);
    expect(roleIn(org.id, aliceId)).toBe('Owner');

    const added = await auth.api.addMember({ body: { userId: bob.user.id, role: 'member', organizationId: org.id } });
    expect(roleIn(org.id, bobId)).toBe('Member');
    await auth.api.setActiveOrganization({ body: { organizationId: org.id }, headers: bob.headers });
    const before = (await spacetime.accessToken({ headers: bob.headers, organizationId: org.id })).membershipVersion;
    await auth.api.updateMemberRole({ body: { memberId: added.id, role: 'admin', organizationId: org.id }, headers: alice.headers });
    expect(roleIn(org.id, bobId)).toBe('Admin');
    const after = (await spacetime.accessToken({ headers: bob.headers, organizationId: org.id })).membershipVersion;
    expect(after).toBeGreaterThan(before);

    const invitation = await auth.api.createInvitation({ body: { email: carol.user.email, role: 'member', organizationId: org.id }, headers: alice.headers });
    await auth.api.acceptInvitation({ body: { invitationId: invitation.id }, headers: carol.headers });
    expect(roleIn(org.id, carolId)).toBe('Member');

    // Bob's live stream of the organization, opened the way an app's SSE route opens it.
    const who = await spacetime.authorize({ headers: bob.headers, organizationId: org.id });
    const stream = gateway.stream({ tenantId: org.id, tables: ['document'], principal: who.principal });
    const text = [];
    const read = (async () => {
      for await (const chunk of stream) text.push(Buffer.from(chunk).toString());
    })();
    await auth.api.removeMember({ body: { memberIdOrEmail: bob.user.email, organizationId: org.id }, headers: alice.headers });
    await read; // ends: revoked
    expect(text.join('')).toMatch(/event: revoked\ndata: [^\n]*"payload":\{"reason":"membership removed"\}\}\n\n$/);
    expect(roleIn(org.id, bobId)).toBeUndefined();
    expect(roleIn(org.id, carolId)).toBe('Member');
    // Better Auth leaves Bob's active organization as it was: only the member table tells.
    expect((await auth.api.getSession({ headers: bob.headers })).session.activeOrganizationId).toBe(org.id);
    await expect(spacetime.accessToken({ headers: bob.headers })).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });
});

describe('session tokens', () => {
  it('carry the claim contract and are accepted by SpacetimeDB for per-user calls', async () => {
    const dana = await signUp('dana');
    const org = await auth.api.createOrganization({ body: { name: 'Dana Co', slug: uniqueId('dana') }, headers: dana.headers });
    const minted = await spacetime.accessToken({ headers: dana.headers }); // the active organization
    const { payload } = decodeToken(minted.token);
    expect(payload).toMatchObject({
      sub: dana.user.id,
      sid: minted.sessionId,
      tenant_id: org.id,
      actor_ref: minted.memberId,
      membership_version: minted.membershipVersion,
      aud: 'spacetimedb',
      iss: broker.issuer,
    });
    const title = uniqueId('by dana');
    await gateway.callReducer('create_document', [org.id, title, ''], { token: minted.token });
    expect((await documentTitled(title)).owner).toBe(broker.identityFor(dana.user.id));
  });

  it('refuse a request without a session, without an organization, and outside the membership', async () => {
    await expect(spacetime.accessToken({ headers: new Headers() })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const erin = await signUp('erin');
    await expect(spacetime.accessToken({ headers: erin.headers })).rejects.toMatchObject({ code: 'NO_ORGANIZATION' });
    const frank = await signUp('frank');
    const org = await auth.api.createOrganization({ body: { name: 'Frank Co', slug: uniqueId('frank') }, headers: frank.headers });
    await expect(spacetime.accessToken({ headers: erin.headers, organizationId: org.id })).rejects.toMatchObject({ code: 'NOT_A_MEMBER', message: expect.stringContaining(org.id) });
  });
});

describe('API keys', () => {
  let owner;
  let org;
  beforeAll(async () => {
    owner = await signUp('gina');
    org = await auth.api.createOrganization({ body: { name: 'Gina Co', slug: uniqueId('gina') }, headers: owner.headers });
  });

  it("an organization's key → a robot token SpacetimeDB accepts, attributed to the robot in audit_event", async () => {
    const created = await auth.api.createApiKey({ body: { name: 'ci', organizationId: org.id }, headers: owner.headers });
    const robot = await spacetime.apiKeyToken({ headers: new Headers({ 'x-api-key': created.key }) });
    expect(robot).toMatchObject({ kind: 'robot', sub: `robot:${created.id}`, organizationId: org.id });
    expect(decodeToken(robot.token).payload).toMatchObject({ sub: `robot:${created.id}`, tenant_id: org.id, actor_ref: created.id, aud: 'spacetimedb' });
    expect(roleIn(org.id, robot.identity)).toBe('Member');

    const title = uniqueId('by the robot');
    await gateway.callReducer('create_document', [org.id, title, ''], { token: robot.token });
    const doc = await documentTitled(title);
    const [entry] = gateway.rows('audit_event', { tenant_id: org.id, action: 'document.create', subject: String(doc.id) });
    expect(entry).toMatchObject({ actor: broker.identityFor(`robot:${created.id}`), via: null });
  });

  it("a user's key → a delegated token: the user, with the robot as act", async () => {
    const created = await auth.api.createApiKey({ body: { name: 'cli', configId: 'user' }, headers: owner.headers });
    const delegated = await spacetime.apiKeyToken({ key: created.key, organizationId: org.id });
    expect(delegated).toMatchObject({ kind: 'delegated', sub: owner.user.id, actor: `robot:${created.id}` });
    expect(decodeToken(delegated.token).payload).toMatchObject({ sub: owner.user.id, act: { sub: `robot:${created.id}` }, tenant_id: org.id });
    await gateway.callReducer('create_document', [org.id, uniqueId('for gina'), ''], { token: delegated.token });
    await expect(spacetime.apiKeyToken({ key: created.key })).rejects.toMatchObject({ code: 'NO_ORGANIZATION' });
  });

  it('a missing, unknown or over-used key gets a coded error', async () => {
    await expect(spacetime.apiKeyToken({ headers: new Headers() })).rejects.toMatchObject({ code: 'API_KEY_INVALID', message: expect.stringContaining('no API key') });
    await expect(spacetime.apiKeyToken({ key: 'not-a-key-of-ours-0000000000000000000000000000000000000000000000000' })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    const created = await auth.api.createApiKey({ body: { name: 'busy', organizationId: org.id }, headers: owner.headers });
    for (let i = 0; i < KEY_REQUESTS; i++) await spacetime.apiKeyToken({ key: created.key });
    await expect(spacetime.apiKeyToken({ key: created.key })).rejects.toMatchObject({ code: 'API_KEY_RATE_LIMITED', message: expect.stringContaining('rateLimit') });
  });
});

describe('the package entry points', () => {
  it('load no Better Auth module, from the main entry or the subpath', async () => {
    const { execFile } = await import('node:child_process');
    const script = "require('spacetime-gateway'); const { betterAuthGateway } = require('spacetime-gateway/better-auth'); console.log(typeof betterAuthGateway, Object.keys(require.cache).some((k) => k.includes('better-auth/')))";
    const out = await new Promise((resolve, reject) => execFile(process.execPath, ['-e', script], { cwd: new URL('..', import.meta.url).pathname }, (e, stdout) => (e ? reject(e) : resolve(stdout))));
    expect(out.trim()).toBe('function false');
  });
});
