// `spacetime-gateway/h3`: `serveStream(event, gateway, options)` in real h3 apps — h3 v1 (nitropack 2,
// Analog) and h3 v2 (Nitro 3, TanStack Start) — served by Node's http server on 127.0.0.1, read by a real
// SSE client (helpers/sse.mjs) against the real SpacetimeDB started by scripts/test.sh.

import http from 'node:http';
import * as h3v1 from 'h3-v1';
import * as h3v2 from 'h3-v2';
import { serveStream } from 'spacetime-gateway/h3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { connectSse, idK, idPrefix, label, StreamModel } from './helpers/sse.mjs';
import { serverEnv, uniqueId } from './helpers/spacetimedb.mjs';
import { until } from './helpers/wait.mjs';

const { url, db } = serverEnv();
const connect = (tenant) => Gateway.connect({ uri: url, database: db, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });

/**
 * A real h3 app of each major version with one catch-all GET handler, as a Node request listener; and
 * how a handler of that version sets a response header.
 */
const VERSIONS = {
  'h3 v1': {
    listener: (handler) => {
      const app = h3v1.createApp();
      app.use(h3v1.defineEventHandler(handler));
      return h3v1.toNodeListener(app);
    },
    setHeader: (event, name, value) => h3v1.setResponseHeader(event, name, value),
  },
  'h3 v2': {
    listener: (handler) => h3v2.toNodeHandler(new h3v2.H3().get('/**', handler)),
    setHeader: (event, name, value) => event.res.headers.set(name, value),
  },
};

/** Serves `handler(event)` with `version` on a free 127.0.0.1 port. */
async function serve(version, handler) {
  const server = http.createServer(VERSIONS[version].listener(handler));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

/** A GET's status, headers and JSON body. */
async function getJson(target) {
  const r = await fetch(target);
  return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
}

const pathOf = (event) => new URL(event.path, 'http://localhost').pathname;

describe.each(Object.keys(VERSIONS))('%s', (version) => {
  let gateway;
  let web;
  let tenant;
  const routes = {};
  const createDoc = (title) => gateway.callReducer('create_document', [tenant, title, '']);
  const titles = (frames) => frames.filter((f) => f.event === 'document.insert').map((f) => f.data.payload.row.title);
  const streams = () => gateway.relayStats().streams;

  beforeAll(async () => {
    tenant = uniqueId('h3');
    gateway = await connect(tenant);
    await gateway.callReducer('create_tenant', [tenant, `h3 entry (${version})`]);
    await createDoc('before any stream');
    routes['/events'] = (event) => {
      VERSIONS[version].setHeader(event, 'x-h3', 'set the h3 way');
      return serveStream(event, gateway, { tenantId: tenant, tables: ['document'], headers: { 'x-app': 'fixture' } });
    };
    web = await serve(version, (event) => routes[pathOf(event)](event));
  });
  afterAll(async () => {
    await web?.close();
    await gateway?.close();
  });

  /** A stream of `/events` read up to its snapshot's end. */
  async function snapshotted(options) {
    const client = await connectSse(`${web.url}/events`, options).opened;
    await client.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
    return { client, endId: client.frames.find((x) => label(x) === 'snapshot/end').id };
  }

  it('streams the snapshot, then live events, with the SSE headers', async () => {
    const { client } = await snapshotted();
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers['x-app']).toBe('fixture');
    expect(client.headers['x-h3']).toBe('set the h3 way');
    const model = new StreamModel().apply(client.frames);
    expect(model.table('document').map((r) => r.title)).toEqual(['before any stream']);

    await createDoc('live');
    await client.until((f) => titles(f).includes('live'), 10_000, 'the live insert');
    expect(model.apply(client.frames).table('document').map((r) => r.title)).toEqual(['before any stream', 'live']);
    client.close();
  });

  it('resumes exactly after Last-Event-ID (which wins over ?after=), or after ?after=', async () => {
    const { client, endId } = await snapshotted();
    await createDoc('seen');
    await client.until((f) => titles(f).includes('seen'), 10_000, 'the first insert');
    const seenId = client.frames.find((f) => f.event === 'document.insert').id;
    client.close();
    await createDoc('missed 1');
    await createDoc('missed 2');

    // EventSource's reconnect: the URL of its first request, plus the header.
    const resumed = await connectSse(`${web.url}/events?after=${encodeURIComponent(endId)}`, { lastEventId: seenId }).opened;
    await resumed.until((f) => titles(f).length >= 2, 10_000, 'the missed inserts');
    await createDoc('live after resume');
    await resumed.until((f) => titles(f).length >= 3, 10_000, 'the live insert');
    const events = resumed.frames.filter((f) => f.data !== undefined);
    expect(events.map(label)).toEqual(['document.insert', 'document.insert', 'document.insert']);
    expect(titles(events)).toEqual(['missed 1', 'missed 2', 'live after resume']);
    // Ids go on from the one resumed after: nothing repeated, nothing skipped in between.
    const model = new StreamModel();
    [model.lastK, model.lastPrefix, model.lastId] = [idK(seenId), idPrefix(seenId), seenId];
    model.apply(resumed.frames);
    resumed.close();

    // The page's first request: only the query parameter.
    const first = await connectSse(`${web.url}/events?after=${encodeURIComponent(endId)}`).opened;
    await first.until((f) => titles(f).length >= 4, 10_000, 'every insert since the snapshot');
    expect(first.frames.filter((f) => f.data !== undefined).map(label)).toEqual(Array(4).fill('document.insert'));
    expect(titles(first.frames)).toEqual(['seen', 'missed 1', 'missed 2', 'live after resume']);
    first.close();
  });

  it('ends the stream and frees its relay slot when the client disconnects', async () => {
    await until(() => streams() === 0, "the earlier tests' streams to end");
    const { client } = await snapshotted();
    expect(streams()).toBe(1);
    client.close();
    await until(() => streams() === 0, 'the relay to drop the stream');
  });

  it('opens no stream for a client that left while the handler awaited', async () => {
    await until(() => streams() === 0, "the earlier tests' streams to end");
    let served;
    let started;
    const begun = new Promise((resolve) => (started = resolve));
    routes['/slow'] = async (event) => {
      const gone = new Promise((resolve) => event.node.res.once('close', resolve));
      started();
      await gone; // the handler's own awaits (auth, the gateway) outlast the client
      served = serveStream(event, gateway, { tenantId: tenant, tables: ['document'] });
      return served;
    };
    const client = connectSse(`${web.url}/slow`);
    client.opened.catch(() => {}); // destroyed before any response
    await begun;
    client.close();
    await until(() => served !== undefined, 'the handler to serve');
    await served;
    expect(streams()).toBe(0);
  });

  it('answers a coded error as HTTP status + JSON, never a stack trace', async () => {
    routes['/bad-table'] = (event) => serveStream(event, gateway, { tenantId: tenant, tables: ['no_such_table'] });
    routes['/last-event-id'] = (event) => serveStream(event, gateway, { tenantId: tenant, lastEventId: 'x' });
    routes['/not-a-gateway'] = (event) => serveStream(event, {}, { tenantId: tenant });
    routes['/bad-headers'] = (event) => serveStream(event, gateway, { tenantId: tenant, headers: [['name-without-value']] });
    for (const path of ['/bad-table', '/last-event-id', '/not-a-gateway', '/bad-headers']) {
      const r = await getJson(`${web.url}${path}`);
      expect(r.status, path).toBe(400);
      expect(r.type, path).toBe('application/json; charset=utf-8');
      expect(Object.keys(r.body.error), path).toEqual(['code', 'message']);
      expect(r.body.error.code, path).toBe('INVALID_ARGUMENT');
      expect(r.body.error.message, path).not.toMatch(/\n\s+at /);
    }
    expect((await getJson(`${web.url}/bad-table`)).body.error.message).toContain('no_such_table');
    expect(streams()).toBe(0); // none opened and left unconsumed

    // A gateway that cannot connect (a promise of one, as a lazy singleton gives), and a closed one.
    const unreachable = Gateway.connect({ uri: 'http://127.0.0.1:9', database: db });
    unreachable.catch(() => {});
    const closed = await connect(tenant);
    await closed.close();
    routes['/unreachable'] = (event) => serveStream(event, unreachable, { tenantId: tenant });
    routes['/closed'] = (event) => serveStream(event, closed, { tenantId: tenant });
    const down = await getJson(`${web.url}/unreachable`);
    expect([down.status, down.body.error.code]).toEqual([503, 'CONNECT_FAILED']);
    const gone = await getJson(`${web.url}/closed`);
    expect([gone.status, gone.body.error.code]).toEqual([503, 'CLOSED']);
  });

  it("ends the stream with the package's farewell frame when the gateway closes", async () => {
    const own = await connect(tenant);
    routes['/own'] = (event) => serveStream(event, own, { tenantId: tenant, tables: ['document'] });
    const client = await connectSse(`${web.url}/own`).opened;
    await client.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
    await own.close({ retryMs: 50 });
    await client.until((_, c) => c.ended, 10_000, 'the stream to end');
    const tail = client.frames.slice(client.frames.findIndex((x) => label(x) === 'snapshot/end') + 1).filter((x) => x.comment === undefined);
    expect(tail.map(label)).toEqual(['retry', 'closed/shutdown']);
    expect(tail[0].retry).toBe(50);
  });
});
