// The auth API from JavaScript: key pairs, the broker, verification (sync and remote), diagnostics,
// errors with codes, and interoperability with `jose` (the reference JWT library of the ecosystem).

import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GatewayError,
  TokenBroker,
  TokenVerifier,
  WELL_KNOWN_CACHE_CONTROL,
  decodeToken,
  deriveIdentity,
  diagnoseToken,
  generateKeyPair,
  verifyToken,
  verifyTokenSync,
} from '../lib/index.js';
import { eddsaKey, hs256Token, nowSeconds, rawToken, serveJson } from './helpers/auth.mjs';

const ISSUER = 'https://app.example.com/api/auth';
const AUDIENCE = 'spacetimedb';
let es;
let rs;
let broker;

beforeAll(() => {
  es = generateKeyPair({ alg: 'ES256', kid: 'es-1' });
  rs = generateKeyPair({ alg: 'RS256', kid: 'rs-1' });
  broker = new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { active: es, retiring: [rs.publicJwk] } });
});

/** Expects `fn` to throw (or reject with) a GatewayError with `code`; returns the error. */
async function expectCode(fn, code) {
  let error;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(GatewayError);
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(10);
  return error;
}

describe('generateKeyPair', () => {
  it('returns keys Node and jose read identically, with the RFC 7638 thumbprint as default kid', async () => {
    for (const alg of ['ES256', 'RS256']) {
      const pair = generateKeyPair({ alg });
      expect(Object.keys(pair).sort()).toEqual(['alg', 'kid', 'privateKeyPem', 'publicJwk', 'publicKeyPem']);
      expect(pair.alg).toBe(alg);
      const fromPem = createPublicKey(pair.publicKeyPem).export({ format: 'jwk' });
      for (const member of alg === 'ES256' ? ['x', 'y', 'crv'] : ['n', 'e']) expect(pair.publicJwk[member]).toBe(fromPem[member]);
      expect(pair.publicJwk).toMatchObject({ kid: pair.kid, alg, use: 'sig' });
      expect(await jose.calculateJwkThumbprint(pair.publicJwk)).toBe(pair.kid);
      await jose.importPKCS8(pair.privateKeyPem, alg); // jose accepts the private PEM
    }
    expect(generateKeyPair().alg).toBe('ES256');
  });

  it('refuses algorithms SpacetimeDB does not accept and bad kids', async () => {
    await expectCode(() => generateKeyPair({ alg: 'EdDSA' }), 'KEY_UNSUPPORTED');
    await expectCode(() => generateKeyPair({ alg: 'HS256' }), 'KEY_UNSUPPORTED');
    await expectCode(() => generateKeyPair({ kid: '' }), 'KEY_ID_INVALID');
    await expectCode(() => generateKeyPair({ kid: 5 }), 'INVALID_ARGUMENT');
    await expectCode(() => generateKeyPair('ES256'), 'INVALID_ARGUMENT');
  });
});

describe('TokenBroker', () => {
  it('mints tokens with the contract claims that jose verifies against the published JWKS', async () => {
    const token = broker.mint({ sub: 'user_1', tenant_id: 'acme', sid: 's1', perms: ['doc.read'], membership_version: 3, azp: 'web', extra: undefined });
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(broker.jwks()), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'es-1', typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'user_1', tenant_id: 'acme', token_type: 'spacetime-access', iss: ISSUER, aud: AUDIENCE });
    expect(payload.exp - payload.iat).toBe(300);
    expect(Math.abs(payload.iat - nowSeconds())).toBeLessThanOrEqual(2);
    expect('extra' in payload).toBe(false);
    expect(broker.verify(token).sub).toBe('user_1');
    expect([broker.issuer, broker.audience, broker.activeKid, broker.ttlSeconds, broker.maxTtlSeconds]).toEqual([ISSUER, [AUDIENCE], 'es-1', 300, 3600]);
  });

  it('mints robot and delegated tokens', () => {
    const robot = decodeToken(broker.mintRobot({ id: 'ci', tenantId: 'acme', perms: ['doc.write'] }, { ttlSeconds: 60 })).payload;
    expect(robot).toMatchObject({ sub: 'robot:ci', tenant_id: 'acme', perms: ['doc.write'] });
    expect(robot.exp - robot.iat).toBe(60);
    const delegated = decodeToken(broker.mintDelegated({ sub: 'user_1', actor: 'robot:ci', tenant_id: 'acme' })).payload;
    expect(delegated).toMatchObject({ sub: 'user_1', act: { sub: 'robot:ci' }, tenant_id: 'acme' });
    expect(delegated.actor).toBeUndefined();
  });

  it('validates claims and lifetimes with CLAIM_INVALID', async () => {
    await expectCode(() => broker.mint({ sub: 'ada@example.com' }), 'CLAIM_INVALID');
    await expectCode(() => broker.mint({ sub: '' }), 'CLAIM_INVALID');
    await expectCode(() => broker.mint({ sub: 'x'.repeat(129) }), 'CLAIM_INVALID');
    await expectCode(() => broker.mint({ sub: 'u', exp: 1 }), 'CLAIM_INVALID');
    await expectCode(() => broker.mint({ sub: 'u' }, { ttlSeconds: 7200 }), 'CLAIM_INVALID');
    await expectCode(() => broker.mint({ sub: 'u' }, { ttlSeconds: -5 }), 'INVALID_ARGUMENT');
    await expectCode(() => broker.mint({ sub: 'u' }, { ttlSeconds: 1.5 }), 'INVALID_ARGUMENT');
    await expectCode(() => broker.mint('u'), 'INVALID_ARGUMENT');
    await expectCode(() => broker.mint({ sub: 'u', n: 1n }), 'INVALID_ARGUMENT');
    const emails = new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: es, allowEmailSubject: true });
    expect(decodeToken(emails.mint({ sub: 'ada@example.com' })).payload.sub).toBe('ada@example.com');
  });

  it('refuses at construction what SpacetimeDB would not accept', async () => {
    const edJwk = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'ed' };
    await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: edJwk }), 'KEY_UNSUPPORTED');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const e384 = await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { kid: 'k', pem: p384 } }), 'KEY_UNSUPPORTED');
    expect(e384.message).toContain('ES384');
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const small = await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { kid: 'k', pem: rsa1024 } }), 'KEY_UNSUPPORTED');
    expect(small.message).toContain('1024 bits');
    await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { kty: 'oct', k: 'c2VjcmV0', kid: 'h' } }), 'KEY_UNSUPPORTED');
    await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: es.privateKeyPem }), 'KEY_ID_INVALID');
    await expectCode(() => new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { privateKeyPem: es.privateKeyPem } }), 'KEY_ID_INVALID');
    const slash = await expectCode(() => new TokenBroker({ issuer: `${ISSUER}/`, audience: AUDIENCE, keys: es }), 'ISSUER_INVALID');
    expect(slash.message).toContain('different Identity');
    new TokenBroker({ issuer: `${ISSUER}/`, audience: AUDIENCE, keys: es, allowIssuerTrailingSlash: true });
    await expectCode(() => new TokenBroker({ issuer: 'my-app', audience: AUDIENCE, keys: es }), 'ISSUER_INVALID');
    await expectCode(() => new TokenBroker({ issuer: ISSUER, keys: es }), 'INVALID_ARGUMENT');
    await expectCode(() => new TokenBroker({ issuer: 5, audience: AUDIENCE, keys: es }), 'INVALID_ARGUMENT');
    await expectCode(() => new TokenBroker(), 'INVALID_ARGUMENT');
    // PEM keys from Node's crypto (PKCS#8 and SEC1 / PKCS#1) load with an explicit kid.
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    for (const type of ['pkcs8', 'sec1']) new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { kid: 'k', pem: ec.export({ type, format: 'pem' }) } });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    for (const type of ['pkcs8', 'pkcs1']) new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { kid: 'k', pem: rsa.export({ type, format: 'pem' }) } });
    new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: { ...ec.export({ format: 'jwk' }), kid: 'jwk' } });
  });

  it('publishes discovery and JWKS under the issuer path, with cache headers', async () => {
    expect(broker.jwks().keys.map((k) => k.kid)).toEqual(['es-1', 'rs-1']);
    expect(broker.jwks().keys.every((k) => !('d' in k))).toBe(true);
    const config = broker.openidConfiguration();
    expect(config).toMatchObject({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json` });
    expect(config.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    expect(broker.wellKnown({ jwksUri: `${ISSUER}/jwks` })).toEqual({
      discoveryUrl: `${ISSUER}/.well-known/openid-configuration`,
      discoveryPath: '/api/auth/.well-known/openid-configuration',
      jwksUrl: `${ISSUER}/jwks`,
      jwksPath: '/api/auth/jwks',
    });
    const discovery = broker.handleWellKnown(new Request('https://app.example.com/api/auth/.well-known/openid-configuration'));
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('cache-control')).toBe(WELL_KNOWN_CACHE_CONTROL);
    expect((await discovery.json()).jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    const jwks = broker.handleWellKnown(new Request('https://app.example.com/api/auth/.well-known/jwks.json'));
    expect((await jwks.json()).keys).toHaveLength(2);
    expect(broker.handleWellKnown(new Request('https://app.example.com/.well-known/openid-configuration'))).toBeNull();
    expect(broker.handleWellKnown(new Request(`${ISSUER}/.well-known/jwks.json`, { method: 'POST' }))).toBeNull();
    expect(broker.handleWellKnown({ method: 'GET', url: 'http://[' })).toBeNull(); // never throws in a router
  });

  it('identityFor and deriveIdentity agree with the protocol vectors', () => {
    expect(deriveIdentity('localhost', 'alice')).toBe('c20035600353a2e93544d898c6ed0eac323e200c0468300f22958f8b472a265d');
    expect(deriveIdentity('https://auth.example.com', 'user-123')).toBe('c2000e9c6bea96ed193403b2bc12b1fa4e8ec2970024252762dbf8a7ddda7157');
    expect(deriveIdentity('http://localhost:3001/', 'svc')).toBe('c200aeaeb98599a291ba8bcca1a6bef8f472b61be4dc9431493077aed46c3b69');
    expect(broker.identityFor('user-123')).toBe(deriveIdentity(ISSUER, 'user-123'));
  });
});

describe('verifyToken', () => {
  const payload = () => ({ iss: ISSUER, sub: 'u', aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 60 });
  const local = () => ({ issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() });

  it('accepts tokens jose signs with our keys (ES256 and RS256)', async () => {
    for (const pair of [es, rs]) {
      const key = await jose.importPKCS8(pair.privateKeyPem, pair.alg);
      const token = await new jose.SignJWT(payload()).setProtectedHeader({ alg: pair.alg, kid: pair.kid }).sign(key);
      expect(verifyTokenSync(token, local()).sub).toBe('u');
      expect((await verifyToken(token, local())).sub).toBe('u');
    }
  });

  it('rejects the algorithm-confusion forgery, none, and EdDSA', async () => {
    const point = Buffer.from(createPublicKey(es.publicKeyPem).export({ format: 'der', type: 'spki' })).subarray(-65);
    for (const secret of [point, Buffer.from(es.publicKeyPem)]) {
      const forged = hs256Token({ alg: 'HS256', kid: 'es-1' }, payload(), secret);
      const err = await expectCode(() => verifyTokenSync(forged, local()), 'TOKEN_ALG_REJECTED');
      expect(err.message).toContain('es-1');
    }
    await expectCode(() => verifyToken(hs256Token({ alg: 'HS256', kid: 'rs-1' }, payload(), rs.publicKeyPem), local()), 'TOKEN_ALG_REJECTED');
    await expectCode(() => verifyTokenSync(rawToken({ alg: 'none' }, payload()), local()), 'TOKEN_ALG_REJECTED');
    await expectCode(() => verifyTokenSync(eddsaKey('ed').sign(payload()), local()), 'TOKEN_ALG_REJECTED');
    await expectCode(() => verifyTokenSync(broker.mint({ sub: 'u' }), { ...local(), algorithms: ['HS256'] }), 'INVALID_ARGUMENT');
  });

  it('gives each claim failure its code', async () => {
    const key = await jose.importPKCS8(es.privateKeyPem, 'ES256');
    const sign = (p) => new jose.SignJWT(p).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).sign(key);
    await expectCode(async () => verifyTokenSync(await sign({ ...payload(), exp: nowSeconds() - 10 }), local()), 'TOKEN_EXPIRED');
    await expectCode(async () => verifyTokenSync(await sign({ ...payload(), nbf: nowSeconds() + 100 }), local()), 'TOKEN_NOT_YET_VALID');
    await expectCode(async () => verifyTokenSync(await sign({ ...payload(), aud: 'other' }), local()), 'TOKEN_AUDIENCE');
    await expectCode(async () => verifyTokenSync(await sign({ ...payload(), iss: `${ISSUER}/` }), local()), 'TOKEN_ISSUER');
    await expectCode(async () => verifyTokenSync(await sign({ ...payload(), iat: undefined }), local()), 'TOKEN_CLAIM_INVALID');
    const other = await jose.importPKCS8(generateKeyPair({ kid: 'es-1' }).privateKeyPem, 'ES256');
    await expectCode(async () => verifyTokenSync(await new jose.SignJWT(payload()).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).sign(other), local()), 'TOKEN_BAD_SIGNATURE');
    await expectCode(async () => verifyTokenSync(await new jose.SignJWT(payload()).setProtectedHeader({ alg: 'ES256', kid: 'gone' }).sign(key), local()), 'TOKEN_KEY_NOT_FOUND');
    const late = await sign({ ...payload(), exp: nowSeconds() - 2 });
    expect(verifyTokenSync(late, { ...local(), clockToleranceSeconds: 30 }).sub).toBe('u');
  });

  it('fetches a remote JWKS once, by URI and by discovery under a path', async () => {
    const server = await serveJson((path) => {
      if (path === '/api/auth/.well-known/openid-configuration') return { ...broker.openidConfiguration(), jwks_uri: `${server.base}/api/auth/jwks` };
      if (path === '/api/auth/jwks') return broker.jwks();
      return undefined;
    });
    try {
      const issuer = `${server.base}/api/auth`;
      const remote = new TokenBroker({ issuer, audience: AUDIENCE, keys: es });
      const token = remote.mint({ sub: 'remote' });
      const verifier = new TokenVerifier({ issuer, audience: AUDIENCE, discovery: true });
      for (let i = 0; i < 3; i++) expect((await verifier.verify(token)).sub).toBe('remote');
      expect(server.hits['/api/auth/.well-known/openid-configuration']).toBe(1);
      expect(server.hits['/api/auth/jwks']).toBe(1);
      expect((await verifyToken(token, { issuer, audience: AUDIENCE, jwksUri: `${server.base}/api/auth/jwks` })).sub).toBe('remote');
      expect((await verifyToken(token, { issuer, audience: AUDIENCE, jwksUri: `${server.base}/api/auth/jwks` })).sub).toBe('remote');
      expect(server.hits['/api/auth/jwks']).toBe(2); // the function form shares one cache per URI
      await expectCode(() => verifier.verifySync(token), 'INVALID_ARGUMENT');
    } finally {
      await server.close();
    }
    await expectCode(() => verifyToken(broker.mint({ sub: 'u' }), { issuer: ISSUER, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks' }), 'JWKS_UNREACHABLE');
    await expectCode(() => verifyToken('x', { issuer: ISSUER, audience: AUDIENCE }), 'INVALID_ARGUMENT');
    await expectCode(() => verifyToken('x', { issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks(), discovery: true }), 'INVALID_ARGUMENT');
  });
});

describe('TokenVerifier with several issuers', () => {
  const OTHER = 'https://login.example.net/realms/acme';
  let other; // an RS256 issuer beside the broker's ES256 one
  let several;

  beforeAll(() => {
    other = new TokenBroker({ issuer: OTHER, audience: 'web', keys: generateKeyPair({ alg: 'RS256', kid: 'kc-1' }) });
    several = new TokenVerifier({
      issuers: [
        { issuer: OTHER, audience: 'web', jwks: other.jwks(), algorithms: ['RS256'] },
        { issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks(), algorithms: ['ES256'] },
      ],
    });
  });

  it('verifies each issuer\'s tokens with its own keys and audience; lists its issuers', async () => {
    expect(several.issuers).toEqual([OTHER, ISSUER]);
    expect(several.verifySync(other.mint({ sub: 'kc-user' }))).toMatchObject({ iss: OTHER, sub: 'kc-user', aud: 'web' });
    expect((await several.verify(broker.mint({ sub: 'u' }))).iss).toBe(ISSUER);
    expect(verifyTokenSync(broker.mint({ sub: 'u' }), { issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() }] }).sub).toBe('u');
    expect(new TokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() }).issuers).toEqual([ISSUER]);
  });

  it('refuses a third issuer by name, and another issuer\'s algorithm', async () => {
    const third = new TokenBroker({ issuer: 'https://third.example.org', audience: AUDIENCE, keys: es });
    const err = await expectCode(() => several.verify(third.mint({ sub: 'u' })), 'TOKEN_ISSUER_UNTRUSTED');
    expect(err.message).toBe(`the token's issuer \`https://third.example.org\` is not trusted; trusted issuers: \`${OTHER}\`, \`${ISSUER}\``);
    // The broker's retiring RS256 key signs a token for the broker's issuer: RS256 is allowed for OTHER only.
    const key = await jose.importPKCS8(rs.privateKeyPem, 'RS256');
    const rsToken = await new jose.SignJWT({ iss: ISSUER, sub: 'u', aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'rs-1' }).sign(key);
    expect(verifyTokenSync(rsToken, { issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() }).sub).toBe('u');
    await expectCode(() => several.verifySync(rsToken), 'TOKEN_ALG_REJECTED');
  });

  it('refuses bad configurations, naming the entry', async () => {
    const entry = { issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() };
    const cases = [
      [{ issuers: [] }, 'verify: `issuers` is empty'],
      [{ issuers: [entry, { ...entry, audience: 'other' }] }, `issuer \`${ISSUER}\` is configured twice`],
      [{ issuers: [entry], audience: AUDIENCE }, 'give either `issuers` or one issuer\'s options, not both'],
      [{ issuers: entry }, 'issuers must be an array'],
      [{ issuers: [entry, null] }, 'TokenVerifier issuers[1] must be an object, got null'],
      [{ issuers: [entry, { ...entry, issuer: OTHER, jwks: undefined }] }, `issuers[1] (${OTHER}): give exactly one key source`],
      [{ issuers: [{ ...entry, algorithms: ['EdDSA'] }] }, `issuers[0] (${ISSUER}): verify: EdDSA`],
      [{ issuers: [{ ...entry, colour: 'red' }] }, "unknown option 'colour' of TokenVerifier issuers[0]"],
    ];
    for (const [options, message] of cases) {
      const err = await expectCode(() => new TokenVerifier(options), 'INVALID_ARGUMENT');
      expect(err.message).toContain(message);
    }
  });
});

describe('decodeToken and diagnoseToken', () => {
  it('decodes without verifying, and codes malformed input', async () => {
    const { header, payload } = decodeToken(broker.mint({ sub: 'u' }));
    expect(header.kid).toBe('es-1');
    expect(payload.sub).toBe('u');
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d.e', '!!.!!.!!', 'x'.repeat(20_000), `Bearer ${broker.mint({ sub: 'u' })}`]) {
      await expectCode(() => decodeToken(bad), 'TOKEN_MALFORMED');
    }
    await expectCode(() => decodeToken(42), 'INVALID_ARGUMENT');
  });

  it('reports the cases the issue lists, each with a fix', async () => {
    const codes = async (token, options = { network: false }) => (await diagnoseToken(token, options)).map((f) => f.code);
    const base = { iss: ISSUER, sub: 'u', aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 60 };
    expect(await codes(eddsaKey('ed').sign(base))).toContain('ALG_UNSUPPORTED');
    expect(await codes(hs256Token({ alg: 'HS256', kid: 'es-1' }, base, 'secret'))).toContain('ALG_HMAC');
    expect(await codes(rawToken({ alg: 'ES256', kid: 'k' }, { ...base, iat: undefined }, Buffer.alloc(64)))).toContain('IAT_MISSING');
    expect(await codes(rawToken({ alg: 'ES256', kid: 'k' }, { ...base, exp: nowSeconds() - 600 }, Buffer.alloc(64)))).toContain('TOKEN_EXPIRED');
    expect(await codes('kLx3UAb0EJVpKmQuNxT9e2cV7hRpY4wZ')).toEqual(['TOKEN_OPAQUE']);
    expect(await codes(rawToken({ alg: 'ES256', kid: 'k' }, { ...base, iss: `${ISSUER}/` }, Buffer.alloc(64)))).toContain('ISSUER_TRAILING_SLASH');
    expect(await codes(rawToken({ alg: 'ES256', kid: 'k' }, { ...base, sub: 'ada@example.com' }, Buffer.alloc(64)))).toContain('SUBJECT_EMAIL');
    const dev = rawToken({ alg: 'ES256', kid: 'k' }, { ...base, iss: 'http://localhost:3000/api/auth' }, Buffer.alloc(64));
    const remote = await diagnoseToken(dev, { network: false, spacetimedbUrl: 'https://db.example.com' });
    expect(remote[0]).toMatchObject({ code: 'ISSUER_DEV_FOR_REMOTE_SERVER', severity: 'error' });
    const aud = await diagnoseToken(broker.mint({ sub: 'u' }), { network: false, expectedAudience: 'other' });
    expect(aud.find((f) => f.code === 'AUDIENCE_MISMATCH').fix).toBeTruthy();
    const good = await diagnoseToken(broker.mint({ sub: 'u' }), { network: false, expectedIssuer: ISSUER, expectedAudience: AUDIENCE });
    expect(good.filter((f) => f.severity === 'error')).toEqual([]);
    // Several expected issuers (a migration's dual run): any of them passes, another is named against all.
    const dual = { network: false, expectedIssuer: ['https://sso.example.com/realms/acme', ISSUER] };
    expect(await codes(broker.mint({ sub: 'u' }), dual)).not.toContain('ISSUER_MISMATCH');
    const stranger = await diagnoseToken(rawToken({ alg: 'ES256', kid: 'k' }, { ...base, iss: 'https://other.example.com' }, Buffer.alloc(64)), dual);
    expect(stranger.find((f) => f.code === 'ISSUER_MISMATCH').message).toContain('one of ["https://sso.example.com/realms/acme"');
    await expectCode(() => diagnoseToken('x', { expectedIssuer: [ISSUER, 42] }), 'INVALID_ARGUMENT');
    await expectCode(() => diagnoseToken('x', 'nope'), 'INVALID_ARGUMENT');
  });
});

describe('the package entry', () => {
  it('offers named exports to plain Node ESM importers (not only through vitest interop)', async () => {
    const { execFile } = await import('node:child_process');
    const script = "import { TokenBroker, verifyToken, diagnoseToken, GatewayError } from './lib/index.js'; console.log([TokenBroker, verifyToken, diagnoseToken, GatewayError].map((f) => typeof f).join())";
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url) }, (e, stdout) => (e ? reject(e) : resolve(stdout))),
    );
    expect(out.trim()).toBe('function,function,function,function');
  });
});

describe('hostile input never crashes the process', () => {
  let server;
  afterAll(() => server?.close());

  it('answers random and crafted strings with coded errors only', async () => {
    const samples = ['', '.', '..', '...', '\u0000.\u0000.\u0000', 'e30.e30.e30', 'eyJhbGciOiJFUzI1NiJ9.e30.', '\ud800', '€'.repeat(5000)];
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(Math.random() * 300);
      samples.push(Array.from({ length: len }, () => String.fromCharCode(32 + Math.floor(Math.random() * 95))).join(''));
      samples.push(`${Buffer.from(JSON.stringify({ alg: i % 2 ? 'ES256' : 'RS256', kid: i % 3 ? 'es-1' : 'rs-1' })).toString('base64url')}.${Buffer.from(JSON.stringify({ x: i })).toString('base64url')}.${Buffer.alloc(i % 70).toString('base64url')}`);
    }
    const options = { issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks() };
    for (const sample of samples) {
      for (const fn of [() => decodeToken(sample), () => verifyTokenSync(sample, options), () => broker.verify(sample)]) {
        try {
          fn();
        } catch (e) {
          expect(e).toBeInstanceOf(GatewayError);
          expect(e.code).toMatch(/^(TOKEN_[A-Z_]+|INVALID_ARGUMENT)$/);
        }
      }
      const findings = await diagnoseToken(sample, { network: false });
      expect(Array.isArray(findings)).toBe(true);
    }
  });
});
