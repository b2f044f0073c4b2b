// The auth part against the real SpacetimeDB 1.3.0 started by scripts/test.sh: tokens minted by
// TokenBroker, with keys served by `spacetime-gateway issuer serve`, are accepted, and the Identity the
// server assigns is bit-exact with deriveIdentity / broker.identityFor. Rotation, EdDSA and the HS256
// forgery are checked against the server too, and so is how the server parses a token's JSON (repeated
// keys, `crit`, `kid` types) next to what the gateway refuses.
//
// Never sent to the server: an HS256 token naming an RSA kid, or a token without a kid whose issuer
// publishes an RSA key (both crash SpacetimeDB 1.3.0; docs/auth.md).

import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBroker, deriveIdentity, diagnoseToken, generateKeyPair, verifyToken } from '../lib/index.js';
import { eddsaKey, hs256Token, nowSeconds, serveJson, signedText, startIssuer, withMembers } from './helpers/auth.mjs';
import { httpCall, serverEnv, sql, uniqueId } from './helpers/spacetimedb.mjs';

const AUDIENCE = 'spacetimedb';
let es;
let rs;
let issuer; // `issuer serve` with es active and rs retiring, mounted under /api/auth
let broker;

beforeAll(async () => {
  es = generateKeyPair({ alg: 'ES256' });
  rs = generateKeyPair({ alg: 'RS256' });
  issuer = await startIssuer([es, rs], { path: '/api/auth' });
  broker = new TokenBroker({ issuer: issuer.issuer, audience: AUDIENCE, keys: { active: es, retiring: [rs] } });
});

afterAll(async () => {
  expect(await issuer?.stop()).toBe(0);
});

/** What the server says about a token on `/v1/ping` (which validates a bearer token): status and body. */
async function ping(token) {
  const { url } = serverEnv();
  const r = await fetch(`${url}/v1/ping`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.text() };
}

/** Calls a reducer with the token; the response names the caller's Identity, and the row records it. */
async function serverIdentity(token) {
  const { url, db } = serverEnv();
  const tenant = uniqueId('auth');
  const r = await fetch(`${url}/v1/database/${db}/call/create_tenant`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify([tenant, 'Auth test']),
  });
  return { status: r.status, text: await r.text(), header: r.headers.get('spacetime-identity'), tenant };
}

const hex = (identity) => identity.replace(/^0x/, '').padStart(64, '0');

describe('tokens minted by TokenBroker against SpacetimeDB 1.3.0', () => {
  it('serves discovery under the issuer path', async () => {
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/i-[0-9a-f]{12}\/api\/auth$/); // helpers/auth.mjs: a unique segment per start
    expect(issuer.discoveryUrl).toBe(`${issuer.issuer}/.well-known/openid-configuration`);
    const config = await fetch(issuer.discoveryUrl).then((r) => r.json());
    expect(config.jwks_uri).toBe(issuer.jwksUrl);
    const jwks = await fetch(issuer.jwksUrl).then((r) => r.json());
    expect(jwks.keys.map((k) => k.kid)).toEqual([es.kid, rs.kid]);
  });

  it('are accepted, and the server-assigned Identity equals deriveIdentity and identityFor', async () => {
    const sub = uniqueId('user');
    const token = broker.mint({ sub, tenant_id: 'acme', sid: 'session-1' });
    const call = await serverIdentity(token);
    expect(call.status).toBe(200);
    const expected = deriveIdentity(issuer.issuer, sub);
    expect(broker.identityFor(sub)).toBe(expected);
    expect(call.header).toBe(expected);
    const [row] = await sql(`SELECT * FROM tenant WHERE id = '${call.tenant}'`);
    expect(hex(row.created_by[0])).toBe(expected);
    // The server's own check of "this token is this Identity".
    const { url } = serverEnv();
    const verified = await fetch(`${url}/v1/identity/${expected}/verify`, { headers: { Authorization: `Bearer ${token}` } });
    expect(verified.status).toBe(204);
  });

  it('a trailing slash in iss is another Identity for the server too', async () => {
    const slashed = new TokenBroker({ issuer: `${issuer.issuer}/`, audience: AUDIENCE, keys: es, allowIssuerTrailingSlash: true });
    const sub = uniqueId('user');
    const call = await serverIdentity(slashed.mint({ sub }));
    expect(call.status).toBe(200);
    expect(call.header).toBe(deriveIdentity(`${issuer.issuer}/`, sub));
    expect(call.header).not.toBe(deriveIdentity(issuer.issuer, sub));
  });

  it('rotation: a token signed by the retiring key works while it is published, not after', async () => {
    const old = new TokenBroker({ issuer: issuer.issuer, audience: AUDIENCE, keys: rs });
    const oldToken = old.mint({ sub: 'rotating-user' });
    expect((await ping(oldToken)).status).toBe(200);
    expect((await serverIdentity(oldToken)).header).toBe(deriveIdentity(issuer.issuer, 'rotating-user'));
    expect((await verifyToken(oldToken, { issuer: issuer.issuer, audience: AUDIENCE, discovery: true })).sub).toBe('rotating-user');

    // A second issuer that publishes only the new key: the old key's tokens are refused.
    const rotated = await startIssuer([es], { path: '/api/auth' });
    try {
      const dropped = new TokenBroker({ issuer: rotated.issuer, audience: AUDIENCE, keys: rs });
      const refused = await ping(dropped.mint({ sub: 'rotating-user' }));
      expect(refused.status).toBe(401);
      const fresh = new TokenBroker({ issuer: rotated.issuer, audience: AUDIENCE, keys: es });
      expect((await ping(fresh.mint({ sub: 'rotating-user' }))).status).toBe(200);
    } finally {
      await rotated.stop();
    }
  });

  it('bad tokens are answered 401', async () => {
    const stranger = new TokenBroker({ issuer: issuer.issuer, audience: AUDIENCE, keys: generateKeyPair({ kid: es.kid }) });
    expect((await ping(stranger.mint({ sub: 'x' }))).status).toBe(401); // right kid, wrong key
    expect((await ping('not-a-token')).status).toBe(401);
    const [h, , s] = broker.mint({ sub: 'x' }).split('.');
    const otherPayload = broker.mint({ sub: 'admin' }).split('.')[1];
    expect((await ping(`${h}.${otherPayload}.${s}`)).status).toBe(401); // payload swapped under a signature
  });

  it('diagnose probes the server and confirms the Identity', async () => {
    const token = broker.mint({ sub: 'diagnosed' });
    const findings = await diagnoseToken(token, { spacetimedbUrl: serverEnv().url, expectedIssuer: issuer.issuer, expectedAudience: AUDIENCE });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.find((f) => f.code === 'SERVER_ACCEPTED').message).toContain(deriveIdentity(issuer.issuer, 'diagnosed'));
    expect(findings.map((f) => f.code)).toContain('SIGNATURE_VALID');
  });
});

describe('what SpacetimeDB refuses, and what it wrongly accepts', () => {
  let betterAuthLike;
  afterAll(() => betterAuthLike?.close());

  it('an EdDSA token (Better Auth default) is refused by the server and reported by diagnose', async () => {
    const ed = eddsaKey('ed-1');
    // An issuer like Better Auth's jwt plugin with default settings, plus the discovery SpacetimeDB needs.
    betterAuthLike = await serveJson((path) => {
      if (path === '/api/auth/.well-known/openid-configuration') return { issuer: `${betterAuthLike.base}/api/auth`, jwks_uri: `${betterAuthLike.base}/api/auth/jwks` };
      if (path === '/api/auth/jwks') return { keys: [ed.jwk] };
      return undefined;
    });
    const iss = `${betterAuthLike.base}/api/auth`;
    const token = ed.sign({ iss, sub: 'user_1', aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 300 });
    const refused = await ping(token);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('InvalidAlgorithm');
    const findings = await diagnoseToken(token, { spacetimedbUrl: serverEnv().url });
    const alg = findings.find((f) => f.code === 'ALG_UNSUPPORTED');
    expect(alg.severity).toBe('error');
    expect(alg.fix).toContain('keyPairConfig');
    expect(findings.map((f) => f.code)).toContain('JWKS_KEY_UNUSABLE');
  });

  it('the HS256 token "signed" with a public key: 1.3.0 accepts it, verifyToken and diagnose refuse it', async () => {
    const { url } = serverEnv();
    // The known 1.3.0 weakness, shown on the loopback test server: the server's own ES256 public key
    // (its uncompressed point) used as an HMAC secret forges any Identity. No kid: no RSA-kid crash.
    const serverPem = await fetch(`${url}/v1/identity/public-key`).then((r) => r.text());
    const point = Buffer.from(createPublicKey(serverPem).export({ format: 'der', type: 'spki' })).subarray(-65);
    const claims = { iss: 'https://forged.example', sub: 'mallory', iat: nowSeconds() };
    const forged = hs256Token({ alg: 'HS256', typ: 'JWT' }, claims, point);
    const forgedIdentity = deriveIdentity(claims.iss, claims.sub);
    const accepted = await fetch(`${url}/v1/identity/${forgedIdentity}/verify`, { headers: { Authorization: `Bearer ${forged}` } });
    expect(accepted.status).toBe(204); // SpacetimeDB 1.3.0 took the forgery

    // Our verifier never accepts HS*, and never with an asymmetric key: the same forgery against the
    // broker's ES256 key, naming its kid, is refused.
    const esPoint = Buffer.from(createPublicKey(es.publicKeyPem).export({ format: 'der', type: 'spki' })).subarray(-65);
    const againstUs = hs256Token({ alg: 'HS256', kid: es.kid }, { ...claims, iss: issuer.issuer, aud: AUDIENCE, exp: nowSeconds() + 60 }, esPoint);
    await expect(verifyToken(againstUs, { issuer: issuer.issuer, audience: AUDIENCE, discovery: true })).rejects.toMatchObject({ code: 'TOKEN_ALG_REJECTED' });
    await expect(verifyToken(forged, { issuer: claims.iss, audience: AUDIENCE, jwks: broker.jwks() })).rejects.toMatchObject({ code: 'TOKEN_ALG_REJECTED' });
    const findings = await diagnoseToken(againstUs, { spacetimedbUrl: url });
    expect(findings.find((f) => f.code === 'ALG_HMAC').severity).toBe('error');
    expect(findings.map((f) => f.code)).toEqual(expect.arrayContaining(['KEY_ALG_MISMATCH', 'SERVER_NOT_PROBED']));
  });
});

describe('parsing: what SpacetimeDB refuses, and what the gateway refuses on top', () => {
  // Tokens signed properly with the published key, so only the JSON detail differs from a good token.
  const claims = () => ({ iss: issuer.issuer, sub: uniqueId('user'), aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 60 });
  const header = (extra) => JSON.stringify({ alg: 'ES256', kid: es.kid, typ: 'JWT', ...extra });
  const gatewayRefuses = (token) =>
    expect(verifyToken(token, { issuer: issuer.issuer, audience: AUDIENCE, discovery: true })).rejects.toMatchObject({ code: 'TOKEN_MALFORMED' });

  it('a repeated sub is refused by both; a repeated claim the server does not read only by the gateway', async () => {
    expect((await ping(signedText(es, header(), JSON.stringify(claims())))).status).toBe(200);
    const repeatedSub = signedText(es, header(), withMembers(claims(), '"sub":"mallory"'));
    const refused = await ping(repeatedSub);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('duplicate field `sub`');
    await gatewayRefuses(repeatedSub);
    const repeatedOther = signedText(es, header(), withMembers(claims(), '"tenant_id":"a","tenant_id":"b"'));
    expect((await ping(repeatedOther)).status).toBe(200);
    await gatewayRefuses(repeatedOther);
  });

  it('kid: 1 is refused by both; kid: null and crit pass the server, not the gateway', async () => {
    const numberKid = signedText(es, header({ kid: 1 }), JSON.stringify(claims()));
    expect((await ping(numberKid)).status).toBe(401);
    await gatewayRefuses(numberKid);
    const withCrit = signedText(es, header({ crit: ['exp'], exp: 1 }), JSON.stringify(claims()));
    expect((await ping(withCrit)).status).toBe(200);
    await gatewayRefuses(withCrit);
    // Without a kid, SpacetimeDB 1.3.0 tries every key of the issuer's JWKS, and an RSA key tried with a
    // non-RSA token panics (spacetimedb-jsonwebtoken 9.3.0 decoding.rs `as_bytes`: unreachable!) and
    // takes the whole server down (docs/auth.md). So this one goes to an issuer with the EC key only.
    const ecOnly = await startIssuer([es], { path: '/api/auth' });
    try {
      const kidless = signedText(es, header({ kid: null }), JSON.stringify({ ...claims(), iss: ecOnly.issuer }));
      expect((await ping(kidless)).status).toBe(200);
      await expect(verifyToken(kidless, { issuer: ecOnly.issuer, audience: AUDIENCE, discovery: true })).rejects.toMatchObject({ code: 'TOKEN_MALFORMED' });
    } finally {
      expect(await ecOnly.stop()).toBe(0);
    }
  });
});
