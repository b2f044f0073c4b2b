// One replica of an app server that relays SpacetimeDB to browsers over SSE: run several behind a load
// balancer (scripts/replicas.sh starts N of them and nginx; docs/scaling.md explains the recipe).
// Plain node:http and the package's public API, nothing else:
//   GET /events?tenant=<id>   the tenant's documents as an SSE stream (snapshot, then every change;
//                             resumes from the browser's Last-Event-ID, or ?after= for the first request)
//   GET /healthz              200 while this replica is live on SpacetimeDB and not shutting down
// SIGTERM (a rolling deploy): stop accepting connections, end every stream with `retry:` and a `closed`
// frame so browsers reconnect at once — through the balancer, to another replica — then exit.
//
// Environment: SPACETIMEDB_URL, SPACETIMEDB_DB, PORT (default 3000), HOST (default 127.0.0.1),
// REPLICA_NAME (sent as `x-replica` on every response, to see where the balancer sent a client).
import http from 'node:http';
import { Gateway, installShutdownHooks } from 'spacetime-gateway';

const { SPACETIMEDB_URL, SPACETIMEDB_DB, PORT = '3000', HOST = '127.0.0.1', REPLICA_NAME = `replica-${process.pid}` } = process.env;
if (!SPACETIMEDB_URL || !SPACETIMEDB_DB) {
  console.error('replica: set SPACETIMEDB_URL and SPACETIMEDB_DB (scripts/replicas.sh does)');
  process.exit(2);
}

// Every replica subscribes to the same rows: each holds the whole projection and can serve any tenant.
const gateway = await Gateway.connect({
  uri: SPACETIMEDB_URL,
  database: SPACETIMEDB_DB,
  subscriptions: ['SELECT * FROM document'],
  tenantColumn: 'tenant_id',
  // Relay options start the relay now rather than at the first stream: its log holds every transaction
  // from connect on, so the streams of a replica that goes away resume here, even on a replica that has
  // served nobody yet (one just restarted by a rolling deploy).
  relay: { logCapacity: 10_000 },
});

let draining = false;
const server = http.createServer((req, res) => {
  res.setHeader('x-replica', REPLICA_NAME);
  const url = new URL(req.url, 'http://replica');
  if (url.pathname === '/healthz') {
    const live = !draining && gateway.state.status === 'live';
    res.writeHead(live ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ replica: REPLICA_NAME, status: draining ? 'draining' : gateway.state.status }));
  } else if (url.pathname === '/events' && req.method === 'GET') {
    if (draining) {
      // A request that reached us while shutting down: 503, which nginx retries on another replica
      // (`proxy_next_upstream … http_503`), so the browser never sees it.
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    // A real app takes the tenant (and `principal`) from the verified session, never from the URL:
    // this recipe has no login so that the balancing is all there is to read.
    const tenantId = url.searchParams.get('tenant');
    if (!tenantId) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('?tenant= is required\n');
      return;
    }
    // The header (EventSource sends it on every reconnect) wins over ?after= (a server-rendered page's
    // gateway.snapshot() id, for the first request).
    const lastEventId = req.headers['last-event-id'] ?? url.searchParams.get('after') ?? undefined;
    gateway.stream({ tenantId, tables: ['document'], lastEventId }).pipe(res);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});
// SSE responses last for hours: no request timeout may cut them (Node 18+ defaults to 5 minutes).
server.requestTimeout = 0;
server.listen(Number(PORT), HOST, () => console.error(`replica ${REPLICA_NAME}: http://${HOST}:${PORT} (SpacetimeDB ${SPACETIMEDB_URL}/${SPACETIMEDB_DB})`));

// Registered before the shutdown hooks, so it runs first: the listening socket closes before the streams
// end, and the browsers' reconnects are refused here and retried by the balancer on another replica.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    draining = true;
    server.close();
  });
}
// gateway.close(): every stream ends with `retry: 1000` and `closed` (shutdown), calls in flight get
// deadlineMs to settle, then the process exits (code 0).
installShutdownHooks(gateway, { deadlineMs: 5_000 });
