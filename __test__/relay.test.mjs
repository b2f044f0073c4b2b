// The SSE relay against the real server, through real HTTP servers (Node `http` with `stream.pipe`, and a
// Fetch-style handler with `toResponse`) and a real SSE client that parses every frame.

import { execFile } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, GatewayError } from '../lib/index.js';
import { connectSse, idK, label, StreamModel } from './helpers/sse.mjs';
import { newIdentity, serverEnv, uniqueId } from './helpers/spacetimedb.mjs';

const { url, db } = serverEnv();

/**
 * Serves `gateway.stream()` over HTTP: `/node?o=<json>[&pipe=<json>]` pipes (with those pipe options),
 * `/fetch?o=<json>` goes through a Response. `&after=<id>` is a server-rendered page's
 * `snapshot().lastEventId` (EventSource cannot send Last-Event-ID on its first request); the header,
 * sent on reconnects, wins.
 */
async function serve(gateway) {
  const opened = [];
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://localhost');
    const lastEventId = req.headers['last-event-id'] ?? u.searchParams.get('after') ?? undefined;
    const options = { ...JSON.parse(u.searchParams.get('o')), lastEventId };
    let stream;
    try {
      stream = gateway.stream(options);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`${e.code}: ${e.message}`);
      return;
    }
    opened.push({ stream, res });
    if (u.pathname === '/node') {
      stream.pipe(res, u.searchParams.has('pipe') ? JSON.parse(u.searchParams.get('pipe')) : undefined);
      return;
    }
    // What a Fetch-style framework does with the handler's Response.
    const response = stream.toResponse({ headers: { 'x-handler': 'fetch' } });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    const reader = response.body.getReader();
    res.on('close', () => reader.cancel().catch(() => {}));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
    }
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    opened,
    url: (path, options, pipe, after) =>
      `${base}${path}?o=${encodeURIComponent(JSON.stringify(options))}${pipe ? `&pipe=${encodeURIComponent(JSON.stringify(pipe))}` : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

const byId = (a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1);
const rowsOf = (gateway, tenant) => gateway.rows('document', { tenant_id: tenant }).sort(byId);
const converged = (gateway, tenant) => (frames, c) => {
  const model = (c.model ??= new StreamModel()).apply(frames);
  return !model.resyncing && JSON.stringify(model.table('document')) === JSON.stringify(rowsOf(gateway, tenant));
};

/** Runs `use(gateway, web)` with a gateway of its own whose relay log holds only 2 events; returns it closed. */
async function withTwoEventLog(use) {
  const small = await Gateway.connect({ uri: url, database: db, token: alice.token, subscriptions: ['SELECT * FROM document'], relay: { logCapacity: 2 } });
  const smallWeb = await serve(small);
  try {
    await use(small, smallWeb);
  } finally {
    await smallWeb.close();
    await small.close();
  }
  return small;
}

/** The client `connecting` to `gateway` (tenant `tenant`) gets `resync` (gap) and a fresh snapshot. */
async function expectGapResync(gateway, connecting) {
  const c = await connecting.opened;
  await c.until(converged(gateway, tenant), 10_000, 'the gap resync');
  expect(c.frames.slice(1, 3).map(label)).toEqual(['resync/gap', 'snapshot/begin']);
  c.close();
}

let alice;
let gateway;
let web;
let tenant;
let other;

beforeAll(async () => {
  alice = await newIdentity();
  tenant = uniqueId('rt');
  other = uniqueId('ro');
  gateway = await Gateway.connect({ uri: url, database: db, token: alice.token, subscriptions: ['SELECT * FROM document', 'SELECT * FROM membership'], relay: { logCapacity: 1000 } });
  await gateway.callReducer('create_tenant', [tenant, 'Relay tests']);
  await gateway.callReducer('create_tenant', [other, 'Other tenant']);
  await gateway.callReducer('seed_documents', [tenant, 30, 20]);
  await gateway.callReducer('seed_documents', [other, 5, 20]);
  web = await serve(gateway);
});
afterAll(async () => {
  await web?.close();
  await gateway?.close();
});

describe('snapshot then increments', () => {
  it('loses and repeats nothing at the seam while writes keep coming (Node http and Fetch handlers)', async () => {
    const writes = [];
    const clients = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const docs = gateway.rows('document', { tenant_id: tenant });
        const target = docs[i % docs.length];
        const both = [
          gateway.callReducer('create_document', [tenant, `load ${i}`, 'b']),
          gateway.callReducer('create_document', [other, `noise ${i}`, 'b']),
          gateway.callReducer('update_document', [target.id, `upd ${i}`, 'b']).catch(() => null),
        ];
        if (i % 7 === 3) both.push(gateway.callReducer('delete_document', [docs[(i * 3) % docs.length].id]).catch(() => null));
        writes.push(...both);
        await Promise.all(both);
      }
    })();
    // Clients join at different moments of the load, through both kinds of handler.
    for (const path of ['/node', '/fetch', '/node', '/fetch']) {
      await new Promise((r) => setTimeout(r, 120));
      clients.push(await connectSse(web.url(path, { tenantId: tenant, tables: ['document'] })).opened);
    }
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await writer;
    await Promise.allSettled(writes);
    for (const c of clients) {
      await c.until(converged(gateway, tenant), 15_000, 'the client to hold the tenant rows');
      expect(c.status).toBe(200);
      expect(c.frames[0].retry).toBeGreaterThan(0);
      expect(label(c.frames[1])).toBe('snapshot/begin');
      const live = c.frames.filter((f) => f.event.startsWith('document.'));
      expect(live.length, 'live events after the snapshot').toBeGreaterThan(0);
      // Isolation at the HTTP level: every row is the tenant's.
      for (const f of c.frames.filter((f) => f.data)) {
        const rows = f.event === 'snapshot' ? (f.data.payload.rows ?? []) : [f.data.payload.row, f.data.payload.oldRow].filter(Boolean);
        for (const row of rows) expect(row.tenant_id).toBe(tenant);
        expect(f.data.tenant_id).toBe(tenant);
      }
      c.close();
    }
    expect(clients[1].headers['x-handler']).toBe('fetch');
    for (const c of clients) {
      expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(c.headers['cache-control']).toBe('no-cache, no-transform');
      expect(c.headers['x-accel-buffering']).toBe('no');
    }
  }, 60_000);

  it('streams to an async iterator as Uint8Array chunks', async () => {
    const stream = gateway.stream({ tenantId: other, tables: ['document'] });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of stream) {
      expect(chunk).toBeInstanceOf(Uint8Array);
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('"phase":"end"')) break;
    }
    expect(stream.ended).toBe(true);
    expect(text).toMatch(/^retry: \d+\n\n/);
    expect(text).toContain(`"tenant_id":"${other}"`);
    expect(() => stream.pipe(new http.ServerResponse(new http.IncomingMessage()))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('pipe framing', () => {
  it('is close-delimited by default and chunked on request; both end cleanly when the stream ends', async () => {
    const cases = [
      { pipe: undefined, transferEncoding: undefined, connection: 'close' },
      { pipe: { chunked: true }, transferEncoding: 'chunked', connection: 'keep-alive' },
    ];
    for (const { pipe, transferEncoding, connection } of cases) {
      const sid = uniqueId('framing');
      const c = await connectSse(web.url('/node', { tenantId: tenant, tables: ['document'], principal: { sub: 'u', sid } }, pipe)).opened;
      await c.until((frames) => frames.some((f) => f.data && label(f) === 'snapshot/end'), 10_000, 'the snapshot');
      expect(c.headers['transfer-encoding']).toBe(transferEncoding);
      expect(c.headers.connection).toBe(connection);
      await gateway.callReducer('create_document', [tenant, `framing ${sid}`, 'b']);
      await c.until((frames) => frames.some((f) => f.event === 'document.insert' && f.data.payload.row.title === `framing ${sid}`), 10_000, 'a live event');
      expect(gateway.revoke({ sid })).toBe(1);
      await c.until((_, client) => client.ended, 10_000, 'the response to end');
      expect(label(c.frames.at(-1))).toMatch(/^revoked\//);
      expect(c.complete, 'the body ended as its framing says, not cut off').toBe(true);
    }
  });

  it('rejects pipe options that are not { chunked: boolean }', () => {
    const stream = gateway.stream({ tenantId: tenant, tables: ['document'] });
    const res = new http.ServerResponse(new http.IncomingMessage());
    for (const bad of [null, 'chunked', { chunked: 'yes' }]) {
      expect(() => stream.pipe(res, bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('chunked') }));
    }
    expect(res.headersSent).toBe(false);
    stream.close();
  });
});

describe('resume with Last-Event-ID', () => {
  it('continues exactly after the last id', async () => {
    const options = { tenantId: tenant, tables: ['document'] };
    const first = await connectSse(web.url('/node', options)).opened;
    await first.until(converged(gateway, tenant), 10_000, 'the snapshot');
    await gateway.callReducer('create_document', [tenant, 'before the cut', 'x']);
    await first.until(converged(gateway, tenant), 10_000, 'the insert');
    const model = first.model;
    first.close();
    await first.until((_, c) => c.ended);
    await gateway.callReducer('create_document', [tenant, 'while away 1', 'x']);
    await gateway.callReducer('create_document', [other, 'not for us', 'x']);
    await gateway.callReducer('create_document', [tenant, 'while away 2', 'x']);
    const again = await connectSse(web.url('/node', options), { lastEventId: first.lastEventId }).opened;
    await again.until((f) => f.filter((x) => x.event === 'document.insert').length === 2, 10_000, 'the missed inserts');
    expect(again.frames.map(label)).toEqual(['retry', 'document.insert', 'document.insert']);
    expect(again.frames.map((f) => f.data?.payload.row.title).slice(1)).toEqual(['while away 1', 'while away 2']);
    expect(again.frames[1].id).not.toBe(first.lastEventId);
    // The resumed client's state is the tenant's rows.
    again.model = model;
    model.seen = 0;
    await again.until(converged(gateway, tenant), 5_000, 'convergence');
    again.close();
  });

  it('resyncs with a reason, then a fresh snapshot, for garbled, foreign, mid-snapshot and too-old ids', async () => {
    const options = { tenantId: tenant, tables: ['document'] };
    const probe = await connectSse(web.url('/node', options)).opened;
    await probe.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    probe.close();
    const epoch = probe.lastEventId.slice(0, probe.lastEventId.lastIndexOf('-'));
    const k = idK(probe.lastEventId);
    const cases = [
      ['garbage', 'resync/unknown_event_id'],
      [`0123456789ab-${k}`, 'resync/unknown_event_id'],
      [`${epoch}-${k - 1n}`, 'resync/snapshot_incomplete'], // the snapshot's begin id (3P+1)
    ];
    for (const [lastEventId, reason] of cases) {
      const c = await connectSse(web.url('/node', options), { lastEventId }).opened;
      await c.until(converged(gateway, tenant), 10_000, reason);
      expect(c.frames.slice(1, 3).map(label)).toEqual([reason, 'snapshot/begin']);
      c.close();
    }
    // Too old: a gateway whose log holds only 2 events.
    await withTwoEventLog(async (small, smallWeb) => {
      const c1 = await connectSse(smallWeb.url('/node', options)).opened;
      await c1.until((f) => f.some((x) => label(x) === 'snapshot/end'));
      c1.close();
      for (let i = 0; i < 4; i++) await small.callReducer('create_document', [tenant, `old ${i}`, 'x']);
      await expectGapResync(small, connectSse(smallWeb.url('/node', options), { lastEventId: c1.lastEventId }));
    });
  });
});

describe('backpressure', () => {
  it('a stalled client is resynced while a normal client keeps receiving promptly', async () => {
    const options = { tenantId: other, tables: ['document'], maxQueueBytes: 256 * 1024 };
    const stalled = await connectSse(web.url('/node', options)).opened;
    const normal = await connectSse(web.url('/node', options)).opened;
    await stalled.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    await normal.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    stalled.stall();
    const serverSide = web.opened.at(-2).res;
    // 16 MB of new rows in 80 transactions of 200 KB (each within a stream's 256 KiB queue): far more than
    // the stalled socket's kernel buffers.
    const before = normal.frames.length;
    const started = performance.now();
    for (let i = 0; i < 80; i++) await gateway.callReducer('seed_documents', [other, 50, 4_000]);
    const committed = performance.now();
    await normal.until((f) => f.slice(before).filter((x) => x.event === 'document.insert').length === 4000, 30_000, 'the normal client');
    expect(normal.frames.slice(before).map(label)).not.toContain('resync/slow_client');
    const lag = normal.frames.at(-1).at - committed;
    console.log(`backpressure: normal client got 4000 inserts (16 MB) ${Math.round(lag)} ms after the last commit (writes took ${Math.round(committed - started)} ms)`);
    // The stalled stream holds a bounded amount in Node (at most about one take per stream), not 24 MB.
    expect(serverSide.writableLength).toBeLessThan(2 * 1024 * 1024);
    stalled.unstall();
    const resynced = (f) => {
      const at = f.findIndex((x) => label(x) === 'resync/slow_client');
      return at >= 0 && f.slice(at).some((x) => label(x) === 'snapshot/end');
    };
    await stalled.until(resynced, 30_000, 'the stalled client to resync');
    await stalled.until(converged(gateway, other), 5_000, 'the stalled client to hold the rows');
    stalled.close();
    normal.close();
  }, 90_000);
});

describe('authorization changes', () => {
  it('revoke ends matching streams with a revoked frame within milliseconds', async () => {
    const mk = (sub, sid) => connectSse(web.url('/fetch', { tenantId: tenant, tables: ['document'], principal: { sub, sid } })).opened;
    const [a1, a2, b] = await Promise.all([mk('alice', 's1'), mk('alice', 's2'), mk('bob', 's3')]);
    for (const c of [a1, a2, b]) await c.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    const t0 = performance.now();
    expect(gateway.revoke({ sub: 'alice' }, { reason: 'membership removed' })).toBe(2);
    await a1.until((_, c) => c.ended, 5_000, 'a1 to end');
    await a2.until((_, c) => c.ended, 5_000, 'a2 to end');
    const ms = Math.max(a1.frames.at(-1).at, a2.frames.at(-1).at) - t0;
    console.log(`revoke: revoked frames arrived ${ms.toFixed(2)} ms after revoke()`);
    expect(ms).toBeLessThan(2000);
    for (const c of [a1, a2]) expect(label(c.frames.at(-1))).toBe('revoked/membership removed');
    expect(b.ended).toBe(false);
    expect(gateway.revoke({ streamId: web.opened.at(-1).stream.id })).toBe(1);
    await b.until((_, c) => c.ended, 5_000, 'b to end');
    expect(gateway.revoke({ sub: 'alice' })).toBe(0);
    expect(() => gateway.revoke({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('narrow restricts a live stream with a resync and the narrowed snapshot within milliseconds', async () => {
    const c = await connectSse(web.url('/node', { tenantId: tenant, tables: ['document', 'membership'], principal: { sub: 'carol' } })).opened;
    await c.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    const memberships = c.frames.filter((f) => f.data?.payload.table === 'membership').flatMap((f) => f.data.payload.rows);
    expect(memberships.length).toBeGreaterThan(0);
    const before = c.frames.length;
    const t0 = performance.now();
    const { stream } = web.opened.at(-1);
    expect(stream.narrow({ tables: ['document'], where: { document: { title: 'narrowed' } } })).toBe(1);
    await c.until((f) => f.slice(before).some((x) => label(x) === 'snapshot/end'), 5_000, 'the narrowed snapshot');
    const ms = c.frames.at(-1).at - t0;
    console.log(`narrow: narrowed snapshot complete ${ms.toFixed(2)} ms after narrow()`);
    expect(ms).toBeLessThan(2000);
    const after = c.frames.slice(before);
    expect(label(after[0])).toBe('resync/narrowed');
    expect(after.filter((f) => f.data?.payload.phase === 'rows').flatMap((f) => f.data.payload.rows)).toEqual([]);
    await gateway.callReducer('create_document', [tenant, 'not narrowed', 'x']);
    await gateway.callReducer('create_document', [tenant, 'narrowed', 'x']);
    await c.until((f) => f.some((x) => x.event === 'document.insert'), 5_000, 'the matching insert');
    expect(c.frames.filter((x) => x.event === 'document.insert').map((x) => x.data.payload.row.title)).toEqual(['narrowed']);
    // Widening is refused.
    expect(() => gateway.narrow({ sub: 'carol' }, { tables: ['membership'] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    c.close();
  });
});

describe('snapshot storms', () => {
  it('200 streams of one principal on one tenant each get a complete snapshot then live events, at most maxSnapshotsPerPrincipal at a time, while another tenant stays live', async () => {
    const stormTenant = uniqueId('storm');
    const quiet = uniqueId('quiet');
    const g = await Gateway.connect({
      uri: url,
      database: db,
      token: alice.token,
      subscriptions: ['SELECT * FROM document'],
      relay: { maxSnapshotsPerPrincipal: 4, snapshotBytesPerTake: 65536 },
    });
    const s = await serve(g);
    try {
      await g.callReducer('create_tenant', [stormTenant, 'Storm']);
      await g.callReducer('create_tenant', [quiet, 'Quiet']);
      await g.callReducer('seed_documents', [stormTenant, 200, 500]);
      const live = await connectSse(s.url('/node', { tenantId: quiet, tables: ['document'] })).opened;
      await live.until(converged(g, quiet), 10_000, "the live stream's snapshot");
      // The relay's counters on every turn of the event loop while the storm runs (takes run between turns).
      let sampling = true;
      let most = 0;
      let waited = 0;
      const sampler = (async () => {
        while (sampling) {
          const stats = g.relayStats();
          most = Math.max(most, stats.snapshotsInProgress);
          waited = Math.max(waited, stats.snapshotsWaiting);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const t0 = performance.now();
      const storm = await Promise.all(
        Array.from({ length: 200 }, (_, i) => connectSse(s.url('/node', { tenantId: stormTenant, tables: ['document'], principal: { sub: 'storm', sid: `s${i}` } })).opened),
      );
      // Writes while the storm runs, on both tenants.
      const liveTimes = [];
      for (let i = 0; i < 10; i++) {
        const called = performance.now();
        await g.callReducer('create_document', [quiet, `live ${i}`, 'x']);
        await g.callReducer('create_document', [stormTenant, `during ${i}`, 'x']);
        await live.until((f) => f.some((x) => x.event === 'document.insert' && x.data.payload.row.title === `live ${i}`), 20_000, `live ${i}`);
        liveTimes.push(live.frames.at(-1).at - called);
      }
      for (const c of storm) await c.until(converged(g, stormTenant), 60_000, 'a storm stream to hold the tenant rows');
      const stormMs = performance.now() - t0;
      sampling = false;
      await sampler;
      expect(most, 'snapshots in progress at once').toBeLessThanOrEqual(4);
      expect(waited, 'streams waited for their turn').toBeGreaterThan(0);
      await live.until(converged(g, quiet), 10_000, 'the live stream to hold its rows');
      for (const c of storm) {
        const labels = c.frames.map(label);
        expect(labels[0]).toBe('retry');
        expect(labels.filter((l) => l === 'snapshot/begin')).toHaveLength(1);
        expect(labels.filter((l) => l === 'snapshot/end')).toHaveLength(1);
        expect(labels.filter((l) => l.startsWith('resync'))).toEqual([]);
      }
      // Live after the storm: each stream gets the next write exactly once (the model fails on a repeat).
      await g.callReducer('create_document', [stormTenant, 'after the storm', 'x']);
      for (const c of storm) await c.until(converged(g, stormTenant), 10_000, 'the write after the storm');
      const stats = g.relayStats();
      expect(stats.snapshotBytesShared, 'storm streams shared rows frames').toBeGreaterThan(0);
      console.log(
        `storm: 200 snapshots complete in ${Math.round(stormMs)} ms; other tenant's live events ${liveTimes.map((x) => x.toFixed(1)).join(', ')} ms; ` +
          `rows frames encoded ${stats.snapshotBytesEncoded} bytes, shared ${stats.snapshotBytesShared} bytes`,
      );
      for (const c of storm) c.close();
      live.close();
    } finally {
      await s.close();
      await g.close();
    }
  }, 120_000);
});

describe('server rendering: snapshot() and the page stream', () => {
  const selection = (t) => ({ tenantId: t, tables: ['document'] });
  /** A client model holding a rendered page's rows, as the page's script would. */
  const pageModel = (page) => {
    const model = new StreamModel();
    model.rows = new Map(page.rows.document.map((row) => [`document:${row.id}`, row]));
    return model;
  };

  it('reads rows as rows() does; the stream continues exactly after them, without a snapshot', async () => {
    const page = gateway.snapshot(selection(tenant));
    expect(Object.keys(page.rows)).toEqual(['document']);
    expect([...page.rows.document].sort(byId)).toEqual(rowsOf(gateway, tenant));
    expect(typeof page.lastEventId).toBe('string');
    // Writes between the render and the page's connect.
    const titles = Array.from({ length: 5 }, (_, i) => `${uniqueId('after-render')} ${i}`);
    for (const title of titles) {
      await gateway.callReducer('create_document', [tenant, title, 'x']);
      await gateway.callReducer('create_document', [other, `not ours ${title}`, 'x']);
    }
    const c = await connectSse(web.url('/node', selection(tenant), undefined, page.lastEventId)).opened;
    c.model = pageModel(page);
    await c.until(converged(gateway, tenant), 10_000, 'the writes since the render');
    // And live after that.
    await gateway.callReducer('create_document', [tenant, 'live after connect', 'x']);
    await c.until(converged(gateway, tenant), 10_000, 'a live write');
    expect(c.frames.map(label)).toEqual(['retry', ...Array(6).fill('document.insert')]);
    expect(c.frames.slice(1, 6).map((f) => f.data.payload.row.title)).toEqual(titles);
    c.close();
  });

  it('a write racing the render is in the rows or after the id, exactly once', async () => {
    for (let i = 0; i < 6; i++) {
      const title = `${uniqueId('racing')} ${i}`;
      const call = gateway.callReducer('create_document', [tenant, title, 'x']);
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, i));
      const page = gateway.snapshot(selection(tenant));
      await call;
      const c = await connectSse(web.url('/fetch', selection(tenant), undefined, page.lastEventId)).opened;
      c.model = pageModel(page);
      await c.until(converged(gateway, tenant), 10_000, `convergence after ${title}`);
      const inRows = page.rows.document.filter((r) => r.title === title).length;
      const inEvents = c.frames.filter((f) => f.event === 'document.insert' && f.data.payload.row.title === title).length;
      expect(inRows + inEvents, title).toBe(1);
      expect(c.frames.map(label).filter((l) => l.startsWith('snapshot') || l.startsWith('resync'))).toEqual([]);
      c.close();
    }
  });

  it('another tenant, a narrower selection or an id older than the log resyncs with a fresh snapshot', async () => {
    const page = gateway.snapshot(selection(tenant));
    const cases = [
      [selection(other), 'resync/selection_changed', other],
      [{ ...selection(tenant), where: { document: { title: 'narrowed' } } }, 'resync/selection_changed', tenant],
    ];
    for (const [options, reason, t] of cases) {
      const c = await connectSse(web.url('/node', options, undefined, page.lastEventId)).opened;
      await c.until((f) => f.some((x) => x.data && label(x) === 'snapshot/end'), 10_000, reason);
      expect(c.frames.slice(1, 3).map(label)).toEqual([reason, 'snapshot/begin']);
      for (const f of c.frames.filter((x) => x.data?.payload.phase === 'rows')) for (const row of f.data.payload.rows) expect(row.tenant_id).toBe(t);
      c.close();
    }
    // A gateway whose relay has not started: snapshot() starts it, and its id resumes; a log of 2 events
    // no longer covers 4 writes.
    const small = await withTwoEventLog(async (small, smallWeb) => {
      expect(small.relayStats().streams).toBe(0);
      const first = small.snapshot(selection(tenant));
      await small.callReducer('create_document', [tenant, 'within the log', 'x']);
      const c1 = await connectSse(smallWeb.url('/node', selection(tenant), undefined, first.lastEventId)).opened;
      c1.model = pageModel(first);
      await c1.until(converged(small, tenant), 10_000, 'the write since the first render');
      expect(c1.frames.map(label)).toEqual(['retry', 'document.insert']);
      c1.close();
      const second = small.snapshot(selection(tenant));
      for (let i = 0; i < 4; i++) await small.callReducer('create_document', [tenant, `beyond the log ${i}`, 'x']);
      await expectGapResync(small, connectSse(smallWeb.url('/node', selection(tenant), undefined, second.lastEventId)));
    });
    expect(() => small.snapshot(selection(tenant))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('rejects bad options with coded errors', () => {
    const bad = [
      [{}, 'tenantId is required'],
      [{ tenantId: 't', lastEventId: 'x' }, "unknown option 'lastEventId'"],
      [{ tenantId: 't', tables: ['nope'] }, "no table named 'nope'"],
      [{ tenantId: 't', principal: 'u' }, 'principal must be'],
    ];
    for (const [options, message] of bad) {
      expect(() => gateway.snapshot(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) }));
    }
    expect(() => gateway.snapshot(null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('heartbeats, errors, close', () => {
  it('sends the retry hint first and heartbeat comments while idle', async () => {
    const c = await connectSse(web.url('/node', { tenantId: uniqueId('idle'), tables: ['document'], heartbeatMs: 200, retryMs: 1234 })).opened;
    await c.until((f) => f.filter((x) => x.comment === 'hb').length >= 2, 5_000, 'two heartbeats');
    expect(c.frames[0].retry).toBe(1234);
    const beats = c.frames.filter((x) => x.comment === 'hb').map((x) => x.at);
    expect(beats[1] - beats[0]).toBeGreaterThanOrEqual(150);
    c.close();
  });

  it('rejects bad options with coded errors', async () => {
    const bad = [
      [{}, 'tenantId is required'],
      [{ tenantId: 't', tables: ['nope'] }, "no table named 'nope'"],
      [{ tenantId: 't', where: { document: { nope: 1 } } }, "no column 'nope'"],
      [{ tenantId: 't', heartbeatMs: -5 }, 'heartbeatMs'],
      [{ tenantId: 't', overflow: 'explode' }, 'overflow'],
      [{ tenantId: 't', bogus: true }, "unknown option 'bogus'"],
    ];
    for (const [options, message] of bad) {
      expect(() => gateway.stream(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) }));
    }
    expect(() => gateway.stream(null)).toThrow(GatewayError);
    const r = await fetch(web.url('/node', { tenantId: 't', tables: ['nope'] }));
    expect(r.status).toBe(400);
    await expect(Gateway.connect({ uri: url, database: db, tenantColumn: { document: 'nope' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Gateway.connect({ uri: url, database: db, sharedTables: ['nope'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Gateway.connect({ uri: url, database: db, relay: { logCapacity: -1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    for (const relay of [{ maxSnapshotsPerPrincipal: 0 }, { snapshotBytesPerTake: 100 }]) {
      await expect(Gateway.connect({ uri: url, database: db, relay })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(Object.keys(relay)[0]) });
    }
  });

  it('ends every stream on close, refuses new ones, and lets the process exit', async () => {
    const g = await Gateway.connect({ uri: url, database: db, subscriptions: ['SELECT * FROM document'] });
    const s = await serve(g);
    const c = await connectSse(s.url('/node', { tenantId: tenant, tables: ['document'] })).opened;
    await c.until((f) => f.some((x) => label(x) === 'snapshot/end'));
    await g.close();
    await c.until((_, x) => x.ended, 5_000, 'the stream to end');
    expect(() => g.stream({ tenantId: tenant })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await s.close();

    const script = `
      const http = require('node:http');
      const { Gateway } = require(${JSON.stringify(new URL('../lib/index.js', import.meta.url).pathname)});
      (async () => {
        const g = await Gateway.connect({ uri: ${JSON.stringify(url)}, database: ${JSON.stringify(db)}, subscriptions: ['SELECT * FROM document'] });
        const server = http.createServer((req, res) => g.stream({ tenantId: 'x', heartbeatMs: 100 }).pipe(res));
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        await new Promise((r) => http.get('http://127.0.0.1:' + server.address().port, (res) => { res.once('data', r); res.on('close', () => console.log('client saw the end')); }));
        const iterated = g.stream({ tenantId: 'y' });
        const done = (async () => { for await (const _ of iterated); console.log('iterator done'); })();
        await g.close();
        await done;
        server.close();
        console.log('closed');
      })();`;
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { timeout: 15000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(out.trim().split('\n').sort()).toEqual(['client saw the end', 'closed', 'iterator done']);
  });
});
