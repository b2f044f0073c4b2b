// Per-user reducer calls: the per-user pool against the HTTP call route, with the gateway's own (service)
// connection as the baseline, in one run. Run with a fresh server and a release build:
//
//   bash scripts/with-spacetimedb.sh --release -- node --expose-gc bench/calls.mjs [--quick]
//
// 1. Latency of sequential calls (ms; per mode: min / median / max of the per-repeat medians, and p50 /
//    p99 over every sample):
//    - service: the gateway's own connection (`callReducer` without a token) — the floor;
//    - pool, warm: users whose pooled connection is open (the common case for active users);
//    - pool, cold: every call from a new user (opens a connection: websocket + token check by the server);
//    - http: every call a POST to the call route (keep-alive; the server runs connect/disconnect per call).
// 2. Throughput with 32 concurrent users (calls/s), pool (warm) against http.
// 3. Memory per pooled connection: RSS growth per connection opened (needs --expose-gc).
// Each call is `record_once(key)`, a one-row write. `--memory-only` runs only 3 (for `npm run bench`).

import { performance } from 'node:perf_hooks';
import { Gateway, TokenBroker, generateKeyPair } from '../lib/index.js';
import { startIssuer } from '../__test__/helpers/auth.mjs';
import { cell, fmt, quantile, summary } from './lib/stats.mjs';
import { printTable, writeResults } from './lib/report.mjs';

const quick = process.argv.includes('--quick');
const memoryOnly = process.argv.includes('--memory-only');
const REPEATS = quick ? 3 : 5;
const CALLS = quick ? 100 : 300; // sequential calls per mode and repeat
const WARM_USERS = 20;
const CONCURRENT_USERS = 32;
const CONCURRENT_CALLS = quick ? 20 : 50; // per user and repeat
const MEMORY_CONNECTIONS = quick ? 100 : 300;
const uri = process.env.SPACETIMEDB_URL;
const database = process.env.SPACETIMEDB_DB;
if (!uri || !database) throw new Error('run through scripts/with-spacetimedb.sh (it starts SpacetimeDB)');
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc (the memory figure needs it)');

const key = generateKeyPair();
const issuer = await startIssuer([key]);
const broker = new TokenBroker({ issuer: issuer.issuer, audience: 'spacetimedb', keys: key, ttlSeconds: 3600 });
const run = Date.now().toString(36);
let userCount = 0;
const newUser = () => broker.mint({ sub: `bench-${run}-${userCount++}` });
let keyCount = 0;
const nextKey = () => `bench-${run}-${keyCount++}`;

// Enough room that the pool never evicts here: the cold figure is the cost of opening, not of evicting.
const gateway = await Gateway.connect({ uri, database, token: broker.mintRobot({ id: 'bench' }), userCalls: { maxConnections: 10_000 } });
const warmUsers = Array.from({ length: WARM_USERS }, newUser);
for (const token of warmUsers) await gateway.callReducer('record_once', [nextKey()], { token, via: 'pool' });

const modes = {
  service: () => gateway.callReducer('record_once', [nextKey()]),
  'pool, warm': (i) => gateway.callReducer('record_once', [nextKey()], { token: warmUsers[i % WARM_USERS], via: 'pool' }),
  'pool, cold (new user)': () => gateway.callReducer('record_once', [nextKey()], { token: newUser(), via: 'pool' }),
  http: (i) => gateway.callReducer('record_once', [nextKey()], { token: warmUsers[i % WARM_USERS], via: 'http' }),
};

/** Milliseconds of each of `n` sequential calls. */
async function sequential(call, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Calls/s with `users` concurrent callers making `each` calls. */
async function concurrent(via, users, each) {
  const start = performance.now();
  await Promise.all(
    users.map(async (token) => {
      for (let i = 0; i < each; i++) await gateway.callReducer('record_once', [nextKey()], { token, via });
    }),
  );
  return (users.length * each) / ((performance.now() - start) / 1000);
}

// --- 1. latency ---------------------------------------------------------------------------------------------
let latencyResults = null;
let throughputResults = null;
if (!memoryOnly) {
  for (const call of Object.values(modes)) await sequential(call, 20); // warm-up (JIT, HTTP keep-alive)
  const latency = Object.fromEntries(Object.keys(modes).map((m) => [m, { medians: [], samples: [] }]));
  for (let r = 0; r < REPEATS; r++) {
    for (const [mode, call] of Object.entries(modes)) {
      const samples = await sequential(call, CALLS);
      latency[mode].medians.push(quantile(samples, 0.5));
      latency[mode].samples.push(...samples);
    }
  }
  latencyResults = Object.fromEntries(
    Object.entries(latency).map(([mode, { medians, samples }]) => [
      mode,
      { medianMs: summary(medians), p50Ms: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99), calls: samples.length },
    ]),
  );
  printTable(`Sequential call latency, ms (${REPEATS} repeats × ${CALLS} calls per mode)`, [
    ['mode', 'median per repeat: min / median / max', 'p50', 'p99'],
    ...Object.entries(latencyResults).map(([mode, r]) => [mode, cell(r.medianMs), fmt(r.p50Ms), fmt(r.p99Ms)]),
  ]);

  // --- 2. throughput ------------------------------------------------------------------------------------------
  const concurrentUsers = Array.from({ length: CONCURRENT_USERS }, newUser);
  await concurrent('pool', concurrentUsers, 2); // opens their connections
  const throughput = { pool: [], http: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const via of ['pool', 'http']) throughput[via].push(await concurrent(via, concurrentUsers, CONCURRENT_CALLS));
  }
  throughputResults = { pool: summary(throughput.pool), http: summary(throughput.http) };
  printTable(`Throughput with ${CONCURRENT_USERS} concurrent users, calls/s (${REPEATS} repeats × ${CONCURRENT_USERS * CONCURRENT_CALLS} calls)`, [
    ['route', 'min / median / max'],
    ['pool (warm)', cell(throughputResults.pool)],
    ['http', cell(throughputResults.http)],
  ]);
}

// --- 3. memory per pooled connection ------------------------------------------------------------------------
const perConnection = [];
for (let r = 0; r < 3; r++) {
  const users = Array.from({ length: MEMORY_CONNECTIONS }, newUser);
  global.gc();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(users.slice(i, i + 50).map((token) => gateway.callReducer('record_once', [nextKey()], { token, via: 'pool' })));
  }
  global.gc();
  perConnection.push((process.memoryUsage().rss - before) / MEMORY_CONNECTIONS / 1024);
}
const memory = { rssKiBPerConnection: summary(perConnection), connectionsPerSample: MEMORY_CONNECTIONS, poolStats: gateway.poolStats() };
printTable(`Memory per pooled connection (RSS growth over ${MEMORY_CONNECTIONS} new connections, 3 samples)`, [
  ['measure', 'min / median / max'],
  ['KiB per connection', cell(memory.rssKiBPerConnection)],
]);

await gateway.close();
await issuer.stop();
const file = writeResults('calls', { quick, repeats: REPEATS, latency: latencyResults, throughput: throughputResults, memory });
console.log(`\nresults: ${file}`);
