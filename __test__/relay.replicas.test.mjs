// Three gateway replicas on one database (three gateways, each with its own SpacetimeDB connection and its
// own relay, as three app server processes have) behind their own HTTP servers, with real SSE clients: a
// stream resumes on another replica exactly (database ids), a revoke request published through the module's
// `stream_revocation` table ends the matching streams on all of them, so does deleting a membership row the
// streams watch (`revokeOn`), and a replica that lost its connection resyncs positions from before its gap
// instead of resuming across it. (The balancer, 1,000 clients, kill -9 and rolling restarts: replicas.test.mjs.)

import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { connectSse, label, StreamModel } from './helpers/sse.mjs';
import { newIdentity, serverEnv, uniqueId } from './helpers/spacetimedb.mjs';
import { until } from './helpers/wait.mjs';

const { url, db, ownerToken } = serverEnv();
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A replica: a gateway connected as the database owner (the revocation table is private) and a plain
 * Node server streaming `/events?tenant=…&sub=…&sid=…[&membership=<id>]`, resuming after the
 * `Last-Event-ID` header. (A test server: a real app takes the principal from the verified session.) */
async function replica() {
  const gateway = await Gateway.connect({
    uri: url,
    database: db,
    token: ownerToken,
    subscriptions: ['SELECT * FROM document', 'SELECT * FROM stream_revocation', 'SELECT * FROM membership'],
    relay: {
      logCapacity: 1000,
      revocations: { table: 'stream_revocation', sub: 'user_id', sidSha256: 'session_sha256', tenantId: 'tenant_id', reason: 'reason' },
    },
  });
  const server = http.createServer((req, res) => {
    const q = new URL(req.url, 'http://localhost').searchParams;
    const stream = gateway.stream({
      tenantId: q.get('tenant'),
      tables: ['document'],
      principal: { sub: q.get('sub'), sid: q.get('sid') },
      revokeOn: q.has('membership') ? { membership: { id: q.get('membership') } } : undefined,
      lastEventId: req.headers['last-event-id'],
    });
    stream.pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    gateway,
    events: (tenant, sub, sid, lastEventId, membership) =>
      connectSse(`${base}/events?tenant=${tenant}&sub=${sub}&sid=${sid}${membership ? `&membership=${membership}` : ''}`, { lastEventId }).opened,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await gateway.close();
    },
  };
}

const byId = (a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1);
const rowsOf = (gateway, tenant) => gateway.rows('document', { tenant_id: tenant }).sort(byId);
/** The client's model holds exactly the tenant's rows (and checks that nothing repeated or went missing). */
const converged = (gateway, tenant) => (frames, c) => {
  const model = (c.model ??= new StreamModel()).apply(frames);
  return !model.resyncing && JSON.stringify(model.table('document')) === JSON.stringify(rowsOf(gateway, tenant));
};

let a;
let b;
let c;
let tenant;
let alice;

beforeAll(async () => {
  [a, b, c] = await Promise.all([replica(), replica(), replica()]);
  alice = await newIdentity();
  tenant = uniqueId('rep');
  await a.gateway.callReducer('create_tenant', [tenant, 'Replicas']);
  await a.gateway.callReducer('seed_documents', [tenant, 5, 20]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), c?.close()]);
});

describe('replicas of one database', () => {
  it('resume a stream exactly on the other replica, without a resync', async () => {
    const first = await a.events(tenant, 'alice', 'sess-a');
    await first.until(converged(a.gateway, tenant), 10_000, 'the snapshot on A');
    await a.gateway.callReducer('create_document', [tenant, 'seen on A', 'x']);
    await first.until(converged(a.gateway, tenant), 10_000, 'the insert on A');
    expect(first.lastEventId).toMatch(/^t[0-9a-f]{24}-\d+$/);
    const model = first.model;
    first.close();
    // Written while the browser reconnects; the balancer sends it to B.
    await a.gateway.callReducer('create_document', [tenant, 'missed 1', 'x']);
    await b.gateway.callReducer('create_document', [tenant, 'missed 2', 'x']);
    await until(() => rowsOf(b.gateway, tenant).length === rowsOf(a.gateway, tenant).length, 'B caught up', 5_000);
    const second = await b.events(tenant, 'alice', 'sess-a', first.lastEventId);
    second.model = model;
    model.seen = 0;
    await second.until(converged(b.gateway, tenant), 10_000, 'the missed inserts on B');
    expect(second.frames.map(label)).toEqual(['retry', 'document.insert', 'document.insert']);
    expect(second.frames.slice(1).map((f) => f.data.payload.row.title)).toEqual(['missed 1', 'missed 2']);
    // And B's live events follow with the same ids A gives them.
    const onA = await a.events(tenant, 'alice', 'sess-a2', second.lastEventId);
    await b.gateway.callReducer('create_document', [tenant, 'live', 'x']);
    await second.until((f) => f.length === 4, 10_000, 'the live insert on B');
    await onA.until((f) => f.length === 2, 10_000, 'the live insert on A');
    expect(onA.frames[1].id).toBe(second.frames[3].id);
    expect(onA.frames[1].data).toEqual(second.frames[3].data);
    second.close();
    onA.close();
  });

  it('a revoke request in the module table ends the matching streams on every replica', async () => {
    const revoked = [await a.events(tenant, 'alice', 'sess-1'), await b.events(tenant, 'alice', 'sess-1'), await c.events(tenant, 'alice', 'sess-1')];
    const others = [await b.events(tenant, 'alice', 'sess-2'), await a.events(tenant, 'bob', 'sess-3'), await c.events(tenant, 'bob', 'sess-4')];
    for (const s of [...revoked, ...others]) await s.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    const started = performance.now();
    await a.gateway.callReducer('revoke_streams', ['', sha256('sess-1'), '', 'signed out']);
    const ended = await Promise.all(revoked.map((s) => s.until((_, x) => x.ended, 10_000, 'the end').then(() => performance.now() - started)));
    for (const s of revoked) expect(s.frames.map(label).at(-1)).toBe('revoked/signed out');
    // Other sessions and users keep streaming.
    await a.gateway.callReducer('create_document', [tenant, 'after the revocation', 'x']);
    for (const s of others) {
      await s.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'a live insert');
      expect(s.ended).toBe(false);
      s.close();
    }
    console.log(`revoke_streams → the session's streams ended on the 3 replicas ${ended.map((ms) => ms.toFixed(1)).join(' / ')} ms after the call started`);
  });

  it('deleting a membership row ends that member\'s streams for the tenant on every replica, and no one else\'s', async () => {
    const dave = await newIdentity();
    await a.gateway.callReducer('set_member', [tenant, dave.identity, 'Member']);
    await until(() => [a, b, c].every((r) => r.gateway.rows('membership', { tenant_id: tenant }).some((m) => m.member === dave.identity)), 'the membership on every replica', 5_000);
    const membership = a.gateway.rows('membership', { tenant_id: tenant }).find((m) => m.member === dave.identity).id;
    const daves = [await a.events(tenant, 'dave', 'sess-d', undefined, membership), await b.events(tenant, 'dave', 'sess-d', undefined, membership), await c.events(tenant, 'dave', 'sess-d', undefined, membership)];
    const bob = await b.events(tenant, 'bob', 'sess-b');
    for (const s of [...daves, bob]) await s.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    const started = performance.now();
    await a.gateway.callReducer('remove_member', [tenant, dave.identity]);
    const ended = await Promise.all(daves.map((s) => s.until((_, x) => x.ended, 10_000, 'the end').then(() => performance.now() - started)));
    for (const s of daves) expect(s.frames.map(label).slice(-2)).toEqual(['retry', 'closed/authorization_changed']);
    await a.gateway.callReducer('create_document', [tenant, 'after the removal', 'x']);
    await bob.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'a live insert for bob');
    expect(bob.ended).toBe(false);
    bob.close();
    console.log(`remove_member → the member's streams ended on the 3 replicas ${ended.map((ms) => ms.toFixed(1)).join(' / ')} ms after the call started`);
  });

  it('a request naming nobody is refused by the module, and the revocation table is the owner’s', async () => {
    await expect(a.gateway.callReducer('revoke_streams', ['', '', '', 'x'])).rejects.toMatchObject({ code: 'REDUCER_FAILED' });
    await expect(a.gateway.callReducer('revoke_streams', ['', 'not-a-digest', '', 'x'])).rejects.toMatchObject({ code: 'REDUCER_FAILED' });
    const stranger = await Gateway.connect({ uri: url, database: db, token: alice.token });
    try {
      await expect(stranger.callReducer('revoke_streams', ['alice', '', '', 'x'])).rejects.toMatchObject({
        code: 'REDUCER_FAILED',
        message: expect.stringContaining('only the database owner or a trusted gateway'),
      });
    } finally {
      await stranger.close();
    }
  });

  it('a bad revocations option fails the connect, naming the column', async () => {
    const connecting = Gateway.connect({
      uri: url,
      database: db,
      token: ownerToken,
      subscriptions: ['SELECT * FROM stream_revocation'],
      relay: { revocations: { table: 'stream_revocation', sub: 'no_such_column' } },
    });
    await expect(connecting).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("revocations.sub: table stream_revocation has no column 'no_such_column'"),
    });
  });

  it('a replica that lost its connection resyncs positions from before its gap', async () => {
    const onA = await a.events(tenant, 'carol', 'sess-c');
    await onA.until(converged(a.gateway, tenant), 10_000, 'the snapshot on A');
    await a.gateway.callReducer('create_document', [tenant, 'before the gap', 'x']);
    await onA.until(converged(a.gateway, tenant), 10_000, 'the insert on A');
    const beforeGap = onA.lastEventId;
    // B's connection drops (as a network failure would); a write lands while it is away; B reconnects
    // and brings its projection up to date by difference.
    b.gateway.dropConnection('test: the network between B and SpacetimeDB failed');
    await a.gateway.callReducer('create_document', [tenant, 'during the gap', 'x']);
    await until(() => rowsOf(b.gateway, tenant).length === rowsOf(a.gateway, tenant).length, 'B reconnected', 15_000);
    await onA.until(converged(a.gateway, tenant), 10_000, 'the insert on A');
    onA.close();
    const onB = await b.events(tenant, 'carol', 'sess-c', beforeGap);
    await onB.until(converged(b.gateway, tenant), 10_000, 'the resync on B');
    expect(onB.frames.slice(1, 3).map(label)).toEqual(['resync/unknown_event_id', 'snapshot/begin']);
    onB.close();
    // Positions after the gap resume on B again.
    const live = await a.events(tenant, 'carol', 'sess-c2');
    await live.until(converged(a.gateway, tenant), 10_000, 'a fresh stream on A');
    await a.gateway.callReducer('create_document', [tenant, 'after the gap 1', 'x']);
    await a.gateway.callReducer('create_document', [tenant, 'after the gap 2', 'x']);
    await live.until(converged(a.gateway, tenant), 10_000, 'the inserts on A');
    await until(() => rowsOf(b.gateway, tenant).length === rowsOf(a.gateway, tenant).length, 'B caught up', 5_000);
    const resumed = await b.events(tenant, 'carol', 'sess-c2', live.lastEventId);
    await b.gateway.callReducer('create_document', [tenant, 'after the gap 3', 'x']);
    await resumed.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'a live insert on B');
    expect(resumed.frames.map(label)).toEqual(['retry', 'document.insert']);
    live.close();
    resumed.close();
  });
});
