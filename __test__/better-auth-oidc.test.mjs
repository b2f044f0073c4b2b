// Better Auth as the OIDC provider (examples/better-auth-idp/oidc-provider.mjs): a real Better Auth 1.7.5 with
// the `jwt` plugin (ES256) and @better-auth/oauth-provider, served over HTTP on a private PostgreSQL
// database, and a real OAuth client driving authorization code + PKCE over HTTP for a signed-in user. The
// access token goes straight to the real SpacetimeDB, which finds the keys by OIDC discovery from `iss`.

import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSpacetimeClient, spacetimeOidcProvider } from '../examples/better-auth-idp/oidc-provider.mjs';
import { decodeToken, deriveIdentity, diagnoseToken, verifyToken } from '../lib/index.js';
import { runCli } from './helpers/auth.mjs';
import { privateDatabase, serveAuth } from './helpers/better-auth.mjs';
import { httpCall, serverEnv, sql, uniqueId } from './helpers/spacetimedb.mjs';

const { url, db } = serverEnv();
/** The `resource` (RFC 8707) clients request for SpacetimeDB: the server's URL. */
const RESOURCE = url;
/** A CLI's loopback redirect (RFC 8252); the test reads the code from the redirect, nothing listens. */
const REDIRECT = 'http://127.0.0.1:8765/callback';
const PASSWORD = 'correct horse battery';

let database;
let web;
let auth;
let issuer;
let adminHeaders;
let client;

/** Better Auth's `set-cookie` headers as a `cookie` header. */
const cookieOf = (response) => response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

/** POSTs JSON to Better Auth over HTTP, as the app's sign-in page does. */
function postAuth(path, body, headers = {}) {
  return fetch(`${web.url}/api/auth${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: web.url, ...headers },
    body: JSON.stringify(body),
  });
}

/** A user who signed up and then signed in over HTTP: `{ user, cookie }`. */
async function signedInUser(name) {
  const email = `${uniqueId(name)}@example.test`;
  const signUp = await postAuth('/sign-up/email', { email, password: PASSWORD, name });
  expect(signUp.status).toBe(200);
  const signIn = await postAuth('/sign-in/email', { email, password: PASSWORD });
  expect(signIn.status).toBe(200);
  return { user: (await signIn.json()).user, cookie: cookieOf(signIn) };
}

/** Where a redirect goes: a browser navigation gets a 302, a fetch `{ redirect: true, url }`. */
async function redirectOf(response) {
  if (response.status >= 300 && response.status < 400) return new URL(response.headers.get('location'), web.url);
  const body = await response.json();
  if (!body?.url) throw new Error(`expected a redirect, got HTTP ${response.status}: ${JSON.stringify(body)}`);
  return new URL(body.url, web.url);
}

/**
 * What an OAuth client does for a signed-in user: authorization code with PKCE, through the consent page,
 * then the token request. `resource` (if given) goes in both requests. Resolves the token response (and
 * `consented`: the consent page was shown), or the error the client's redirect URI received.
 */
async function authorizationCodeFlow({ cookie, clientId, resource }) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const state = crypto.randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'openid',
    state,
    code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  if (resource) query.set('resource', resource);
  let next = await redirectOf(await fetch(`${web.url}/api/auth/oauth2/authorize?${query}`, { headers: { cookie }, redirect: 'manual' }));
  const consented = next.pathname === '/consent';
  if (consented) {
    // The app's consent page posts the user's answer with the signed query it was opened with.
    const consent = await postAuth('/oauth2/consent', { accept: true, oauth_query: next.search.slice(1) }, { cookie });
    next = await redirectOf(consent);
  }
  expect(`${next.origin}${next.pathname}`).toBe(REDIRECT);
  expect(next.searchParams.get('state')).toBe(state);
  if (next.searchParams.has('error')) return { error: next.searchParams.get('error'), description: next.searchParams.get('error_description') };
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: next.searchParams.get('code'), redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
  if (resource) form.set('resource', resource);
  const token = await fetch(`${web.url}/api/auth/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  expect(token.status).toBe(200);
  return { ...(await token.json()), consented };
}

beforeAll(async () => {
  database = await privateDatabase('oidc');
  web = await serveAuth(() => auth);
  issuer = `${web.url}/api/auth`;
  const options = {
    database: database.pool,
    baseURL: web.url,
    secret: 'a test secret that is long enough for better auth',
    emailAndPassword: { enabled: true },
    plugins: spacetimeOidcProvider({ issuer, resource: RESOURCE }),
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  auth = betterAuth(options);
  const admin = await signedInUser('admin');
  adminHeaders = new Headers({ cookie: admin.cookie });
  client = await registerSpacetimeClient(auth, { headers: adminHeaders, name: 'docs-cli', redirectUri: REDIRECT, resource: RESOURCE });
});
afterAll(async () => {
  await web?.close();
  await database?.drop();
});

describe('discovery', () => {
  it('serves <issuer>/.well-known/openid-configuration and the JWKS it names: ES256 keys, each with a kid', async () => {
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const config = await discovery.json();
    expect(config).toMatchObject({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json` });
    const { keys } = await (await fetch(config.jwks_uri)).json();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: expect.any(String) });
  });
});

describe('a client that requests the SpacetimeDB resource', () => {
  it('gets an ES256 JWT that SpacetimeDB accepts directly, as the Identity deriveIdentity(iss, sub); only aud tells it from the ID token', async () => {
    const { user, cookie } = await signedInUser('ada');
    const tokens = await authorizationCodeFlow({ cookie, clientId: client.client_id, resource: RESOURCE });
    expect(tokens.consented).toBe(true);
    const { header, payload } = decodeToken(tokens.access_token);
    expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    expect(payload).toMatchObject({ iss: issuer, sub: user.id, azp: client.client_id });
    expect([payload.aud].flat()).toContain(RESOURCE);
    expect(payload.exp - payload.iat).toBe(300);

    // A reducer call over HTTP with the bearer token: the module records the caller as the tenant's creator.
    const tenant = uniqueId('oidc');
    const call = await httpCall('create_tenant', [tenant, 'Through Better Auth OIDC'], tokens.access_token);
    expect(call).toMatchObject({ status: 200 });
    const [row] = await sql(`SELECT * FROM tenant WHERE id = '${tenant}'`);
    const identity = deriveIdentity(issuer, user.id);
    expect(row.created_by).toEqual([`0x${identity}`]);

    const findings = await diagnoseToken(tokens.access_token, { spacetimedbUrl: url, expectedIssuer: issuer, expectedAudience: RESOURCE });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.map((f) => f.code)).toEqual(expect.arrayContaining(['SIGNATURE_VALID', 'SERVER_ACCEPTED']));
    expect(findings.find((f) => f.code === 'IDENTITY').message).toContain(identity);
    // The gateway checks what SpacetimeDB does not: the audience (keys found by discovery, like SpacetimeDB).
    expect(await verifyToken(tokens.access_token, { issuer, audience: RESOURCE, discovery: true })).toMatchObject({ sub: user.id });
    await expect(verifyToken(tokens.access_token, { issuer, audience: 'https://other.example.com', discovery: true })).rejects.toMatchObject({ code: 'TOKEN_AUDIENCE' });

    // The ID token of the same response is a JWT of the same issuer and user, for the client (aud): not a
    // SpacetimeDB access token. SpacetimeDB never checks aud, so only an audience check tells them apart.
    const idFindings = await diagnoseToken(tokens.id_token, { expectedIssuer: issuer, expectedAudience: RESOURCE, network: false });
    expect(idFindings.find((f) => f.code === 'AUDIENCE_MISMATCH')).toMatchObject({ severity: 'error' });
    expect(decodeToken(tokens.id_token).payload).toMatchObject({ iss: issuer, sub: user.id, aud: client.client_id });
    expect((await httpCall('create_tenant', [uniqueId('id-token'), 'An ID token'], tokens.id_token)).status).toBe(200);
  });

  it("the jwt plugin's own session JWT (/api/auth/token) is the same Identity to SpacetimeDB", async () => {
    const { user, cookie } = await signedInUser('bo');
    const response = await fetch(`${issuer}/token`, { headers: { cookie } });
    expect(response.status).toBe(200);
    const { token } = await response.json();
    expect(decodeToken(token).payload).toMatchObject({ iss: issuer, sub: user.id, aud: RESOURCE });
    const tenant = uniqueId('session-jwt');
    expect(await httpCall('create_tenant', [tenant, 'Session JWT'], token)).toMatchObject({ status: 200 });
    const [row] = await sql(`SELECT * FROM tenant WHERE id = '${tenant}'`);
    expect(row.created_by).toEqual([`0x${deriveIdentity(issuer, user.id)}`]);
  });

  it('is refused the resource when the admin did not link it (invalid_target)', async () => {
    const unlinked = await auth.api.adminCreateOAuthClient({
      headers: adminHeaders,
      body: { client_name: 'unlinked', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', application_type: 'native' },
    });
    const { cookie } = await signedInUser('cy');
    const refused = await authorizationCodeFlow({ cookie, clientId: unlinked.client_id, resource: RESOURCE });
    expect(refused).toMatchObject({ error: 'invalid_target', description: expect.stringContaining('not linked') });
  });
});

describe('a client that names no resource', () => {
  let opaque;
  beforeAll(async () => {
    const { cookie } = await signedInUser('dee');
    opaque = (await authorizationCodeFlow({ cookie, clientId: client.client_id })).access_token;
  });

  it('gets an opaque access token, which SpacetimeDB refuses', async () => {
    expect(opaque).toMatch(/^[A-Za-z]{32}$/);
    const call = await httpCall('create_tenant', [uniqueId('opaque'), 'never'], opaque);
    expect(call.status).toBe(401);
  });

  it('diagnoseToken and `token diagnose` name it TOKEN_OPAQUE and say to request a resource', async () => {
    const findings = await diagnoseToken(opaque, { spacetimedbUrl: url });
    expect(findings).toEqual([
      {
        code: 'TOKEN_OPAQUE',
        severity: 'error',
        message: expect.stringContaining('opaque access token, not a JWT'),
        fix: expect.stringContaining('request a `resource` (RFC 8707: the audience'),
      },
    ]);
    const cli = await runCli(['token', 'diagnose', '-', '--spacetimedb-url', url], { input: opaque });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('TOKEN_OPAQUE');
    expect(cli.stdout).toContain('from the OAuth provider');
  });
});
