// Actor attribution against the real SpacetimeDB 1.3.0: who the module records as the actor of a write
// made through the gateway — service (the gateway names the actor), per-user (the user's own token over
// the pool or the HTTP route) and hybrid (subscriptions on the service connection, writes per user).
// Every check reads the module's own records back (document.owner, audit_event.actor/via) over SQL.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, TokenBroker } from '../lib/index.js';
import { httpCall, newIdentity, serverEnv, sql, uniqueId } from './helpers/spacetimedb.mjs';
import { allTypesRow, expectCode } from './helpers/values.mjs';
import { appIssuer, asOwner, documentAndAudit, satsIdentity, serverConnections } from './helpers/topology.mjs';

const { url, db } = serverEnv();

let app; // the app's issuer (served on 127.0.0.1) and its broker
let gateway; // the service connection, a trusted gateway, subscribed to the test tenant's documents
let gatewayIdentity;
let tenant;
const alice = { sub: uniqueId('user') };
const bob = { sub: uniqueId('user') };

beforeAll(async () => {
  app = await appIssuer();
  const robot = app.broker.mintRobot({ id: uniqueId('gateway') });
  gatewayIdentity = app.broker.identityFor(app.broker.verify(robot).sub);
  await asOwner('trust_gateway', [satsIdentity(gatewayIdentity), 'topology tests']);
  for (const user of [alice, bob]) {
    user.token = app.broker.mint({ sub: user.sub });
    user.identity = app.broker.identityFor(user.sub);
  }
  tenant = uniqueId('t');
  gateway = await Gateway.connect({ uri: url, database: db, token: robot, userCalls: { verifier: app.broker } });
  // Alice creates the tenant as herself; the gateway maps both actor ids to their identities.
  await gateway.callReducer('create_tenant', [tenant, 'Topology'], { token: alice.token });
  for (const user of [alice, bob]) await gateway.callReducer('map_actor', [user.sub, user.identity]);
  await gateway.subscribe([`SELECT * FROM document WHERE tenant_id = '${tenant}'`]);
});

afterAll(async () => {
  await gateway?.close();
  expect(await app?.stop()).toBe(0);
});

describe('service topology: the gateway names the actor', () => {
  it('records the named actor as owner and actor, and the gateway as via', async () => {
    expect(gateway.identity).toBe(gatewayIdentity);
    const result = await gateway.callReducer('create_document_as', [tenant, 'as alice via service', 'b'], { actor: alice.sub });
    expect(result).toMatchObject({ status: 'committed', via: 'service', requestId: expect.any(Number) });
    expect(result.timestamp).toMatch(/Z$/);
    expect(await documentAndAudit(tenant, 'as alice via service')).toEqual({ owner: alice.identity, actor: alice.identity, via: gatewayIdentity });
  });

  it('fills the actor for positional and named args alike, and checks the actor is a member', async () => {
    await gateway.callReducer('create_document_as', { tenant_id: tenant, title: 'named args', body: 'b' }, { actor: alice.sub });
    expect((await documentAndAudit(tenant, 'named args')).owner).toBe(alice.identity);
    // Bob is mapped but not a member of the tenant: the module refuses to act for him.
    await expectCode(gateway.callReducer('create_document_as', [tenant, 'as bob', 'b'], { actor: bob.sub }), 'REDUCER_FAILED', 'not a member');
    await expectCode(gateway.callReducer('create_document_as', [tenant, 'unmapped', 'b'], { actor: 'user_unmapped' }), 'REDUCER_FAILED', 'not mapped');
  });

  it('refuses actor mistakes before sending, telling where the actor must come from', async () => {
    const before = (await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`)).length;
    const hint = 'verified session';
    await expectCode(gateway.callReducer('create_document_as', [alice.sub, tenant, 'twice', 'b'], { actor: alice.sub }), 'INVALID_ARGUMENT', hint);
    await expectCode(gateway.callReducer('create_document_as', { actor: 'x', tenant_id: tenant, title: 'twice', body: 'b' }, { actor: alice.sub }), 'INVALID_ARGUMENT', 'both in args');
    await expectCode(gateway.callReducer('create_document', [tenant, 'no actor param', 'b'], { actor: alice.sub }), 'INVALID_ARGUMENT', 'does not take an actor');
    await expectCode(gateway.callReducer('create_document_as', [tenant, 'empty', 'b'], { actor: '' }), 'INVALID_ARGUMENT', hint);
    await expectCode(gateway.callReducer('create_document_as', [tenant, 'number', 'b'], { actor: 42 }), 'INVALID_ARGUMENT', hint);
    await expectCode(gateway.callReducer('create_document', [tenant, 'via alone', 'b'], { via: 'http' }), 'INVALID_ARGUMENT', 'only to calls with opts.token');
    await expectCode(gateway.callReducer('create_document', [tenant, 'bad via', 'b'], { token: alice.token, via: 'carrier-pigeon' }), 'INVALID_ARGUMENT', "'pool' or 'http'");
    expect((await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`)).length).toBe(before);
  });

  it('a client-supplied actor through an untrusted connection is rejected by the module', async () => {
    // Alice's own connection (the gateway as a per-user caller, and a gateway of her own, and raw HTTP):
    // she is not a trusted gateway, so she cannot claim to be Bob — not even to be herself.
    const untrusted = await Gateway.connect({ uri: url, database: db, token: alice.token });
    try {
      await expectCode(untrusted.callReducer('create_document_as', [tenant, 'forged', 'b'], { actor: bob.sub }), 'REDUCER_FAILED', 'not a trusted gateway');
      await expectCode(untrusted.callReducer('create_document_as', [bob.sub, tenant, 'forged positional', 'b']), 'REDUCER_FAILED', 'not a trusted gateway');
    } finally {
      await untrusted.close();
    }
    for (const via of ['pool', 'http']) {
      await expectCode(gateway.callReducer('create_document_as', [tenant, `forged ${via}`, 'b'], { actor: bob.sub, token: alice.token, via }), 'REDUCER_FAILED', 'not a trusted gateway');
    }
    const raw = await httpCall('create_document_as', [bob.sub, tenant, 'forged raw', 'b'], alice.token);
    expect(raw.status).toBe(530);
    expect(raw.text).toContain('not a trusted gateway');
    // Nor may an untrusted identity map actors or trust itself.
    expect((await httpCall('map_actor', [bob.sub, satsIdentity(alice.identity)], alice.token)).text).toContain('only the database owner or a trusted gateway');
    expect((await httpCall('trust_gateway', [satsIdentity(alice.identity), 'me'], alice.token)).text).toContain('only the database owner');
    const titles = (await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`)).map((d) => d.title);
    expect(titles.filter((t) => t.startsWith('forged'))).toEqual([]);
  });
});

describe('per-user topology: the module sees the user as ctx.sender', () => {
  for (const via of ['pool', 'http']) {
    it(`over ${via === 'pool' ? 'the per-user pool' : 'the HTTP call route'}`, async () => {
      const title = `as alice over ${via}`;
      const result = await gateway.callReducer('create_document', [tenant, title, 'b'], { token: alice.token, via });
      expect(result.status).toBe('committed');
      expect(result.via).toBe(via);
      if (via === 'http') {
        expect(result).toMatchObject({ timestamp: null, requestId: null });
        expect(result.durationMicros).toBeGreaterThanOrEqual(0);
      } else {
        expect(result.timestamp).toMatch(/Z$/);
      }
      expect(await documentAndAudit(tenant, title)).toEqual({ owner: alice.identity, actor: alice.identity, via: null });
    });
  }

  it('the same user is the same identity whichever topology carried the write', async () => {
    const titles = ['same: service', 'same: pool', 'same: http'];
    await gateway.callReducer('create_document_as', [tenant, titles[0], 'b'], { actor: alice.sub });
    await gateway.callReducer('create_document', [tenant, titles[1], 'b'], { token: alice.token, via: 'pool' });
    await gateway.callReducer('create_document', [tenant, titles[2], 'b'], { token: alice.token, via: 'http' });
    const owners = await Promise.all(titles.map(async (t) => (await documentAndAudit(tenant, t)).owner));
    expect(owners).toEqual([alice.identity, alice.identity, alice.identity]);
  });

  it('maps failures to codes on both routes', async () => {
    for (const via of ['pool', 'http']) {
      await expectCode(gateway.callReducer('create_document', [tenant, ' ', 'b'], { token: alice.token, via }), 'REDUCER_FAILED', 'title must not be empty');
      // Bob has a valid token but no membership: the module's own rule, with Bob as ctx.sender.
      await expectCode(gateway.callReducer('create_document', [tenant, 'bob', 'b'], { token: bob.token, via }), 'REDUCER_FAILED', 'not a member');
      await expectCode(gateway.callReducer('no_such_reducer', [], { token: alice.token, via }), 'INVALID_ARGUMENT', 'no_such_reducer');
      await expectCode(gateway.callReducer('create_document', [tenant, 'x', 'b'], { token: 'not-a-jwt', via }), 'INVALID_ARGUMENT', 'opts.token');
    }
  });

  it('with a verifier, tokens the app would refuse are refused before anything is sent', async () => {
    // Same issuer and key, another audience: SpacetimeDB would accept it (it never checks aud); the
    // gateway's verifier does not.
    const elsewhere = new TokenBroker({ issuer: app.broker.issuer, audience: 'elsewhere', keys: app.key });
    const wrongAudience = elsewhere.mint({ sub: alice.sub });
    expect((await httpCall('create_document', [tenant, 'aud check', 'b'], wrongAudience)).status).toBe(200);
    for (const via of ['pool', 'http']) {
      const err = await expectCode(gateway.callReducer('create_document', [tenant, `wrong aud ${via}`, 'b'], { token: wrongAudience, via }), 'TOKEN_AUDIENCE');
      expect(err.message).not.toContain(wrongAudience);
    }
    const titles = (await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`)).map((d) => d.title);
    expect(titles.filter((t) => t.startsWith('wrong aud'))).toEqual([]);
  });

  it('without a verifier, a rejected token is UNAUTHORIZED and never costs the user their connection', async () => {
    const plain = await Gateway.connect({ uri: url, database: db, userCalls: { maxConnections: 4 } });
    try {
      await plain.callReducer('record_once', [uniqueId('k')], { token: alice.token });
      const forged = `${alice.token.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`;
      for (const via of ['pool', 'http']) {
        const err = await expectCode(plain.callReducer('record_once', [uniqueId('forged')], { token: forged, via }), 'UNAUTHORIZED');
        expect(err.message).not.toContain(forged.split('.')[1]); // tokens never appear in messages
      }
      expect(plain.poolStats()).toMatchObject({ connections: 1, idle: 1, opened: 1 });
      // Alice's own token still rides her connection.
      await plain.callReducer('record_once', [uniqueId('k')], { token: alice.token });
      expect(plain.poolStats().opened).toBe(1);
      // A second genuine token of hers is another string: without a verifier it gets its own connection,
      // which replaces the first.
      const second = app.broker.mint({ sub: alice.sub, sid: 'another-session' });
      await plain.callReducer('record_once', [uniqueId('k')], { token: second });
      expect(plain.poolStats()).toMatchObject({ opened: 2 });
      expect(plain.poolStats().connections).toBeLessThanOrEqual(2);
    } finally {
      await plain.close();
    }
  });

  it('with a verifier, every verified token of a user shares that user\'s pooled connection', async () => {
    const opened = gateway.poolStats().opened;
    for (const sid of ['s1', 's2', 's3']) {
      await gateway.callReducer('record_once', [uniqueId(sid)], { token: app.broker.mint({ sub: alice.sub, sid }) });
    }
    // Alice's connection was opened in beforeAll; three new token strings opened nothing new.
    expect(gateway.poolStats().opened).toBe(opened);
  });

  it('executes each call once (record_once counts executions)', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => uniqueId(`once-${i}`));
    await Promise.all(keys.map((key, i) => gateway.callReducer('record_once', [key], { token: alice.token, via: i % 2 ? 'pool' : 'http' })));
    const markers = await sql(`SELECT * FROM once_marker`);
    const ours = markers.filter((m) => keys.includes(m.key));
    expect(ours.map((m) => m.executions)).toEqual(keys.map(() => 1));
  });
});

describe('hybrid topology (the default): subscriptions on the service connection, writes per user', () => {
  it('a per-user write shows up in the service projection with the user as caller', async () => {
    const seen = new Promise((resolve) => {
      const stop = gateway.onChange((changes, meta) => {
        if (changes.some((c) => c.row.title === 'hybrid write')) {
          stop();
          resolve(meta);
        }
      });
    });
    const result = await gateway.callReducer('create_document', [tenant, 'hybrid write', 'b'], { token: alice.token });
    expect(result.via).toBe('pool'); // userCalls.via defaults to the pool
    expect((await seen).callerIdentity).toBe(alice.identity);
    const [doc] = gateway.rows('document', { tenant_id: tenant }).filter((d) => d.title === 'hybrid write');
    expect(doc.owner).toBe(alice.identity);
  });

  it('a call without a token is the gateway\'s own (ctx.sender = the gateway)', async () => {
    const own = uniqueId('t-own');
    expect((await gateway.callReducer('create_tenant', [own, 'Gateway-owned'])).via).toBe('service');
    const [row] = await sql(`SELECT * FROM tenant WHERE id = '${own}'`);
    expect(row.created_by[0].replace(/^0x/, '')).toBe(gatewayIdentity);
  });
});

describe('SpacetimeDB JSON on the HTTP route', () => {
  it('sends every value type so the server stores what the pool stores', async () => {
    const g = await Gateway.connect({ uri: url, database: db, subscriptions: ['SELECT * FROM all_types'] });
    const user = await newIdentity();
    const base = Math.floor(Math.random() * 2 ** 30);
    const row = (id) => allTypesRow(id, 'http-values');
    try {
      const arrived = (id) =>
        new Promise((resolve) => {
          const check = () => g.rows('all_types', { id }).length > 0 && (stop(), resolve());
          const stop = g.onChange(check);
          check();
        });
      for (const [id, via] of [
        [base, 'http'],
        [base + 1, 'pool'],
      ]) {
        const landed = arrived(id);
        await g.callReducer('insert_all_types', [row(id)], { token: user.token, via });
        await landed;
        expect(g.rows('all_types', { id })).toEqual([row(id)]);
      }
      // Scalars one by one: a u64 above 2^53, an i128, an identity, Option some/none, bytes, enums.
      const id = base + 2;
      const scalars = [id, 2n ** 64n - 2n, -(2n ** 100n), row(id).a_identity, '1999-12-31T23:59:59.999999Z', null, new Uint8Array([1, 2, 254]), 'Green', { tag: 'Label', value: 'x' }];
      const landed = arrived(id);
      await g.callReducer('set_scalars', scalars, { token: user.token, via: 'http' });
      await landed;
      expect(g.rows('all_types', { id })[0]).toMatchObject({
        a_u64: (2n ** 64n - 2n).toString(),
        a_i128: (-(2n ** 100n)).toString(),
        a_identity: row(id).a_identity,
        a_timestamp: '1999-12-31T23:59:59.999999Z',
        maybe_string: null,
        bytes: '0102fe',
        color: 'Green',
        shape: { tag: 'Label', value: 'x' },
      });
    } finally {
      await g.close();
    }
  });
});

describe('trust is the module\'s to give and take', () => {
  it('after distrust_gateway the gateway can no longer name actors', async () => {
    const robot = app.broker.mintRobot({ id: uniqueId('short-lived-gateway') });
    const other = await Gateway.connect({ uri: url, database: db, token: robot });
    try {
      await asOwner('trust_gateway', [satsIdentity(other.identity), 'to be distrusted']);
      await other.callReducer('create_document_as', [tenant, 'trusted once', 'b'], { actor: alice.sub });
      await asOwner('distrust_gateway', [satsIdentity(other.identity)]);
      await expectCode(other.callReducer('create_document_as', [tenant, 'no longer', 'b'], { actor: alice.sub }), 'REDUCER_FAILED', 'not a trusted gateway');
      expect((await documentAndAudit(tenant, 'trusted once')).via).toBe(other.identity);
    } finally {
      await other.close();
    }
  });
});

describe('close', () => {
  it('closes every pooled connection', async () => {
    const user = { sub: uniqueId('closing-user') };
    user.token = app.broker.mint({ sub: user.sub });
    const g = await Gateway.connect({ uri: url, database: db, userCalls: { idleTimeoutMs: 600_000 } });
    await g.callReducer('record_once', [uniqueId('k')], { token: user.token });
    const identity = app.broker.identityFor(user.sub);
    expect((await serverConnections(identity)).length).toBe(1);
    await g.close();
    expect(g.poolStats().connections).toBe(0);
    // The server drops its record when it processed the close (asynchronously): poll for it.
    for (let i = 0; (await serverConnections(identity)).length > 0; i++) {
      if (i > 100) throw new Error('the server still lists the pooled connection');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const via of ['pool', 'http']) await expectCode(g.callReducer('record_once', ['k'], { token: user.token, via }), 'CLOSED');
  });
});
