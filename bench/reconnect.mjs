// Reconnect benchmark (`npm run bench:reconnect [-- --quick]`): how long after SpacetimeDB is back the
// gateway is live again with its projection rehydrated, against a fresh `Gateway.connect` + `subscribe`
// to the same restarted server (the baseline: what a gateway without reconnect would have to do).
//
// Each round: a gateway subscribed to ROWS documents; kill -9 the server; while it is down, change a few
// rows; restart; measure from "the database answers again" to "the gateway is live" (state event).

import { performance } from 'node:perf_hooks';
import { Gateway } from '../lib/index.js';
import { httpCallOn, startPrivateServer } from '../__test__/helpers/private-server.mjs';
import { cell, summary } from './lib/stats.mjs';
import { printTable, writeResults } from './lib/report.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 6;
const ROWS = quick ? 2_000 : 10_000;
const RECONNECT = { initialDelayMs: 50, maxDelayMs: 250, jitter: 0.2 };

const server = await startPrivateServer();
try {
  const { token } = await fetch(`${server.url}/v1/identity`, { method: 'POST' }).then((r) => r.json());
  const tenant = 'bench';
  await httpCallOn(server, 'create_tenant', [tenant, 'bench'], token);
  await httpCallOn(server, 'seed_documents', [tenant, ROWS, 100], token);
  const query = `SELECT * FROM document WHERE tenant_id = '${tenant}'`;
  const gateway = await Gateway.connect({ uri: server.url, database: server.db, subscriptions: [query], reconnect: RECONNECT });
  // When the gateway last went live (the listener runs for every state change).
  let liveAt = 0;
  let wake = () => {};
  gateway.onState((s) => {
    if (s.status === 'live') {
      liveAt = performance.now();
      wake();
    }
  });

  const reconnectMs = [];
  const coldMs = [];
  for (let round = 0; round < ROUNDS; round++) {
    await server.kill();
    const killedAt = performance.now();
    // `back`: the first moment the database answers again (polled every 2 ms).
    const back = await server.restart({ pollMs: 2 });
    while (liveAt < killedAt) await new Promise((r) => (wake = r));
    // Negative when the gateway was live before the poll saw the database (within the 2 ms poll).
    reconnectMs.push(liveAt - back);
    if (gateway.rows('document').length !== ROWS) throw new Error('the projection lost rows');

    const t0 = performance.now();
    const fresh = await Gateway.connect({ uri: server.url, database: server.db, subscriptions: [query] });
    coldMs.push(performance.now() - t0);
    await fresh.close();
  }
  await gateway.close();

  const results = { rows: ROWS, rounds: ROUNDS, backoff: RECONNECT, reconnectMs: summary(reconnectMs), coldConnectMs: summary(coldMs) };
  printTable(`Back to live after SpacetimeDB restarts (${ROWS} subscribed rows), ms: min / median / max of ${ROUNDS}`, [
    ['path', 'ms'],
    [`gateway reconnect + rehydrate (backoff ${RECONNECT.initialDelayMs}–${RECONNECT.maxDelayMs} ms)`, cell(results.reconnectMs)],
    ['baseline: fresh Gateway.connect + subscribe', cell(results.coldConnectMs)],
  ]);
  console.log(`\nraw figures: ${writeResults('reconnect', { quick, ...results })}`);
} finally {
  await server.stop();
}
