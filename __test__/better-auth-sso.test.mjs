// Customer SSO with Better Auth (examples/better-auth-idp/sso.mjs): a real Better Auth 1.7.5 with the
// organization and @better-auth/sso plugins on a private PostgreSQL database, served over HTTP, and two
// Entra ID stand-ins (tools/oidc-standins: the Contoso and Fabrikam tenants, real OpenID Providers). Each
// organization registers its tenant as its OIDC provider; the test is the browser: it drives Better
// Auth's sign-in/sso → the tenant's authorize and login → Better Auth's callback over HTTP, following
// redirects and keeping each host's cookies. The member @better-auth/sso provisions reaches the module's
// `membership` through `spacetime.ssoMembership()` and the organization hooks; the session's token is
// accepted by the real SpacetimeDB as the Identity the broker mints.

import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { organization } from 'better-auth/plugins';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerSso, registerEntraTenant } from '../examples/better-auth-idp/sso.mjs';
import { betterAuthGateway } from '../lib/better-auth.js';
import { privateDatabase, serveAuth, signUp, trustedGateway } from './helpers/better-auth.mjs';
import { startStandIns } from './helpers/oidc.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';
import { until } from './helpers/wait.mjs';

/** Where Better Auth sends the browser after SSO, and after a failed one (the app's pages). */
const SIGNED_IN = '/signed-in';
const SSO_FAILED = '/sso-failed';
/** Each organization's provider id in Better Auth, and the stand-in tenant it registers. */
const TENANTS = { contoso: 'entra', fabrikam: 'entra-fabrikam' };
/** The most redirects one SSO sign-in follows (sign-in → authorize → login → resume → callback → app). */
const MAX_REDIRECTS = 10;
/** Directory users the app makes admins (from the ID token's e-mail, as `getRole` sees it). */
const ADMINS = new Set(['carol@contoso.example']);

let database;
let closeGateway;
let broker;
let gateway;
let web;
let idp;
let auth;
let spacetime;
const orgs = {};
/** Each organization's admin (the session that registered its provider). */
const admins = {};

/** Cookies per origin (the app's and each provider's), as a browser keeps them. */
function browserJar() {
  const byOrigin = new Map();
  const of = (url) => byOrigin.get(new URL(url).origin) ?? byOrigin.set(new URL(url).origin, new Map()).get(new URL(url).origin);
  return {
    store(url, response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        of(url).set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
    },
    header: (url) => [...of(url)].map(([k, v]) => `${k}=${v}`).join('; '),
  };
}

/**
 * Signs in through SSO as a browser would: POST sign-in/sso (`body`: providerId or email, loginHint),
 * then every redirect (the tenant's login accepts the `login_hint` user) until the app's own page.
 * Resolves `{ landed: URL, cookie }` (`cookie`: the app's cookies, with the Better Auth session).
 */
async function ssoSignIn(body) {
  const jar = browserJar();
  const start = `${web.url}/api/auth/sign-in/sso`;
  const started = await fetch(start, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: web.url },
    body: JSON.stringify({ callbackURL: `${web.url}${SIGNED_IN}`, errorCallbackURL: `${web.url}${SSO_FAILED}`, ...body }),
  });
  jar.store(start, started);
  const answer = await started.json();
  if (started.status !== 200) return { status: started.status, error: answer };
  let url = answer.url;
  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    if (url.startsWith(web.url) && !new URL(url).pathname.startsWith('/api/auth/')) {
      return { landed: new URL(url), cookie: jar.header(web.url) };
    }
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.store(url, response);
    const location = response.headers.get('location');
    if (!location) throw new Error(`SSO sign-in: HTTP ${response.status} at ${url} without a redirect: ${(await response.text()).replace(/<[^>]*>|\s+/g, " ").slice(-400)}`);
    url = new URL(location, url).href;
  }
  throw new Error(`SSO sign-in: more than ${MAX_REDIRECTS} redirects`);
}

/** The Better Auth session of the app's cookies (the app's own check). */
const sessionOf = (cookie) => auth.api.getSession({ headers: new Headers({ cookie }) });

/** Better Auth's role of `userId` in the organization (its `member` table), or undefined. */
async function memberRole(userId, org) {
  const { adapter } = await auth.$context;
  const member = await adapter.findOne({ model: 'member', where: [{ field: 'userId', value: userId }, { field: 'organizationId', value: org.id }] });
  return member?.role;
}

/** The module's role of the user in the organization, as the gateway's projection of `membership` has it. */
const moduleRole = (userId, org) => gateway.rows('membership', { tenant_id: org.id, member: broker.identityFor(userId) })[0]?.role;

beforeAll(async () => {
  database = await privateDatabase('sso');
  ({ broker, gateway, close: closeGateway } = await trustedGateway('sso suite', (issuer) => ({
    subscriptions: ['SELECT * FROM tenant', 'SELECT * FROM membership', 'SELECT * FROM document'],
    userCalls: { verifier: issuer },
  })));
  spacetime = betterAuthGateway({ auth: () => auth, gateway, broker });
  const page = (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('app page\n');
  web = await serveAuth(() => auth, page);
  // Each tenant's app registration accepts the app's SSO callbacks (Better Auth: <baseURL>/sso/callback/<providerId>).
  idp = await startStandIns(Object.values(TENANTS), { redirectUris: Object.keys(TENANTS).map((id) => `${web.url}/api/auth/sso/callback/${id}`) });

  const options = {
    database: database.pool,
    baseURL: web.url,
    secret: 'a test secret that is long enough for better auth',
    emailAndPassword: { enabled: true },
    // Better Auth fetches a provider's discovery document only from trusted origins.
    trustedOrigins: Object.values(TENANTS).map((name) => new URL(idp.providers[name].issuer).origin),
    plugins: [
      organization({ organizationHooks: spacetime.organizationHooks }),
      ...customerSso({ spacetime, roleOf: ({ userInfo }) => (ADMINS.has(userInfo.email) ? 'admin' : 'member') }),
    ],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  auth = betterAuth(options);

  for (const [providerId, name] of Object.entries(TENANTS)) {
    const tenant = idp.providers[name];
    const admin = await signUp(auth, `${providerId}-admin`);
    const org = await auth.api.createOrganization({ body: { name: providerId, slug: uniqueId(providerId) }, headers: admin.headers });
    const registered = await registerEntraTenant(auth, {
      headers: admin.headers,
      organizationId: org.id,
      providerId,
      tenantId: tenant.tenantId,
      domain: `${providerId}.example`,
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      authority: new URL(tenant.issuer).origin,
    });
    expect(registered).toMatchObject({ providerId, organizationId: org.id, issuer: tenant.issuer, redirectURI: `${web.url}/api/auth/sso/callback/${providerId}` });
    orgs[providerId] = org;
    admins[providerId] = admin;
  }
}, 60_000);
afterAll(async () => {
  await idp?.stop();
  await web?.close();
  await closeGateway?.();
  await database?.drop();
});

describe('SSO through the customer’s Entra tenant', () => {
  it('a Contoso user signing in by e-mail domain lands in Contoso (Better Auth and the module) and gets tokens SpacetimeDB accepts as the broker’s Identity', async () => {
    const signedIn = await ssoSignIn({ email: 'alice@contoso.example', loginHint: 'alice' });
    expect(signedIn.landed?.pathname).toBe(SIGNED_IN);
    const session = await sessionOf(signedIn.cookie);
    expect(session.user).toMatchObject({ email: 'alice@contoso.example', name: 'Alice Archer' });
    const userId = session.user.id;
    // Linked by the tenant's pairwise `sub` (43 base64url characters), not by the e-mail address.
    const { adapter } = await auth.$context;
    const account = await adapter.findOne({ model: 'account', where: [{ field: 'userId', value: userId }] });
    expect(account).toMatchObject({ providerId: 'contoso', accountId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    expect(await memberRole(userId, orgs.contoso)).toBe('member');
    await until(() => moduleRole(userId, orgs.contoso) === 'Member', "the module's membership");
    expect(await memberRole(userId, orgs.fabrikam)).toBeUndefined();
    expect(moduleRole(userId, orgs.fabrikam)).toBeUndefined();

    const minted = await spacetime.accessToken({ headers: new Headers({ cookie: signedIn.cookie }), organizationId: orgs.contoso.id });
    expect(minted.identity).toBe(broker.identityFor(userId));
    const title = uniqueId('by alice');
    await gateway.callReducer('create_document', [orgs.contoso.id, title, ''], { token: minted.token });
    await until(() => gateway.rows('document', { title }).length === 1, 'the document');
    expect(gateway.rows('document', { title })[0]).toMatchObject({ owner: broker.identityFor(userId), tenant_id: orgs.contoso.id });
  });

  it('the role comes from getRole (an admin of the directory is Admin in the module); a second sign-in keeps one membership', async () => {
    const first = await ssoSignIn({ providerId: 'contoso', loginHint: 'carol' });
    expect(first.landed?.pathname).toBe(SIGNED_IN);
    const userId = (await sessionOf(first.cookie)).user.id;
    expect(await memberRole(userId, orgs.contoso)).toBe('admin');
    await until(() => moduleRole(userId, orgs.contoso) === 'Admin', 'the Admin role in the module');

    // The module out of step (as after a sync that failed): the next SSO sign-in repairs it.
    await gateway.callReducer('sync_remove_member', [orgs.contoso.id, broker.identityFor(userId)]);
    await until(() => moduleRole(userId, orgs.contoso) === undefined, 'the removed membership');
    const again = await ssoSignIn({ providerId: 'contoso', loginHint: 'carol' });
    expect((await sessionOf(again.cookie)).user.id).toBe(userId);
    await until(() => moduleRole(userId, orgs.contoso) === 'Admin', 'the repaired membership');
    expect(gateway.rows('membership', { tenant_id: orgs.contoso.id, member: broker.identityFor(userId) })).toHaveLength(1);
  });

  it('a user of another tenant (Fabrikam) lands in Fabrikam (a pending invitation first: its acceptance), never in Contoso, and cannot sign in through Contoso’s tenant', async () => {
    // A pending invitation for the e-mail address takes precedence over SSO provisioning.
    const invitation = await auth.api.createInvitation({ body: { email: 'dan@fabrikam.example', role: 'member', organizationId: orgs.fabrikam.id }, headers: admins.fabrikam.headers });
    const signedIn = await ssoSignIn({ providerId: 'fabrikam', loginHint: 'dan' });
    expect(signedIn.landed?.pathname).toBe(SIGNED_IN);
    const danHeaders = new Headers({ cookie: signedIn.cookie });
    const userId = (await sessionOf(signedIn.cookie)).user.id;
    expect(await memberRole(userId, orgs.fabrikam)).toBeUndefined();
    expect(moduleRole(userId, orgs.fabrikam)).toBeUndefined();
    await auth.api.acceptInvitation({ body: { invitationId: invitation.id }, headers: danHeaders });
    expect(await memberRole(userId, orgs.fabrikam)).toBe('member');
    await until(() => moduleRole(userId, orgs.fabrikam) === 'Member', "the module's Fabrikam membership");
    expect(await memberRole(userId, orgs.contoso)).toBeUndefined();
    expect(moduleRole(userId, orgs.contoso)).toBeUndefined();
    await expect(spacetime.accessToken({ headers: danHeaders, organizationId: orgs.contoso.id })).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });

    // Contoso's provider is Contoso's tenant: its login knows no Fabrikam user; Better Auth sends the
    // browser to the app's error page with the provider's error, and signs nobody in.
    const refused = await ssoSignIn({ providerId: 'contoso', loginHint: 'dan' });
    expect(refused.landed?.pathname).toBe(SSO_FAILED);
    expect(refused.landed.searchParams.get('error')).toBe('access_denied');
    expect(await sessionOf(refused.cookie)).toBeNull();
    const members = await (await auth.$context).adapter.findMany({ model: 'member', where: [{ field: 'organizationId', value: orgs.contoso.id }] });
    expect(members.map((m) => m.userId)).not.toContain(userId);
  });

  it('an unknown provider, an e-mail domain no organization registered, or an untrusted issuer is refused with the reason', async () => {
    const unknown = await ssoSignIn({ providerId: 'no-such-provider', loginHint: 'alice' });
    expect(unknown).toMatchObject({ status: 404, error: { message: 'No provider found for the issuer' } });
    const stranger = await ssoSignIn({ email: 'eve@initech.example', loginHint: 'eve' });
    expect(stranger).toMatchObject({ status: 404, error: { message: 'No provider found for the issuer' } });
    const nothing = await ssoSignIn({ loginHint: 'alice' });
    expect(nothing).toMatchObject({ status: 400, error: { message: 'email, organizationSlug, domain or providerId is required' } });

    // The same tenant under an origin the app does not trust (`localhost`, not 127.0.0.1): not registered.
    const tenant = idp.providers.entra;
    const admin = await signUp(auth, 'untrusted-admin');
    const org = await auth.api.createOrganization({ body: { name: 'untrusted', slug: uniqueId('untrusted') }, headers: admin.headers });
    const untrusted = registerEntraTenant(auth, {
      headers: admin.headers,
      organizationId: org.id,
      providerId: uniqueId('untrusted'),
      tenantId: tenant.tenantId,
      domain: 'untrusted.example',
      clientId: tenant.clientId,
      clientSecret: tenant.clientSecret,
      authority: new URL(tenant.issuer).origin.replace('127.0.0.1', 'localhost'),
    });
    await expect(untrusted).rejects.toMatchObject({ statusCode: 400, body: { code: 'discovery_untrusted_origin', message: expect.stringContaining('Untrusted OIDC discovery URL') } });
  });
});
