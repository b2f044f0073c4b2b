// Machine actors against the real SpacetimeDB 1.3.0: an API key's robot (`sub = robot:<keyId>`) and a key
// acting for a user (delegated: `sub = user`, `act.sub = robot:<keyId>`), both minted by TokenBroker. The
// module re-checks the key's grant on every call: revoked, expired, other-tenant and out-of-grant calls are
// refused with its message — while the tokens are still valid — and neither kind ever passes for a person.

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorFromClaims, callAs } from '../examples/cookbook/actor.mjs';
import { apiKeyExchange } from '../lib/index.js';
import { cookbookWorld, eventually, who } from './helpers/cookbook.mjs';
import { httpCallOn } from './helpers/private-server.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';
import { expectCode } from './helpers/values.mjs';

let w;
let alice, bob, carol;
let tenant, other;
const hour = () => new Date(Date.now() + 3600_000).toISOString();

/** Creates an API key grant as alice (a person acting as herself); returns the key id. */
async function key(permissions, { tenantId = tenant, canDelegate = false, expiresAt = hour() } = {}) {
  const keyId = uniqueId('key');
  await w.gateway.callReducer('create_api_key', [null, tenantId, keyId, permissions, expiresAt, canDelegate], { token: alice.token() });
  return keyId;
}

/** The verified claims of a robot token for `keyId` (what the app's key exchange would mint). */
const robotClaims = (keyId) => w.broker.verify(w.broker.mintRobot({ id: keyId }));
/** The verified claims of a delegated token: `keyId`'s robot acting for `user`. */
const delegatedClaims = (keyId, user) => w.broker.verify(w.broker.mintDelegated({ sub: user.sub, actor: `robot:${keyId}` }));

beforeAll(async () => {
  w = await cookbookWorld();
  [alice, bob, carol] = [await w.user('alice'), await w.user('bob'), await w.user('carol')];
  tenant = await w.tenant(alice);
  other = await w.tenant(alice);
  await w.gateway.callReducer('set_member', [null, tenant, bob.sub, w.roleId(tenant, 'member')], { token: alice.token() });
  await w.gateway.callReducer('set_member', [null, tenant, carol.sub, w.roleId(tenant, 'viewer')], { token: alice.token() });
});

afterAll(async () => {
  await w?.close();
});

describe('robots: an API key acting on its own grant', () => {
  it('through the trusted gateway, audited as the robot with its key', async () => {
    const k = await key(['document.read', 'document.write']);
    await callAs(w.gateway, robotClaims(k), 'create_document', [tenant, 'by a robot', 'b']);
    const expected = { actor: `robot:${k}`, effective_actor: `robot:${k}`, via: 'Robot', key_id: k, impersonation_grant: null, gateway: w.gatewayIdentity };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toEqual(expected);
  });

  it('over its own connection, once its identity is linked', async () => {
    const k = await key(['document.write']);
    await w.gateway.callReducer('link_identity', [w.issuer, `robot:${k}`, `robot:${k}`]);
    await w.gateway.callReducer('create_document', [null, tenant, 'robot connection', 'b'], { token: w.broker.mintRobot({ id: k }) });
    const expected = { actor: `robot:${k}`, via: 'Robot', key_id: k, gateway: null };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toMatchObject(expected);
  });

  it('outside its permissions, in another tenant, or for someone else: refused', async () => {
    const readOnly = await key(['document.read']);
    await expectCode(callAs(w.gateway, robotClaims(readOnly), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `api key ${readOnly} does not grant document.write (it grants: document.read)`);
    const k = await key(['document.write']);
    await expectCode(callAs(w.gateway, robotClaims(k), 'create_document', [other, 'x', 'b']), 'REDUCER_FAILED', `api key ${k} is scoped to tenant ${tenant}, not ${other}`);
    await expectCode(w.gateway.callReducer('create_document', [tenant, 'x', 'b'], { actor: { sub: `robot:${k}`, act: `robot:${readOnly}` } }), 'REDUCER_FAILED', 'a robot acts only for itself');
    await expectCode(w.gateway.callReducer('create_document', [tenant, 'x', 'b'], { actor: { sub: 'robot:nokey', act: null } }), 'REDUCER_FAILED', 'api key nokey has no grant');
  });

  it('a revoked key fails on its next call while its token is still valid', async () => {
    const k = await key(['document.write']);
    await w.gateway.callReducer('link_identity', [w.issuer, `robot:${k}`, `robot:${k}`]);
    const token = w.broker.mintRobot({ id: k }, { ttlSeconds: 900 });
    await w.gateway.callReducer('create_document', [null, tenant, 'before revocation', 'b'], { token });
    await w.gateway.callReducer('revoke_api_key', [null, k], { token: alice.token() });
    expect(w.broker.verify(token).exp * 1000).toBeGreaterThan(Date.now() + 800_000); // the token lives on
    await expectCode(w.gateway.callReducer('create_document', [null, tenant, 'after revocation', 'b'], { token }), 'REDUCER_FAILED', `api key ${k} was revoked at`);
    await expectCode(w.gateway.callReducer('create_document', [null, tenant, 'after revocation', 'b'], { token, via: 'http' }), 'REDUCER_FAILED', `by ${alice.sub}`);
    await expectCode(callAs(w.gateway, w.broker.verify(token), 'create_document', [tenant, 'after revocation', 'b']), 'REDUCER_FAILED', 'was revoked');
    expect(who(await w.lastAudit(tenant, 'api_key.revoke', { subject: k }))).toMatchObject({ actor: alice.sub, via: 'Human' });
    expect(w.gateway.rows('document', { tenant_id: tenant }).filter((d) => d.title === 'after revocation')).toEqual([]);
  });

  it('an expired key is refused, naming when it expired', async () => {
    const expiresAt = new Date(Date.now() + 3000).toISOString();
    const k = await key(['document.write'], { expiresAt });
    await callAs(w.gateway, robotClaims(k), 'create_document', [tenant, 'before expiry', 'b']);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 100));
    await expectCode(callAs(w.gateway, robotClaims(k), 'create_document', [tenant, 'after expiry', 'b']), 'REDUCER_FAILED', `api key ${k} expired at`);
  });
});

describe('delegated access: a key acting for a user', () => {
  it('needs both the key and the user to allow it, and is audited with both', async () => {
    const k = await key(['document.read', 'document.write'], { canDelegate: true });
    await callAs(w.gateway, delegatedClaims(k, bob), 'create_document', [tenant, 'for bob by a key', 'b']);
    const expected = { actor: `robot:${k}`, effective_actor: bob.sub, via: 'Delegated', key_id: k, impersonation_grant: null, gateway: w.gatewayIdentity };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toEqual(expected);
    const doc = await eventually(() => w.gateway.rows('document', { tenant_id: tenant }).find((d) => d.title === 'for bob by a key'), 'the document');
    expect(doc.owner).toBe(bob.sub);
  });

  it('outside the key grant, without delegation, or beyond the user: refused', async () => {
    const noDelegation = await key(['document.write']);
    await expectCode(callAs(w.gateway, delegatedClaims(noDelegation, bob), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `api key ${noDelegation} may not act for users`);
    const readOnly = await key(['document.read'], { canDelegate: true });
    await expectCode(callAs(w.gateway, delegatedClaims(readOnly, bob), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `api key ${readOnly} does not grant document.write`);
    const k = await key(['document.write'], { canDelegate: true });
    await expectCode(callAs(w.gateway, delegatedClaims(k, carol), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `${carol.sub}'s role in tenant ${tenant} does not grant document.write`);
  });
});

describe('the key exchange (apiKeyExchange), over any key store', () => {
  /** The app's key store: keys shown once as `sk_<keyId>_<secret>`, kept as a SHA-256 hash, found by prefix. */
  const stored = new Map();
  const issue = (keyId, userId) => {
    const presented = `sk_${keyId}_${randomBytes(16).toString('hex')}`;
    stored.set(keyId, { hash: createHash('sha256').update(presented).digest('hex'), userId });
    return presented;
  };
  const verifyKey = async (presented) => {
    const keyId = /^sk_(.+)_[0-9a-f]{32}$/.exec(presented)?.[1];
    const entry = keyId && stored.get(keyId);
    const hash = createHash('sha256').update(presented).digest('hex');
    return entry && entry.hash === hash ? { keyId, userId: entry.userId } : null;
  };

  it('a verified key becomes a robot or delegated token; revoking the grant stops the next call', async () => {
    const exchange = apiKeyExchange({ broker: w.broker, verifyKey, ttlSeconds: 600 });
    const k = await key(['document.write'], { canDelegate: true });
    const presented = issue(k, bob.sub);
    const robot = await exchange(presented);
    expect(robot).toMatchObject({ kind: 'robot', sub: `robot:${k}`, act: null });
    await callAs(w.gateway, w.broker.verify(robot.token), 'create_document', [tenant, 'exchanged robot', 'b']);
    const delegated = await exchange(presented, { forUser: true });
    expect(delegated).toMatchObject({ kind: 'delegated', sub: bob.sub, act: `robot:${k}` });
    await callAs(w.gateway, w.broker.verify(delegated.token), 'create_document', [tenant, 'exchanged for bob', 'b']);
    const expected = { actor: `robot:${k}`, effective_actor: bob.sub, via: 'Delegated', key_id: k };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toMatchObject(expected);
    await w.gateway.callReducer('revoke_api_key', [null, k], { token: alice.token() });
    // The exchange still hands out tokens (the app's store knows nothing of the grant); the module refuses.
    const after = await exchange(presented);
    await expectCode(callAs(w.gateway, w.broker.verify(after.token), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `api key ${k} was revoked at`);
    await expectCode(callAs(w.gateway, w.broker.verify(delegated.token), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `api key ${k} was revoked at`);
  });

  it('refuses a missing, unknown or tampered key, and delegation for a key without a user, with a code', async () => {
    const exchange = apiKeyExchange({ broker: w.broker, verifyKey });
    const presented = issue('k-exchange', undefined);
    for (const bad of [undefined, '', 42, 'sk_nokey_0123', `${presented.slice(0, -1)}${presented.endsWith('0') ? '1' : '0'}`]) {
      await expectCode(exchange(bad), 'API_KEY_INVALID');
    }
    await expectCode(exchange(presented, { forUser: true }), 'API_KEY_INVALID', 'belongs to no user');
  });

  it('refuses bad options, and a key check that resolves a wrong shape, before minting anything', async () => {
    const cases = [
      [undefined, 'apiKeyExchange options must be an object'],
      [{ broker: {}, verifyKey }, 'broker must be a TokenBroker of this package'],
      [{ broker: w.broker, verifyKey: 'yes' }, 'verifyKey must be a function'],
      [{ broker: w.broker, verifyKey, ttlSeconds: 1.5 }, 'ttlSeconds must be a positive whole number'],
      [{ broker: w.broker, verifyKey, ttl: 60 }, "unknown option 'ttl'"],
    ];
    for (const [options, says] of cases) expect(() => apiKeyExchange(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(says) }));
    const sloppy = apiKeyExchange({ broker: w.broker, verifyKey: async (presented) => (presented === 'no-id' ? { userId: bob.sub } : { keyId: 'k', userId: 7 }) });
    await expectCode(sloppy('no-id'), 'INVALID_ARGUMENT', 'verifyKey result: keyId must be a non-empty string');
    await expectCode(sloppy('bad-user', { forUser: true }), 'INVALID_ARGUMENT', 'verifyKey result: userId must be a non-empty string');
    await expectCode(sloppy('no-id', { forUser: 'yes' }), 'INVALID_ARGUMENT', 'forUser must be a boolean');
  });
});

describe('a robot or delegated token never passes for a person', () => {
  it('the module refuses what only a person acting as themselves may do', async () => {
    const k = await key(['document.write', 'api_key.manage'], { canDelegate: true });
    const hour_ = hour();
    await expectCode(callAs(w.gateway, robotClaims(k), 'create_api_key', [tenant, 'k2', ['document.read'], hour_, false]), 'REDUCER_FAILED', `robot:${k} is a robot: only a person acting as themselves may create api keys`);
    await expectCode(callAs(w.gateway, delegatedClaims(k, alice), 'create_api_key', [tenant, 'k3', ['document.read'], hour_, false]), 'REDUCER_FAILED', `acts for ${alice.sub} with a delegated key: only a person`);
    await expectCode(callAs(w.gateway, robotClaims(k), 'create_tenant', [uniqueId('t'), 'robots own nothing']), 'REDUCER_FAILED', 'only a person acting as themselves may create tenants');
    await w.gateway.callReducer('link_identity', [w.issuer, `robot:${k}`, `robot:${k}`]);
    await expectCode(w.gateway.callReducer('set_member', [null, tenant, `robot:${k}`, w.roleId(tenant, 'owner')], { token: alice.token() }), 'REDUCER_FAILED', 'is a robot: robots act through API key grants');
  });

  it('the gateway refuses a delegated token on a per-user call, which SpacetimeDB would run as the user', async () => {
    const k = await key(['document.write'], { canDelegate: true });
    const delegated = w.broker.mintDelegated({ sub: bob.sub, actor: `robot:${k}` });
    for (const via of ['pool', 'http']) {
      await expectCode(w.gateway.callReducer('create_document', [null, tenant, 'x', 'b'], { token: delegated, via }), 'INVALID_ARGUMENT', `robot:${k} acting for ${bob.sub}`);
    }
    // Why: straight to SpacetimeDB, the same token is simply bob — a 1.3 module cannot read `act`.
    const status = await httpCallOn({ url: w.url, db: w.db }, 'create_document', [{ none: [] }, tenant, 'bob, says SpacetimeDB', 'b'], delegated);
    expect(status).toBe(200);
    expect(who(await w.lastAudit(tenant, 'document.create', { actor: bob.sub, gateway: null }))).toMatchObject({ actor: bob.sub, via: 'Human' });
  });

  it('actorFromClaims reads only what the verified token says', () => {
    const k = 'k-shape';
    expect(actorFromClaims(robotClaims(k))).toEqual({ sub: `robot:${k}`, act: null });
    expect(actorFromClaims(delegatedClaims(k, bob))).toEqual({ sub: bob.sub, act: `robot:${k}` });
    expect(() => actorFromClaims({})).toThrow('verified claims need a sub');
  });
});
