// One measured window of the SSE fan-out, against any server process that serves the streams: opens the
// clients (clients.mjs), runs the write load (writer.mjs), drains, and reports delivery, latency and the
// server process's own CPU and memory. Shared by the fan-out scenario (bench/fanout/run.mjs: gateway
// variants in their own processes) and the framework scenario (bench/framework/run.mjs: a built app).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds, memory, resetPeak } from './proc.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[fanout]', ...a);

/**
 * With BENCH_PERF=<dir>: `perf record` (software cpu-clock events, call graphs) of the gateway process for
 * the load window, to <dir>/<name>.data. Give the gateways JS symbols with
 * BENCH_GATEWAY_ARGS=--perf-basic-prof. Off in normal runs (perf costs CPU of its own).
 */
function profile(pid, name) {
  const dir = process.env.BENCH_PERF;
  if (!dir) return null;
  const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '499', '-g', '-p', String(pid), '-o', join(dir, `${name}.data`)], { stdio: 'ignore' });
  return { stop: () => new Promise((r) => (perf.once('exit', r), perf.kill('SIGINT'))) };
}

/**
 * @param {object} o
 * @param {{ pid: number, port: number, path: string, query?: string, headers?: object, gc?: () => Promise<unknown>, stats?: () => Promise<object> }} o.target
 *   the serving process; clients GET `<path>?<query>=<tenant>` (query default `t`) with `headers`; `gc`
 *   (optional) collects its garbage before the memory readings
 * @param {{ ask: Function, child: import('node:child_process').ChildProcess }} o.clients clients.mjs
 * @param {{ ask: Function, child: import('node:child_process').ChildProcess }} o.writer writer.mjs, initialised with the run's tenants
 * @param {string[]} o.tenants client i reads tenant i % tenants.length
 * @param {number} o.n clients
 * @param {object} o.load writer.mjs `run` settings (`mode`: saturate | fixed | fixed-half)
 * @param {number} o.drainMs stop waiting for stragglers after this long without progress; o.drainCapMs after this long at all
 * @param {string} o.name for logs and profiles
 * @param {number} [o.spacetimedbPid] the server's pid, for the CPU the other processes used
 */
export async function measureWindow({ target, clients, writer, tenants, n, load, drainMs, drainCapMs, name, spacetimedbPid = Number(process.env.SPACETIMEDB_PID) || null }) {
  const { pid, port, path, query, headers } = target;
  const open = (from, to) => clients.ask({ cmd: 'open', port, path, query, headers, tenants, from, to }, 300_000);
  // Memory per idle stream: RSS growth from the first streams (one per tenant: the fixed costs of the
  // first stream, JIT, http machinery) to all n, per stream, after a GC.
  const warm = await open(0, tenants.length);
  await sleep(300);
  await target.gc?.();
  const rssBefore = memory(pid).rss;
  const t0 = performance.now();
  const rest = await open(tenants.length, n);
  const opened = warm.opened + rest.opened;
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(1000);
  await target.gc?.();
  const idleBytesPerStream = (memory(pid).rss - rssBefore) / (n - tenants.length);
  await clients.ask({ cmd: 'reset' });
  resetPeak(pid);
  const cpu0 = cpuSeconds(pid);
  // Where the rest of the 2 cores went: the clients, the writer and SpacetimeDB, in the same window.
  const others = { clients: clients.child.pid, writer: writer.child.pid, spacetimedb: spacetimedbPid };
  const othersCpu0 = Object.fromEntries(Object.entries(others).map(([k, p]) => [k, p ? cpuSeconds(p) : NaN]));
  const perTenantClients = tenants.map((_, t) => Math.floor(n / tenants.length) + (t < n % tenants.length ? 1 : 0));
  // Saturation is closed-loop on delivery: forward the clients' count to the writer every 20 ms.
  let forwarding = load.mode === 'saturate';
  const forward = (async () => {
    while (forwarding) {
      const { received } = await clients.ask({ cmd: 'count' });
      writer.child.send({ cmd: 'received', received });
      await sleep(20);
    }
  })();
  const perf = profile(pid, name);
  const w = await writer.ask({ cmd: 'run', ...load, clientsPerTenant: perTenantClients });
  await perf?.stop();
  forwarding = false;
  await forward;
  const inWindow = await clients.ask({ cmd: 'count' });
  // Expected: every confirmed row, once, at every client of its tenant.
  const expected = w.rows.reduce((sum, rows, t) => sum + rows * perTenantClients[t], 0);
  // Drain: until everything arrived, or nothing more arrives for drainMs.
  const drainStart = performance.now();
  let last = inWindow.received;
  let lastProgress = performance.now();
  while (last < expected && performance.now() - lastProgress < drainMs && performance.now() - drainStart < drainCapMs) {
    await sleep(200);
    const { received } = await clients.ask({ cmd: 'count' });
    if (received > last) lastProgress = performance.now();
    last = received;
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const othersCpu = Object.fromEntries(Object.entries(others).map(([k, p]) => [k, p ? cpuSeconds(p) - othersCpu0[k] : NaN]));
  const peakRss = memory(pid).hwm;
  const report = await clients.ask({ cmd: 'report', rows: w.rows });
  const stats = (await target.stats?.()) ?? {};
  const { lost, duplicates } = report; // per client: see clients.mjs
  const r = {
    clients: n, opened, ...load,
    transactions: w.commits, writerBlockedSeconds: w.blockedSeconds, rows: w.rows.reduce((a, b) => a + b, 0), writerErrors: w.errors, windowSeconds: w.seconds,
    expected, received: report.received, receivedInWindow: inWindow.received, lost, duplicates,
    resyncs: report.resyncs, disconnects: report.disconnects,
    offeredPerSec: expected / w.seconds, deliveredPerSec: inWindow.received / w.seconds,
    latencyMs: report.latency, cpuSeconds: cpu, cpuPer100k: (cpu * 1e5) / Math.max(1, report.received),
    othersCpuSeconds: othersCpu, peakRssBytes: peakRss, idleBytesPerStream, connectSeconds, drainSeconds, gatewayStats: stats,
  };
  log(`${name}${load.rate ? `@${load.rate}` : ''}: ${Math.round(r.deliveredPerSec)} ev/s (offered ${Math.round(r.offeredPerSec)}), p99 ${r.latencyMs.p99?.toFixed(1)} ms, lost ${lost}, cpu ${cpu.toFixed(2)} s (clients ${othersCpu.clients.toFixed(1)}, writer ${othersCpu.writer.toFixed(1)}, server ${othersCpu.spacetimedb.toFixed(1)}, writer blocked ${w.blockedSeconds.toFixed(1)} s), hwm ${(peakRss / 2 ** 20).toFixed(0)} MiB, idle ${(idleBytesPerStream / 1024).toFixed(1)} KiB, connect ${connectSeconds.toFixed(1)} s, drain ${drainSeconds.toFixed(1)} s`);
  return r;
}
