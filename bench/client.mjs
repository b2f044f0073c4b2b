// Benchmark of the generic client (run with `npm run bench:client [-- --quick]`; scripts start the server).
//
// 1. Initial subscription: rows/s from subscribing to N documents until they are JS objects in hand
//    (`subscribe` + `rows`), against a raw websocket client that only receives the server's message
//    (no decoding at all): the floor set by the server and the socket.
// 2. Reducer round trips: calls/s and latency with 100 concurrent callers on one gateway, against the same
//    calls through SpacetimeDB's HTTP call route (keep-alive fetch).

import { performance } from 'node:perf_hooks';
import { Gateway } from '../lib/index.js';
import { cell, fmt, quantile, summary } from './lib/stats.mjs';
import { rawSubscribe } from './lib/raw-subscribe.mjs';
import { printTable, writeResults } from './lib/report.mjs';

const quick = process.argv.includes('--quick');
const ROWS = quick ? 20_000 : 100_000;
const REPEATS = quick ? 3 : 5;
const CALLERS = 100;
const CALLS_EACH = quick ? 5 : 20;
const uri = process.env.SPACETIMEDB_URL;
const database = process.env.SPACETIMEDB_DB;
if (!uri || !database) throw new Error('run through `npm run bench:client` (it starts SpacetimeDB)');

// --- set-up: one tenant with ROWS documents --------------------------------------------------------------
const owner = await Gateway.connect({ uri, database, callTimeoutMs: 300_000 });
const token = await fetch(`${uri}/v1/identity`, { method: 'POST' }).then((r) => r.json());
const tenant = `bench-${Date.now().toString(36)}`;
await owner.callReducer('create_tenant', [tenant, 'bench']);
for (let seeded = 0; seeded < ROWS; seeded += 10_000) {
  await owner.callReducer('seed_documents', [tenant, Math.min(10_000, ROWS - seeded), 100]);
}
const query = `SELECT * FROM document WHERE tenant_id = '${tenant}'`;
console.log(`seeded ${ROWS} documents of tenant ${tenant}`);

// --- 1. initial subscription --------------------------------------------------------------------------------
async function gatewaySubscribe() {
  const g = await Gateway.connect({ uri, database });
  const t0 = performance.now();
  await g.subscribe([query]);
  const t1 = performance.now();
  const rows = g.rows('document');
  const t2 = performance.now();
  if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`);
  await g.close();
  return { subscribeMs: t1 - t0, rowsMs: t2 - t1, totalMs: t2 - t0 };
}

const raw = [];
const gw = [];
for (let i = 0; i < REPEATS + 1; i++) {
  // The first round warms both paths (JIT, server caches) and is not counted.
  const r = await rawSubscribe({ uri, database, query });
  const g = await gatewaySubscribe();
  if (i > 0) {
    raw.push(r);
    gw.push(g);
  }
}
const rowsPerSec = (ms) => (ROWS / ms) * 1000;
const decode = {
  rows: ROWS,
  messageBytes: raw[0].bytes,
  rawReceiveMs: summary(raw.map((r) => r.ms)),
  gatewaySubscribeMs: summary(gw.map((g) => g.subscribeMs)),
  gatewayRowsMs: summary(gw.map((g) => g.rowsMs)),
  gatewayTotalMs: summary(gw.map((g) => g.totalMs)),
  gatewayRowsPerSec: summary(gw.map((g) => rowsPerSec(g.totalMs))),
};
printTable(`Initial subscription of ${fmt(ROWS)} documents (${fmt(decode.messageBytes / 2 ** 20)} MiB message), ms: min / median / max of ${REPEATS}`, [
  ['path', 'ms', 'rows/s (median)'],
  ['raw websocket, receive only (floor)', cell(decode.rawReceiveMs), fmt(rowsPerSec(decode.rawReceiveMs.median))],
  ['gateway subscribe (receive + projection)', cell(decode.gatewaySubscribeMs), '—'],
  ['gateway rows() (BSATN → JSON → JS objects)', cell(decode.gatewayRowsMs), '—'],
  ['gateway total', cell(decode.gatewayTotalMs), fmt(decode.gatewayRowsPerSec.median)],
]);

// --- 2. reducer round trips ----------------------------------------------------------------------------------
async function rounds(call) {
  const latencies = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = 0; i < CALLS_EACH; i++) {
        const s = performance.now();
        await call(c, i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { callsPerSec: (CALLERS * CALLS_EACH) / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

const caller = await Gateway.connect({ uri, database, token: token.token });
await owner.callReducer('set_member', [tenant, token.identity, 'Member']);
const viaGateway = (c, i) => caller.callReducer('create_document', [tenant, `rt ${c}.${i}`, 'x']);
const viaHttp = async (c, i) => {
  const r = await fetch(`${uri}/v1/database/${database}/call/create_document`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.token}` },
    body: JSON.stringify([tenant, `http ${c}.${i}`, 'x']),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
};
const gwRounds = [];
const httpRounds = [];
for (let i = 0; i < REPEATS + 1; i++) {
  const g = await rounds(viaGateway);
  const h = await rounds(viaHttp);
  if (i > 0) {
    gwRounds.push(g);
    httpRounds.push(h);
  }
}
const calls = {
  callers: CALLERS,
  callsEach: CALLS_EACH,
  gateway: { callsPerSec: summary(gwRounds.map((r) => r.callsPerSec)), p50Ms: summary(gwRounds.map((r) => r.p50)), p99Ms: summary(gwRounds.map((r) => r.p99)) },
  http: { callsPerSec: summary(httpRounds.map((r) => r.callsPerSec)), p50Ms: summary(httpRounds.map((r) => r.p50)), p99Ms: summary(httpRounds.map((r) => r.p99)) },
};
printTable(`Reducer round trips, ${CALLERS} concurrent callers × ${CALLS_EACH} calls: min / median / max of ${REPEATS}`, [
  ['path', 'calls/s', 'p50 ms', 'p99 ms'],
  ['gateway callReducer (websocket)', cell(calls.gateway.callsPerSec), cell(calls.gateway.p50Ms), cell(calls.gateway.p99Ms)],
  ['HTTP call route (fetch, keep-alive)', cell(calls.http.callsPerSec), cell(calls.http.p50Ms), cell(calls.http.p99Ms)],
]);
console.log(`\nratio (median): gateway / HTTP calls/s = ${fmt(calls.gateway.callsPerSec.median / calls.http.callsPerSec.median)}`);

await caller.close();
await owner.close();
const file = writeResults('client', { quick, decode, calls });
console.log(`\nraw figures: ${file}`);
