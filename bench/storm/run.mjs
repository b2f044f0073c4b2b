// Snapshot storm: N SSE streams of one principal open at once on one tenant holding `rows` rows of
// ~`bodyBytes` bytes, while a steady write load runs on other tenants whose SSE clients measure
// commit-to-client latency. Per run: a fresh database, one gateway process (so /proc charges it alone),
// three client processes (the storm's, the live clients of bench/fanout/clients.mjs, the writer of
// bench/fanout/writer.mjs). Phases: `quietSeconds` of load alone (the live p99 without a storm), then the
// storm until every storm stream has its snapshot's end frame. Variants, in the same invocation:
//   before       the package at the last commit without shared frames and snapshot limits (base.mjs)
//   after        this package, default relay options
//   after, no limits   this package with the limits lifted: sharing alone
// Reported per run: time until every storm stream completed its snapshot, gateway CPU over the storm,
// snapshot bytes encoded (relayStats; for `before`, the bytes its clients received: it encoded each
// stream's snapshot itself), other tenants' live p99 during the storm (and in the quiet phase), losses.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway } from '../../lib/index.js';
import { forkAsk } from '../lib/ipc.mjs';
import { deleteDatabase, publish } from '../../tools/spacetimedb-dev/instance.mjs';
import { cpuSeconds, memory, resetPeak } from '../fanout/proc.mjs';
import { baselineRoot } from './base.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNLIMITED = { maxSnapshotsPerPrincipal: 1 << 20, snapshotBytesPerTake: 2 ** 32 };
export const STORM_VARIANTS = [
  { key: 'before', label: 'before (each stream encodes its snapshot, no limits)' },
  { key: 'after', label: 'after (shared frames, default limits)', relay: {} },
  { key: 'shareOnly', label: 'after, limits lifted (shared frames only)', relay: UNLIMITED },
];
export const STORM_DEFAULTS = { rows: 2000, bodyBytes: 1000, liveTenants: 20, liveClients: 100, rate: 200, quietSeconds: 3, capSeconds: 180 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[storm]', ...a);

/**
 * @param {{ uri: string, module: string, streams: number, repeats: number, rows: number, bodyBytes: number,
 *   liveTenants: number, liveClients: number, rate: number, quietSeconds: number, capSeconds: number }} config
 */
export async function snapshotStorm(config) {
  const base = baselineRoot();
  const roots = { before: base.root };
  const variants = process.env.BENCH_STORM_VARIANTS ? STORM_VARIANTS.filter((v) => process.env.BENCH_STORM_VARIANTS.split(',').includes(v.key)) : STORM_VARIANTS;
  const writer = forkAsk(join(ROOT, 'bench/fanout/writer.mjs'));
  const live = forkAsk(join(ROOT, 'bench/fanout/clients.mjs'));
  const storm = forkAsk(here('clients.mjs'), { execArgv: ['--max-old-space-size=4096'] });
  const runId = Date.now().toString(36);
  const runs = [];
  let runNo = 0;

  async function run(variant) {
    const database = `storm-${runId}-${runNo}`;
    const stormTenant = `s${runId}-${runNo}`;
    const tenants = Array.from({ length: config.liveTenants }, (_, i) => `l${runId}-${runNo}-${i}`);
    runNo++;
    const owner = await publish(config.uri, database, config.module);
    await writer.ask({ cmd: 'init', uri: config.uri, database });
    await writer.ask({ cmd: 'tenants', tenants });
    await writer.ask({ cmd: 'feed', path: null });
    // The storm tenant's rows, written by a connection of its own (the writer owns the live tenants).
    const seeder = await Gateway.connect({ uri: config.uri, database, callTimeoutMs: 120_000 });
    await seeder.callReducer('create_tenant', [stormTenant, stormTenant]);
    for (let done = 0; done < config.rows; done += 500) await seeder.callReducer('seed_documents', [stormTenant, Math.min(500, config.rows - done), config.bodyBytes]);
    await seeder.close();
    const gw = forkAsk(here('gw.mjs'), { execArgv: ['--expose-gc'] });
    const pid = gw.child.pid;
    try {
      // For tuning: BENCH_STORM_AFTER_RELAY=<json> replaces the relay options of `after`.
      const relay = variant.key === 'after' && process.env.BENCH_STORM_AFTER_RELAY ? JSON.parse(process.env.BENCH_STORM_AFTER_RELAY) : (variant.relay ?? {});
      const { port, path } = await gw.ask({ cmd: 'start', uri: config.uri, database, root: roots[variant.key] ?? ROOT, relay });
      await live.ask({ cmd: 'open', port, path, tenants, from: 0, to: config.liveClients });
      await sleep(500);
      await live.ask({ cmd: 'reset' });
      const load = writer.ask({ cmd: 'run', seconds: config.capSeconds + config.quietSeconds + 10, rate: config.rate }, (config.capSeconds + 60) * 1000);
      await sleep(config.quietSeconds * 1000);
      const quiet = await live.ask({ cmd: 'latency' });
      resetPeak(pid);
      const cpu0 = cpuSeconds(pid);
      const othersCpu0 = { stormClients: cpuSeconds(storm.child.pid), liveClients: cpuSeconds(live.child.pid), writer: cpuSeconds(writer.child.pid) };
      const opened = await storm.ask({ cmd: 'open', port, path, tenant: stormTenant, sub: 'storm', n: config.streams }, 120_000);
      const deadline = performance.now() + config.capSeconds * 1000;
      for (;;) {
        const { complete } = await storm.ask({ cmd: 'status' });
        if (complete >= config.streams || performance.now() > deadline) break;
        await sleep(50);
      }
      const during = await live.ask({ cmd: 'latency' });
      const cpu = cpuSeconds(pid) - cpu0;
      const othersCpu = {
        stormClients: cpuSeconds(storm.child.pid) - othersCpu0.stormClients,
        liveClients: cpuSeconds(live.child.pid) - othersCpu0.liveClients,
        writer: cpuSeconds(writer.child.pid) - othersCpu0.writer,
      };
      const peakRss = memory(pid).hwm;
      const report = await storm.ask({ cmd: 'report' });
      const stats = (await gw.ask({ cmd: 'stats' })) ?? null;
      writer.child.send({ cmd: 'stop' });
      const w = await load;
      // Every confirmed live row at every client of its tenant, after a short drain.
      const perTenant = Math.floor(config.liveClients / config.liveTenants);
      const expected = w.rows.reduce((s, r) => s + r * perTenant, 0);
      for (let waited = 0; waited < 5000; waited += 100) {
        if ((await live.ask({ cmd: 'count' })).received >= expected) break;
        await sleep(100);
      }
      const losses = await live.ask({ cmd: 'report', rows: w.rows });
      const r = {
        variant: variant.key,
        streams: config.streams,
        opened: opened.opened,
        openMs: opened.openMs,
        complete: report.complete,
        stormSeconds: report.lastMs / 1000,
        firstCompleteSeconds: report.firstMs / 1000,
        rowsPerStream: report.rows,
        snapshotBytesDelivered: report.snapshotBytes,
        snapshotBytesEncoded: stats?.snapshotBytesEncoded ?? report.snapshotBytes,
        relayStats: stats,
        cpuSeconds: cpu,
        othersCpuSeconds: othersCpu,
        peakRssBytes: peakRss,
        quietLatencyMs: quiet,
        stormLatencyMs: during,
        liveExpected: expected,
        liveLost: losses.lost,
        liveDuplicates: losses.duplicates,
        liveResyncs: losses.resyncs,
        writerErrors: w.errors,
        stormDisconnects: report.disconnects,
      };
      log(
        `${variant.key}: ${r.complete}/${r.streams} snapshots in ${r.stormSeconds.toFixed(1)} s, gateway CPU ${cpu.toFixed(1)} s, ` +
          `encoded ${(r.snapshotBytesEncoded / 2 ** 20).toFixed(0)} MiB of ${(r.snapshotBytesDelivered / 2 ** 20).toFixed(0)} MiB delivered, ` +
          `live p50 ${during.p50?.toFixed(1)} p99 ${during.p99?.toFixed(1)} max ${during.max?.toFixed(0)} ms (quiet p99 ${quiet.p99?.toFixed(1)}), rows ${report.rows.min}–${report.rows.max}, lost ${r.liveLost}, hwm ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
      );
      return r;
    } finally {
      await storm.ask({ cmd: 'close' });
      await live.ask({ cmd: 'close' });
      await gw.ask({ cmd: 'stop' }, 15_000).catch(() => gw.child.kill('SIGKILL'));
      await deleteDatabase(config.uri, database, owner.token);
    }
  }

  for (let rep = 0; rep < config.repeats; rep++) for (const v of variants) runs.push(await run(v));
  await writer.ask({ cmd: 'close' });
  for (const p of [writer, live, storm]) p.child.kill();
  return { config: { ...config, variants: STORM_VARIANTS.map(({ key, label }) => ({ key, label })), baseCommit: base.commit }, runs };
}

// Stand-alone: `node bench/storm/run.mjs` against SPACETIMEDB_URL, publishing SPACETIMEDB_MODULE.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = (k, d) => (process.env[k] ? JSON.parse(process.env[k]) : d);
  const out = await snapshotStorm({ ...STORM_DEFAULTS, uri: process.env.SPACETIMEDB_URL, module: process.env.SPACETIMEDB_MODULE, streams: env('STREAMS', 500), repeats: env('REPEATS', 1) });
  console.log(JSON.stringify(out.runs.map((r) => ({ variant: r.variant, s: r.stormSeconds, cpu: r.cpuSeconds, p99: r.stormLatencyMs.p99 }))));
}
