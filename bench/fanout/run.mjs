// Fan-out benchmark: N SSE clients over loopback (one process), spread over 100 tenants, a writer process
// calling reducers, and each gateway variant in its own process (so /proc charges it alone):
//   spacetime-gateway           gateway.stream({ tenantId, tables: ['document'] }).pipe(res)   (gw-ours.mjs)
//   A: SDK as shipped           startSdkGateway, official SDK 1.3.3, its pure-JS TextDecoder   (gw-sdk.mjs)
//   A: SDK, native decoder      the same with Node's TextDecoder (--import native-text-decoder.mjs)
//   B: Node, pre-encoded        plain http server writing frames the writer pre-encoded      (gw-node.mjs)
// Two phases per client count: `saturate` (seed_documents batches, calls in flight: each variant's
// maximum delivered events/s) and then `fixed` (create_document at a fixed rate, 1 row per transaction:
// latency at a rate Baseline A sustains — 80 % of the best A variant's median saturated rate, measured
// just before in the same run). Every run gets a fresh database (published before, deleted after): a
// database that kept the ~2 million rows of the 1,000-client runs committed create_document at about half
// the rate for twice the server CPU in the 10,000-client runs, which made those runs server-bound.
// Returns every raw run; see docs/performance.md for the definitions.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { forkAsk } from '../lib/ipc.mjs';
import { quantile } from '../lib/stats.mjs';
import { deleteDatabase, publish } from '../../tools/spacetimedb-dev/instance.mjs';
import { measureWindow } from './measure.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const NATIVE = here('../baselines/native-text-decoder.mjs');
export const VARIANTS = [
  { key: 'ours', label: 'spacetime-gateway', file: 'gw-ours.mjs' },
  { key: 'sdk', label: 'A: SDK 1.3.3 as shipped', file: 'gw-sdk.mjs' },
  { key: 'sdkNative', label: 'A: SDK 1.3.3 + native TextDecoder', file: 'gw-sdk.mjs', execArgv: ['--import', NATIVE] },
  { key: 'node', label: 'B: Node, pre-encoded frames', file: 'gw-node.mjs' },
];
const TENANTS = 100;
/** Load settings shared by full and quick runs (docs/performance.md says why these). */
export const FANOUT_DEFAULTS = { batch: 50, inflight: 8, maxOutstanding: 100_000, maxRate: 1000, drainMs: 3000, drainCapMs: 20_000 };

const log = (...a) => console.error('[fanout]', ...a);

/**
 * @param {{ uri: string, module: string, clientCounts: number[], repeats: number, seconds: number,
 *   batch: number, inflight: number, maxOutstanding: number, maxRate: number, drainMs: number, drainCapMs: number }} config
 *   halfRate: also run the package and B at half the fixed rate (largest client count only);
 *   drainMs: stop waiting for stragglers after this long without progress; drainCapMs: after this long at all
 */
export async function fanout(config) {
  const { uri, module } = config;
  const writer = forkAsk(here('writer.mjs'));
  const clients = forkAsk(here('clients.mjs'), { execArgv: ['--max-old-space-size=4096'] });
  const runId = Date.now().toString(36);
  let runNo = 0;
  const runs = [];
  const rates = {};

  /** One gateway process, N clients, one load window, drained. */
  async function run(variant, n, load) {
    const tenants = Array.from({ length: TENANTS }, (_, i) => `f${runId}-${runNo}-${i}`);
    const database = `fanout-${runId}-${runNo}`;
    runNo++;
    const owner = await publish(uri, database, module);
    await writer.ask({ cmd: 'init', uri, database });
    await writer.ask({ cmd: 'tenants', tenants });
    const feedPath = join(tmpdir(), `bench-feed-${process.pid}.sock`);
    const extra = process.env.BENCH_GATEWAY_ARGS?.split(' ').filter(Boolean) ?? [];
    const gw = forkAsk(here(variant.file), { execArgv: ['--expose-gc', ...extra, ...(variant.execArgv ?? [])] });
    const pid = gw.child.pid;
    try {
      const { port, path } = await gw.ask({ cmd: 'start', uri, database, tenants, feedPath });
      await writer.ask({ cmd: 'feed', path: variant.key === 'node' ? feedPath : null });
      const target = { pid, port, path, gc: () => gw.ask({ cmd: 'gc' }), stats: () => gw.ask({ cmd: 'stats' }) };
      const r = await measureWindow({ target, clients, writer, tenants, n, load, drainMs: config.drainMs, drainCapMs: config.drainCapMs, name: `${variant.key}-${n}-${load.mode}` });
      return { variant: variant.key, ...r };
    } finally {
      await clients.ask({ cmd: 'close' });
      await gw.ask({ cmd: 'stop' }, 15_000).catch(() => gw.child.kill('SIGKILL'));
      await deleteDatabase(uri, database, owner.token);
    }
  }

  for (const n of config.clientCounts) {
    // 1-row transactions already offer more than Node can write at 10,000 clients (100 per tenant); at
    // 1,000 they would offer only ~10 events per commit, so there the commits carry `batch` rows.
    const batch = Number(process.env.BENCH_BATCH) || (n / TENANTS >= 100 ? 1 : config.batch);
    const variants = process.env.BENCH_VARIANTS ? VARIANTS.filter((v) => process.env.BENCH_VARIANTS.split(',').includes(v.key)) : VARIANTS;
    const saturate = { mode: 'saturate', seconds: config.seconds, batch, inflight: config.inflight, maxOutstanding: config.maxOutstanding };
    // For profiling and experiments only (docs/performance.md): BENCH_PHASES=fixed BENCH_RATE=<tx/s>.
    const phases = (process.env.BENCH_PHASES ?? 'saturate,fixed').split(',');
    if (phases.includes('saturate')) for (let rep = 0; rep < config.repeats; rep++) for (const v of variants) runs.push(await run(v, n, saturate));
    if (!phases.includes('fixed')) continue;
    // The rate Baseline A sustains: 80 % of the better A variant's median saturated delivery, as
    // transactions/s of one row (each reaches n/100 clients).
    const medianOf = (k) => quantile(runs.filter((r) => r.clients === n && r.mode === 'saturate' && r.variant === k).map((r) => r.deliveredPerSec), 0.5);
    const aBest = Math.max(medianOf('sdk'), medianOf('sdkNative'));
    const rate = Number(process.env.BENCH_RATE) || Math.max(10, Math.min(config.maxRate, Math.floor((0.8 * aBest) / (n / TENANTS))));
    rates[n] = { aBestSaturatedPerSec: aBest, rate, cappedAt: rate === config.maxRate ? config.maxRate : null };
    log(`n=${n}: fixed rate ${rate} tx/s (80 % of A's best median ${Math.round(aBest)} ev/s${rate === config.maxRate ? `, capped at ${config.maxRate}` : ''})`);
    const fixed = { mode: 'fixed', seconds: config.seconds, rate };
    for (let rep = 0; rep < config.repeats; rep++) for (const v of variants) runs.push(await run(v, n, fixed));
    // Latency at half that rate, for the package and the limit only (is a missed p99 load or design?).
    if (config.halfRate && n === Math.max(...config.clientCounts) && !process.env.BENCH_RATE) {
      const half = { mode: 'fixed-half', seconds: config.seconds, rate: Math.round(rate / 2) };
      for (let rep = 0; rep < config.repeats; rep++) for (const v of variants.filter((x) => x.key === 'ours' || x.key === 'node')) runs.push(await run(v, n, half));
    }
  }
  if (runNo > 0) await writer.ask({ cmd: 'close' });
  writer.child.kill();
  clients.child.kill();
  return { config: { ...config, tenants: TENANTS, variants: VARIANTS.map(({ key, label }) => ({ key, label })) }, rates, runs };
}

// Stand-alone: `node bench/fanout/run.mjs` against SPACETIMEDB_URL, publishing SPACETIMEDB_MODULE (quick settings).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = (k, d) => (process.env[k] ? JSON.parse(process.env[k]) : d);
  const out = await fanout({
    ...FANOUT_DEFAULTS,
    uri: process.env.SPACETIMEDB_URL,
    module: process.env.SPACETIMEDB_MODULE,
    clientCounts: env('CLIENTS', [1000]),
    repeats: env('REPEATS', 1),
    seconds: env('SECONDS', 4),
  });
  console.log(JSON.stringify(out.rates));
}
