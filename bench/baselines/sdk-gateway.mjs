// The baseline for spacetime-gateway's SSE benchmarks: what a team writes today with the official
// SpacetimeDB TypeScript SDK (`@clockworklabs/spacetimedb-sdk` 1.3.3) and hand-written Server-Sent Events.
//
//   const gw = await startSdkGateway({ uri, database, token });
//   // GET `${gw.url}/sse?t=<tenantId>`  ->  that tenant's document changes
//   gw.stats();  // { clients, framesWritten, ... }
//   await gw.close();
//
// One SDK connection holds the subscription (its client cache is the server-side projection); the row
// callbacks turn each change into one SSE frame per tenant and write it to that tenant's clients.
// Frames use spacetime-gateway's envelope and value mapping (docs/value-mapping.md), so the same SSE
// clients and latency probe read both:
//
//   event: document.update
//   data: {"event":"document.update","id":null,"tenant_id":"t1","schema_version":1,"payload":{"row":{…},"oldRow":{…}}}
//
// Deliberately out of scope (as in a day's work): authentication of the SSE request, a snapshot of the
// tenant's rows on connect, event ids and Last-Event-ID resume, and reconnecting the SDK (1.3.3 has no
// reconnect; when its connection drops, every stream is ended so browsers reconnect, and new ones get 503).
import http from 'node:http';

import { connectSdk, disconnectSdk } from './connect.mjs';

export { sdkTextDecoder } from './connect.mjs';

/**
 * @param {object} options
 * @param {string} options.uri                 SpacetimeDB base URL, e.g. http://127.0.0.1:3000
 * @param {string} options.database            database name or identity
 * @param {string} [options.token]             SpacetimeDB token of the gateway's identity
 * @param {string[]} [options.subscriptions]   SQL subscriptions (only `document` changes are relayed)
 * @param {number} [options.port]              0: any free port
 * @param {number} [options.retryMs]           the `retry:` hint every stream starts with
 * @param {number} [options.heartbeatMs]       `: hb` comment to every stream at this interval (0: none)
 * @param {number} [options.maxBufferedBytes]  a client whose unsent output exceeds this is disconnected
 * @returns {Promise<{ url: string, close(): Promise<void>, stats(): GatewayStats, conn: any }>}
 */
export async function startSdkGateway({
  uri,
  database,
  token,
  subscriptions = ['SELECT * FROM document'],
  port = 0,
  retryMs = 2000,
  heartbeatMs = 15_000,
  maxBufferedBytes = 1 << 20,
}) {
  const sdk = await connectSdk({ uri, database, token, compression: 'none' });
  const { conn } = sdk;

  /** tenant id -> the open responses of that tenant's SSE clients */
  const byTenant = new Map();
  let clients = 0;
  let framesWritten = 0;
  let eventsEncoded = 0;
  let slowClientsDropped = 0;
  let closing = false;
  let sdkOpen = true;

  /** Forgets a client (idempotent: a dropped slow client also emits 'close' later). */
  function detach(tenantId, targets, res) {
    if (!targets.delete(res)) return;
    clients--;
    if (targets.size === 0 && byTenant.get(tenantId) === targets) byTenant.delete(tenantId);
  }

  /**
   * Writes one change to the tenant's clients. The frame is built once per event (and per tenant: a
   * cross-tenant update is two events) and the same bytes go to every client of the tenant: all of them
   * see identical frames (no per-client ids or filters), so per-client JSON would be work for nothing.
   * A change for a tenant nobody listens to costs one Map lookup.
   */
  function relay(op, tenantId, row, oldRow) {
    const targets = byTenant.get(tenantId);
    if (targets === undefined) return;
    const event = `document.${op}`;
    const payload = oldRow === undefined ? { row: documentToJson(row) } : { row: documentToJson(row), oldRow: documentToJson(oldRow) };
    const data = JSON.stringify({ event, id: null, tenant_id: tenantId, schema_version: 1, payload });
    // Encoded to bytes once, instead of once per res.write(string).
    const frame = Buffer.from(`event: ${event}\ndata: ${data}\n\n`);
    eventsEncoded++;
    for (const res of targets) {
      res.write(frame);
      framesWritten++;
      // Node buffers without limit for a client that does not read; cut such a client off (its
      // EventSource reconnects) rather than let one slow browser grow the gateway's memory.
      if (res.writableLength > maxBufferedBytes) {
        slowClientsDropped++;
        detach(tenantId, targets, res); // now: 'close' comes later, after more writes of this transaction
        res.destroy();
      }
    }
  }

  // Initial rows (and rows leaving with an unsubscribe) are cache bookkeeping, not changes: skip them.
  const isChange = (ctx) => ctx.event.tag !== 'SubscribeApplied' && ctx.event.tag !== 'UnsubscribeApplied';
  conn.db.document.onInsert((ctx, row) => {
    if (isChange(ctx)) relay('insert', row.tenantId, row);
  });
  conn.db.document.onDelete((ctx, row) => {
    if (isChange(ctx)) relay('delete', row.tenantId, row);
  });
  conn.db.document.onUpdate((_ctx, oldRow, row) => {
    if (oldRow.tenantId === row.tenantId) {
      relay('update', row.tenantId, row, oldRow);
    } else {
      // A row moving between tenants: the old tenant must not see the new row nor the new tenant the
      // old one (it would leak the other tenant's data in `oldRow`).
      relay('delete', oldRow.tenantId, oldRow);
      relay('insert', row.tenantId, row);
    }
  });

  await new Promise((resolve, reject) => {
    conn
      .subscriptionBuilder()
      .onApplied(resolve)
      .onError((_ctx, error) => reject(new Error(`SDK subscription failed: ${error?.message ?? error}`)))
      .subscribe(subscriptions);
  }).catch(async (e) => {
    await disconnectSdk(sdk);
    throw e;
  });

  const endAll = () => {
    for (const targets of byTenant.values()) for (const res of targets) res.end();
  };

  // SDK 1.3.3 does not reconnect. If its connection drops, the projection is stale: end every stream
  // (EventSource reconnects after `retry`) and refuse new ones with 503.
  sdk.closed.then(() => {
    sdkOpen = false;
    if (!closing) {
      console.error('sdk-gateway: the SpacetimeDB connection closed; ending all streams');
      endAll();
    }
  });

  const server = http.createServer({ noDelay: true }, (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname !== '/sse' || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const tenantId = url.searchParams.get('t');
    if (!tenantId) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('missing ?t=<tenantId>\n');
      return;
    }
    if (!sdkOpen || closing) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('not connected to SpacetimeDB\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.write(`retry: ${retryMs}\n\n`);
    let targets = byTenant.get(tenantId);
    if (targets === undefined) byTenant.set(tenantId, (targets = new Set()));
    targets.add(res);
    clients++;
    res.on('close', () => detach(tenantId, targets, res));
  });
  // Many SSE clients connect at once in the benchmarks: a deep accept queue.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', 4096, () => {
      server.off('error', reject);
      resolve();
    });
  });

  // One timer for all streams: keeps proxies from closing idle streams.
  const heartbeat = Buffer.from(': hb\n\n');
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const targets of byTenant.values()) for (const res of targets) res.write(heartbeat);
        }, heartbeatMs).unref()
      : undefined;

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** The SDK connection (e.g. to call reducers or read `conn.db.document` in a benchmark). */
    conn,
    /**
     * @typedef {object} GatewayStats
     * @property {number} clients              open SSE streams
     * @property {number} framesWritten        change frames written to streams (one per event per client)
     * @property {number} eventsEncoded        change frames encoded (one per event with listeners)
     * @property {number} slowClientsDropped   streams cut off for exceeding maxBufferedBytes
     * @property {number} cachedDocuments      rows in the SDK's client cache
     * @returns {GatewayStats}
     */
    stats() {
      return { clients, framesWritten, eventsEncoded, slowClientsDropped, cachedDocuments: conn.db.document.count() };
    },
    /** Disconnects the SDK, ends every stream (what was written is delivered), closes the server. */
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeatTimer);
      await disconnectSdk(sdk);
      const finished = [];
      for (const targets of byTenant.values()) {
        for (const res of targets) finished.push(new Promise((resolve) => res.once('close', resolve)));
      }
      endAll();
      const serverClosed = new Promise((resolve) => server.close(resolve));
      let timer;
      await Promise.race([Promise.all(finished), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      // Ended streams leave idle keep-alive sockets (and a stuck client may not have read its tail).
      server.closeAllConnections();
      await serverClosed;
    },
  };
}

/**
 * A `document` row from the SDK's cache as plain JSON in spacetime-gateway's value mapping: the module's
 * snake_case column names in column order (the SDK's rows use the generator's camelCase names), u64 as a
 * decimal string (the SDK gives a bigint, which JSON.stringify rejects), Identity as 64 hex digits,
 * Timestamp as RFC 3339 UTC with exactly 6 fractional digits.
 */
export function documentToJson(row) {
  return {
    id: row.id.toString(),
    tenant_id: row.tenantId,
    title: row.title,
    body: row.body,
    owner: identityToHex(row.owner),
    updated_at: timestampToRfc3339(row.updatedAt),
    version: row.version,
  };
}

/**
 * An SDK Identity as 64 lowercase hex digits, big-endian (as `spacetime` prints identities): the same
 * text as `identity.toHexString()`, which costs ~8 µs a call in SDK 1.3.3 (it serializes the u256 to
 * bytes, reverses them and maps every byte to a string) — about 70 % of building a whole frame. The
 * Identity's public `data` is the u256 as a bigint, so its hex is one `toString(16)`.
 */
export function identityToHex(identity) {
  return identity.data.toString(16).padStart(64, '0');
}

/**
 * `2023-11-14T22:13:20.123456Z` from an SDK Timestamp (a bigint of microseconds since the epoch).
 * `Timestamp.toDate()` would truncate to milliseconds; the microseconds are kept here. Years outside
 * 0000–9999 use Date's expanded `±YYYYYY` form, as spacetime-gateway does.
 */
export function timestampToRfc3339(timestamp) {
  const micros = timestamp.__timestamp_micros_since_unix_epoch__;
  let ms = micros / 1000n;
  let us = micros % 1000n;
  if (us < 0n) {
    // BigInt division truncates toward zero; before 1970 borrow a millisecond.
    us += 1000n;
    ms -= 1n;
  }
  const iso = new Date(Number(ms)).toISOString(); // ...T22:13:20.123Z
  return `${iso.slice(0, -1)}${String(us).padStart(3, '0')}Z`;
}
