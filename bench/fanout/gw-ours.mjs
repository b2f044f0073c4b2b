// Fan-out variant "spacetime-gateway": the package as documented, `gateway.stream(...).pipe(res)`.
import { Gateway } from '../../lib/index.js';
import { serveGateway, tenantQueries } from './serve.mjs';

serveGateway(async ({ uri, database, tenants }) => {
  const gateway = await Gateway.connect({ uri, database, subscriptions: tenantQueries(tenants) });
  let streams = 0;
  return {
    // Default stream limits (1,000 events / 1 MiB queued per client), like Baseline A's 1 MiB.
    handler: (_req, res, tenantId) => {
      streams++;
      gateway.stream({ tenantId, tables: ['document'] }).pipe(res);
    },
    stats: () => ({ streams }),
    close: () => gateway.close(),
  };
});
