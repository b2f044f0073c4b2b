// `npm run bench [-- --quick] [-- --only fanout,decode,tokens,pool,resume,snapshot-storm,framework-sse]`: every scenario against the
// package's baselines in one run, against the SpacetimeDB that scripts/bench.sh started. Prints the
// tables, writes bench/results/<date>[-<scenarios>][-quick].json (every raw sample, machine, versions, command) and,
// after a full run of every scenario, rewrites the README's Performance table (bench/readme.mjs).
// Methodology: docs/performance.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decode } from './decode.mjs';
import { FANOUT_DEFAULTS, fanout } from './fanout/run.mjs';
import { environment } from './lib/report.mjs';
import { markdown } from './lib/summary.mjs';
import { updateReadme } from './readme.mjs';
import { resume } from './resume.mjs';
import { STORM_DEFAULTS, snapshotStorm } from './storm/run.mjs';
import { FRAMEWORK_DEFAULTS, frameworkSse } from './framework/run.mjs';
import { REPLICAS_STORM_DEFAULTS, replicasStorm } from './replicas/run.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = ['fanout', 'decode', 'tokens', 'pool', 'resume', 'snapshot-storm', 'framework-sse', 'replicas-storm'];
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'no-readme': { type: 'boolean' } } });
const quick = Boolean(values.quick);
const only = values.only ? values.only.split(',') : SCENARIOS;
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; known: ${SCENARIOS.join(', ')}`);
const uri = process.env.SPACETIMEDB_URL;
const database = process.env.SPACETIMEDB_DB;
if (!uri || !database) throw new Error('run through `npm run bench` (scripts/bench.sh starts SpacetimeDB)');

// Full: < 18 min on the 2-core machine; quick: < 4 min (1,000 clients only, one repeat, 20k-row decode, 500-stream storm).
const CONFIG = quick
  ? {
      fanout: { clientCounts: [1000], repeats: 1, seconds: 3 },
      decode: { rows: 20_000, repeats: 2 },
      tokens: ['--repeats', '3', '--ms', '150'],
      pool: ['--quick'],
      resume: { events: 100_000, repeats: 3 },
      storm: { streams: 500, repeats: 1 },
      framework: { clients: 1000, repeats: 1, seconds: 3 },
      replicasStorm: { clients: 1000, repeats: 1 },
    }
  : {
      fanout: { clientCounts: [1000, 10_000], repeats: 3, seconds: 5, halfRate: true },
      decode: { rows: 100_000, repeats: 3 },
      tokens: ['--repeats', '7', '--ms', '300'],
      pool: [],
      resume: { events: 100_000, repeats: 5 },
      storm: { streams: 2000, repeats: 3 },
      framework: { clients: 1000, repeats: 3, seconds: 5 },
      replicasStorm: { clients: 1000, repeats: 5 },
    };

/** Runs a script of bench/ that writes its results to the JSON file named by BENCH_RESULTS_OUT; returns them. */
function script(args) {
  const out = join(tmpdir(), `bench-${process.pid}-${Date.now()}.json`);
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, BENCH_RESULTS_OUT: out } });
  const json = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out);
  return json;
}

const started = performance.now();
const results = { ...environment(), command: ['npm run bench', [quick && '--quick', values.only && `--only ${values.only}`].filter(Boolean).join(' ')].filter(Boolean).join(' -- '), quick, config: { ...CONFIG, fanoutShared: FANOUT_DEFAULTS } };
const step = (name) => console.error(`\n== ${name} (${((performance.now() - started) / 1000).toFixed(0)} s) ==`);
if (only.includes('fanout')) {
  step('fan-out');
  results.fanout = await fanout({ uri, module: process.env.SPACETIMEDB_MODULE, ...FANOUT_DEFAULTS, ...CONFIG.fanout });
}
if (only.includes('decode')) {
  step('decode');
  results.decode = await decode({ uri, database, ...CONFIG.decode });
}
if (only.includes('resume')) {
  step('resume');
  results.resume = await resume({ uri, database, ...CONFIG.resume });
}
if (only.includes('snapshot-storm')) {
  step('snapshot storm');
  results.snapshotStorm = await snapshotStorm({ uri, module: process.env.SPACETIMEDB_MODULE, ...STORM_DEFAULTS, ...CONFIG.storm });
}
if (only.includes('framework-sse')) {
  step('framework SSE (the TanStack Start and Analog examples vs plain Node)');
  results.frameworkSse = await frameworkSse({ ...FRAMEWORK_DEFAULTS, ...CONFIG.framework });
}
if (only.includes('replicas-storm')) {
  step('resume storm on a surviving replica (resume vs snapshot)');
  const idsFrom = process.env.BENCH_REPLICAS_IDS_FROM ?? REPLICAS_STORM_DEFAULTS.idsFrom;
  results.replicasStorm = await replicasStorm({ uri, module: process.env.SPACETIMEDB_MODULE, ...REPLICAS_STORM_DEFAULTS, ...CONFIG.replicasStorm, idsFrom });
}
if (only.includes('tokens')) {
  step('tokens');
  results.tokens = script(['bench/tokens.mjs', ...CONFIG.tokens]);
}
if (only.includes('pool')) {
  step('per-user pool memory');
  results.pool = script(['--expose-gc', 'bench/calls.mjs', '--memory-only', ...CONFIG.pool]);
}
results.durationSeconds = (performance.now() - started) / 1000;

const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
// A run of some scenarios only gets their names in its file name: it must not replace a full run's file.
const file = join(dir, `${results.date.slice(0, 10)}${values.only ? `-${only.join('+')}` : ''}${quick ? '-quick' : ''}.json`);
results.file = relative(ROOT, file);
writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
const report = markdown(results);
console.log(`\n${report}\n`);
if (!quick && !values.only && !values['no-readme']) console.error(`README: ${updateReadme(report)}`);
console.error(`results: ${results.file}`);
