// The IPC side every gateway process of the fan-out benchmark shares: the harness forks it, sends
// `start` (with the run's tenants) and later `stats` / `stop`; the process answers with its port. Each
// variant is its own process so /proc charges it alone for CPU and memory.
import http from 'node:http';

/**
 * @param {(msg: object) => Promise<{ handler?: (req, res, tenant: string) => void, port?: number, stats?: () => object, close?: () => Promise<void> }>} start
 *   A variant either hands requests to `handler` (served here at `/sse?t=<tenant>`) or serves `/sse?t=` on
 *   its own `port` (Baseline A's startSdkGateway has its own server).
 */
export function serveGateway(start) {
  let variant;
  let server;
  process.on('message', async (msg) => {
    try {
      if (msg.cmd === 'start') {
        variant = await start(msg);
        if (variant.port) return process.send({ port: variant.port, path: '/sse' });
        server = http.createServer((req, res) => {
          const url = new URL(req.url, 'http://x');
          const tenant = url.searchParams.get('t');
          if (url.pathname !== '/sse' || !tenant) return res.writeHead(404).end();
          variant.handler(req, res, tenant);
        });
        // Many clients connect at once: a deep accept queue, as in every variant.
        await new Promise((r) => server.listen(0, '127.0.0.1', 4096, r));
        process.send({ port: server.address().port, path: '/sse' });
      } else if (msg.cmd === 'gc') {
        global.gc?.();
        process.send({ ok: true });
      } else if (msg.cmd === 'stats') {
        process.send(variant.stats?.() ?? {});
      } else if (msg.cmd === 'stop') {
        server?.closeAllConnections();
        server?.close();
        await variant.close?.();
        process.send({ ok: true });
        process.exit(0);
      }
    } catch (e) {
      process.send({ error: String(e?.stack ?? e) });
    }
  });
}

/** One SQL subscription per tenant of the run, so a gateway holds only this run's rows. */
export const tenantQueries = (tenants) => tenants.map((t) => `SELECT * FROM document WHERE tenant_id = '${t}'`);
