// `gateway.streamResponse(request)`: the Fetch-`Request` entry of streams, served by a real Node HTTP
// server through a Fetch-style adapter (helpers/fetch-server.mjs), read by a real SSE client (our parser)
// and by the `eventsource` package (a spec-following EventSource with its own reconnects).

import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { serveFetch } from './helpers/fetch-server.mjs';
import { connectSse, label } from './helpers/sse.mjs';
import { serverEnv, uniqueId } from './helpers/spacetimedb.mjs';
import { until } from './helpers/wait.mjs';

const { url, db } = serverEnv();

let gateway;
let web;
let tenant;
const createDoc = (title) => gateway.callReducer('create_document', [tenant, title, '']);

beforeAll(async () => {
  tenant = uniqueId('fetch');
  gateway = await Gateway.connect({ uri: url, database: db, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });
  await gateway.callReducer('create_tenant', [tenant, 'Fetch entry']);
  await createDoc('before any stream');
  web = await serveFetch((request) => {
    const resumeParam = new URL(request.url).pathname === '/custom' ? 'from' : undefined;
    return gateway.streamResponse(request, { tenantId: tenant, tables: ['document'], resumeParam, headers: { 'x-app': 'fixture' } });
  });
});
afterAll(async () => {
  await web?.close();
  await gateway?.close();
});

/** A stream read up to its snapshot's end; resolves the client and the end's id. */
async function snapshotted(path, base = web.url) {
  const client = await connectSse(`${base}${path}`).opened;
  await client.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
  return { client, endId: client.frames.find((x) => label(x) === 'snapshot/end').id };
}

describe('resume position from the request', () => {
  it('starts after ?after=<id> (no snapshot), and Last-Event-ID wins over the query parameter', async () => {
    const first = await snapshotted('/');
    expect(first.client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first.client.headers['x-app']).toBe('fixture');
    first.client.close();
    await createDoc('missed while away');

    const resumed = await connectSse(`${web.url}/?after=${encodeURIComponent(first.endId)}`).opened;
    await resumed.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'the missed insert');
    const events = resumed.frames.filter((x) => x.data !== undefined);
    expect(events.map(label)).toEqual(['document.insert']);
    expect(events[0].data.payload.row.title).toBe('missed while away');
    resumed.close();

    // What EventSource sends on a reconnect: the URL it started with, plus the header.
    const header = await connectSse(`${web.url}/?after=${encodeURIComponent(first.endId)}`, { lastEventId: events[0].id }).opened;
    await createDoc('after the header');
    await header.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'the live insert');
    expect(header.frames.filter((x) => x.data !== undefined).map((x) => x.data.payload.row.title)).toEqual(['after the header']);
    header.close();
  });

  it('reads a renamed query parameter, and an unknown position gives resync and a snapshot', async () => {
    const { client, endId } = await snapshotted('/custom');
    client.close();
    await createDoc('for the renamed parameter');
    const renamed = await connectSse(`${web.url}/custom?from=${encodeURIComponent(endId)}`).opened;
    await renamed.until((f) => f.some((x) => x.event === 'document.insert'), 10_000, 'the insert');
    expect(renamed.frames.some((x) => x.event === 'snapshot')).toBe(false);
    renamed.close();

    const forged = await connectSse(`${web.url}/?after=${encodeURIComponent('not-an-id-of-ours-3')}`).opened;
    await forged.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the fresh snapshot');
    expect(forged.frames.filter((x) => x.data !== undefined).map(label)[0]).toBe('resync/unknown_event_id');
    forged.close();
  });

  it('refuses a lastEventId option and a bad resumeParam with INVALID_ARGUMENT', () => {
    const request = new Request('http://localhost/');
    expect(() => gateway.streamResponse(request, { tenantId: tenant, lastEventId: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('Last-Event-ID') }));
    expect(() => gateway.streamResponse(request, { tenantId: tenant, resumeParam: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => gateway.streamResponse({ url: 'http://localhost/' }, { tenantId: tenant })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('Request') }));
  });
});

describe('the request signal', () => {
  it('ends the stream when the client goes away (the adapter never cancels the body)', async () => {
    const { client } = await snapshotted('/?probe=abort');
    expect(web.ended).not.toContain('/?probe=abort');
    client.close();
    await until(() => web.ended.includes('/?probe=abort'), 'the body to end after the abort');
  });

  it('ends a stream at once for a request that was already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const response = gateway.streamResponse(new Request('http://localhost/', { signal: controller.signal }), { tenantId: tenant });
    const text = await response.text();
    expect(text).toBe('');
  });
});

describe('a spec-following EventSource', () => {
  it('starts at ?after=, and on shutdown reconnects with Last-Event-ID after the retry hint', async () => {
    const g = await Gateway.connect({ uri: url, database: db, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });
    let current = g;
    const seen = [];
    const server = await serveFetch((request) => {
      seen.push({ lastEventId: request.headers.get('last-event-id'), after: new URL(request.url).searchParams.get('after') });
      return current.streamResponse(request, { tenantId: tenant, tables: ['document'] });
    });
    const { client, endId } = await snapshotted('/', server.url); // the page's SSR read: its position
    client.close();
    await gateway.callReducer('create_document', [tenant, 'between render and connect', '']);
    await until(() => g.rows('document', { tenant_id: tenant }).some((r) => r.title === 'between render and connect'), 'the write in the second gateway');

    const es = new EventSource(`${server.url}/?after=${encodeURIComponent(endId)}`);
    const frames = [];
    for (const type of ['snapshot', 'document.insert', 'resync', 'closed']) {
      es.addEventListener(type, (e) => frames.push({ type, data: JSON.parse(e.data), lastEventId: e.lastEventId }));
    }
    try {
      await until(() => frames.some((f) => f.type === 'document.insert'), 'the insert through EventSource');
      expect(frames.map((f) => f.type)).toEqual(['document.insert']);
      const insertId = frames[0].lastEventId;

      // Replace the gateway, as a rolling deploy replaces a replica: the old one says goodbye.
      current = await Gateway.connect({ uri: url, database: db, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });
      await g.close({ retryMs: 50 });
      await until(() => seen.length === 3, 'the reconnect');
      expect(frames.find((f) => f.type === 'closed').data.payload).toEqual({ reason: 'shutdown' });
      // seen[0]: the SSR read; seen[1]: EventSource's first request; seen[2]: its reconnect.
      expect(seen.slice(1)).toEqual([
        { lastEventId: null, after: endId },
        { lastEventId: insertId, after: endId },
      ]);
      // Another process's ids are unknown to the new gateway: a resync and a fresh snapshot, never a gap.
      await until(() => frames.some((f) => f.type === 'snapshot' && f.data.payload.phase === 'end'), 'the new snapshot');
      expect(frames.find((f) => f.type === 'resync').data.payload.reason).toBe('unknown_event_id');
    } finally {
      es.close();
      await server.close();
      await current.close();
    }
  });
});
