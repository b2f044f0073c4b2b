// SSE fan-out benchmark (not a test): 1,000 SSE clients over loopback across 100 tenants, clients in a
// separate process (bench/relay-clients.mjs), the write load in a third (bench/relay-writer.mjs:
// seed_documents of BATCH rows to random tenants, INFLIGHT calls in flight) for a fixed time; reports delivered events/s, p50/p99 commit-to-client latency (row updated_at
// → client clock), the gateway process's CPU time and RSS, and memory per idle stream.
//   relay:    gateway.stream({ tenantId }).pipe(res)
//   baseline: the same Node http server, the hand-written way: gateway.onChange, one pre-encoded frame per
//             change (JSON.stringify once), res.write to every client of the tenant.
// Command: see docs/sse.md (a release build and a local SpacetimeDB).
import { fork } from 'node:child_process';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gateway } from '../lib/index.js';

const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const TENANTS = Number(process.env.TENANTS ?? 100);
const SECONDS = Number(process.env.SECONDS ?? 8);
const REPEATS = Number(process.env.REPEATS ?? 3);
const INFLIGHT = Number(process.env.INFLIGHT ?? 16);
const BATCH = Number(process.env.BATCH ?? 10);
const RATE = Number(process.env.RATE ?? 0);
const MODES = (process.env.MODES ?? 'baseline,relay').split(',');
const { SPACETIMEDB_URL: uri, SPACETIMEDB_DB: database } = process.env;
if (!uri || !database) throw new Error('set SPACETIMEDB_URL and SPACETIMEDB_DB (scripts/spacetimedb.sh up)');

const identity = await fetch(`${uri}/v1/identity`, { method: 'POST' }).then((r) => r.json());
const gateway = await Gateway.connect({ uri, database, token: identity.token, subscriptions: ['SELECT * FROM document'] });
const run = Date.now().toString(36);
const tenants = Array.from({ length: TENANTS }, (_, i) => `bench-${run}-${i}`);
for (const t of tenants) await gateway.callReducer('create_tenant', [t, t]);
const startRssMB = process.memoryUsage().rss / 2 ** 20;

// Baseline: clients per tenant, fed by onChange with one pre-encoded frame per change (listening only
// during baseline runs, so relay runs do not pay for it).
const baselineClients = new Map();
const baselineListener = (changes) => {
  for (const ch of changes) {
    const list = ch.table === 'document' ? baselineClients.get(ch.row.tenant_id) : undefined;
    if (!list) continue;
    const data = JSON.stringify({ event: `document.${ch.op}`, id: null, tenant_id: ch.row.tenant_id, schema_version: 1, payload: { row: ch.row, oldRow: ch.oldRow } });
    const frame = `event: document.${ch.op}\ndata: ${data}\n\n`;
    for (const res of list) res.write(frame);
  }
};

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const tenant = u.searchParams.get('t');
  if (u.pathname === '/relay') {
    gateway.stream({ tenantId: tenant, tables: ['document'], maxQueueEvents: 10_000, maxQueueBytes: 16 << 20 }).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('retry: 2000\n\n');
  const list = baselineClients.get(tenant) ?? [];
  list.push(res);
  baselineClients.set(tenant, list);
  res.on('close', () => list.splice(list.indexOf(res), 1));
});
await new Promise((r) => server.listen(0, '127.0.0.1', 4096, r));
const base = `http://127.0.0.1:${server.address().port}`;

const clients = fork(new URL('./relay-clients.mjs', import.meta.url));
const ask = (msg) => new Promise((r) => (clients.once('message', r), clients.send(msg)));
const urls = (path) => Array.from({ length: CLIENTS }, (_, i) => `${base}/${path}?t=${tenants[i % TENANTS]}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the write load in its own process; resolves the number of transactions committed. */
function load(seconds) {
  const writer = fork(new URL('./relay-writer.mjs', import.meta.url));
  return new Promise((resolve) => {
    writer.once('message', ({ commits }) => (writer.kill(), resolve(commits)));
    writer.send({ uri, database, token: identity.token, tenants, seconds, inflight: INFLIGHT, batch: BATCH, rate: RATE });
  });
}

async function measure(mode) {
  const stopListening = mode === 'baseline' ? gateway.onChange(baselineListener) : () => {};
  await ask({ cmd: 'open', urls: urls(mode) });
  await sleep(500);
  await ask({ cmd: 'reset' });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const commits = await load(SECONDS);
  await sleep(300);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  const loopMaxMs = loopDelay.max / 1e6;
  const report = await ask({ cmd: 'report' });
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  await ask({ cmd: 'close' });
  stopListening();
  // Let the clients' process finish what it received, so one run's backlog does not skew the next.
  await sleep(2000);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  if (process.env.VERBOSE) console.error(report.frames, report.sample);
  resyncs += report.resyncs;
  return { loopMaxMs, commits, eventsPerSec: report.inserts / wall, p50: report.p50, p99: report.p99, cpuSec, cpuPer100k: cpuSec * (1e5 / Math.max(1, report.inserts)), rssMB };
}

/** RSS growth per open, idle stream (for the relay: its Rust state, the JS stream, Node's socket and response). */
async function idleMemory(mode) {
  // Warm up (the relay itself, the http machinery) with a first batch, then measure a second.
  await ask({ cmd: 'open', urls: Array.from({ length: 100 }, () => `${base}/${mode}?t=idle-${run}`) });
  await sleep(500);
  global.gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  await ask({ cmd: 'open', urls: Array.from({ length: CLIENTS }, () => `${base}/${mode}?t=idle-${run}`) });
  await sleep(1000);
  global.gc?.();
  await sleep(200);
  const after = process.memoryUsage().rss;
  await ask({ cmd: 'close' });
  await sleep(500);
  return (after - before) / CLIENTS;
}

const stats = (xs, digits = 1) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return 'n/a';
  return `${s[0].toFixed(digits)} / ${s[Math.floor(s.length / 2)].toFixed(digits)} / ${s.at(-1).toFixed(digits)}`;
};

// Idle streams first, while the heap is clean (garbage of the load runs would blur the difference).
const idleBaseline = await idleMemory('baseline');
const perStream = await idleMemory('relay');
const idleLine = `memory per idle stream (gateway RSS growth over ${CLIENTS} streams, incl. Node's socket and response): relay ${(perStream / 1024).toFixed(1)} KiB, plain Node SSE connection ${(idleBaseline / 1024).toFixed(1)} KiB`;
if (process.env.IDLE_ONLY) {
  console.log(idleLine);
  process.exit(0);
}
let resyncs = 0;
const results = Object.fromEntries(MODES.map((m) => [m, []]));
for (let r = 0; r < REPEATS; r++) {
  for (const mode of MODES) {
    const m = await measure(mode);
    results[mode].push(m);
    if (process.env.VERBOSE) console.error(mode, JSON.stringify(m));
  }
}
console.log(`${CLIENTS} SSE clients, ${TENANTS} tenants, ${SECONDS} s of seed_documents(${BATCH} rows) ${RATE > 0 ? `at ${RATE} calls/s` : `with ${INFLIGHT} calls in flight`}, ${REPEATS} repeats; each cell min / median / max`);
console.log('| mode | delivered events/s | p50 ms | p99 ms | transactions | gateway CPU s | CPU s per 100k events | gateway RSS MB | gateway event-loop delay max ms |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const mode of MODES) {
  const rs = results[mode];
  const col = (f, d) => stats(rs.map(f), d);
  console.log(`| ${mode} | ${col((x) => x.eventsPerSec, 0)} | ${col((x) => x.p50)} | ${col((x) => x.p99)} | ${col((x) => x.commits, 0)} | ${col((x) => x.cpuSec, 2)} | ${col((x) => x.cpuPer100k, 2)} | ${col((x) => x.rssMB, 0)} | ${col((x) => x.loopMaxMs, 0)} |`);
}
console.log(`resync frames received by relay clients (slow-client overflows): ${resyncs}`);
console.log(`gateway RSS before the first run: ${startRssMB.toFixed(0)} MB (it holds every document row: subscribed to SELECT * FROM document)`);
console.log(idleLine);
clients.kill();
server.closeAllConnections();
server.close();
await gateway.close();
