// Fan-out variant "Baseline B", the limit: a plain Node http server that decodes, filters and projects
// nothing. The writer sends it, for every transaction the server confirmed, the tenant's index and the
// transaction's SSE frames already encoded (over a Unix socket: u32 length, u16 tenant index, bytes). It
// joins what arrived for a tenant in one tick and writes it to each client of that tenant with one
// res.write (the cost is per socket write, /work/shared/docs/napi-notes.md; a relay that batches does the
// same). What is left is Node's own cost of pushing identical frames to the same clients: its SSE ceiling.
import net from 'node:net';
import { rmSync } from 'node:fs';
import { serveGateway } from './serve.mjs';

serveGateway(async ({ tenants, feedPath }) => {
  const byTenant = tenants.map(() => new Set());
  const index = new Map(tenants.map((t, i) => [t, i]));
  let writes = 0;
  rmSync(feedPath, { force: true });
  const feed = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length >= 4) {
        const length = buffered.readUInt32LE(0);
        if (buffered.length < 4 + length) break;
        const t = buffered.readUInt16LE(4);
        if (pending[t].length === 0) ready.push(t);
        pending[t].push(buffered.subarray(6, 4 + length));
        buffered = buffered.subarray(4 + length);
      }
      if (ready.length > 0 && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  });
  const pending = tenants.map(() => []);
  let ready = [];
  let scheduled = false;
  function flush() {
    scheduled = false;
    for (const t of ready) {
      const bytes = pending[t].length === 1 ? pending[t][0] : Buffer.concat(pending[t]);
      pending[t] = [];
      for (const res of byTenant[t]) {
        res.write(bytes);
        writes++;
      }
    }
    ready = [];
  }
  await new Promise((r) => feed.listen(feedPath, r));
  return {
    handler: (_req, res, tenant) => {
      const clients = byTenant[index.get(tenant)];
      if (!clients) return res.writeHead(404).end();
      // The same close-delimited framing spacetime-gateway's pipe() uses (no chunk framing per write), so
      // B stays the limit of writing through Node's http.
      res.useChunkedEncodingByDefault = false;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
      res.write('retry: 2000\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
    },
    stats: () => ({ writes }),
    close: () => new Promise((r) => feed.close(r)),
  };
});
