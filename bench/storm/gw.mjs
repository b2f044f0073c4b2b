// The gateway process of the snapshot-storm scenario: the package at `root` (this clone, or the baseline
// of base.mjs) with the given relay options, serving `gateway.stream({ tenantId, tables: ['document'],
// principal: { sub } }).pipe(res)` at /sse?t=<tenant>[&sub=<principal>] — the documented use.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { serveGateway } from '../fanout/serve.mjs';

serveGateway(async ({ uri, database, root, relay }) => {
  const { Gateway } = createRequire(import.meta.url)(join(root, 'lib', 'index.js'));
  const gateway = await Gateway.connect({ uri, database, subscriptions: ['SELECT * FROM document'], relay });
  return {
    handler: (req, res, tenantId) => {
      const sub = new URL(req.url, 'http://x').searchParams.get('sub');
      gateway.stream({ tenantId, tables: ['document'], ...(sub ? { principal: { sub } } : {}) }).pipe(res);
    },
    // The baseline has no relayStats(): its snapshot bytes encoded are the bytes its clients received.
    stats: () => (typeof gateway.relayStats === 'function' ? gateway.relayStats() : null),
    close: () => gateway.close(),
  };
});
