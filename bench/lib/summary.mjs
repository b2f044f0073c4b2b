// The suite's tables, as markdown, from one results object (bench/run.mjs): printed after a run and
// written into the README between `<!-- bench:start -->` and `<!-- bench:end -->` (bench/readme.mjs).
import { cell, fmt, quantile, summary } from './stats.mjs';

const MiB = 2 ** 20;
const med = (xs) => quantile(xs, 0.5);
const table = (rows) => [`| ${rows[0].join(' | ')} |`, `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
const ratio = (x) => `${fmt(x, 2)}×`;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** Per client count and variant: the figures of the fan-out table. */
export function fanoutFigures(fanout) {
  const out = {};
  for (const n of [...new Set(fanout.runs.map((r) => r.clients))]) {
    out[n] = {};
    for (const { key, label } of fanout.config.variants) {
      const of = (mode) => fanout.runs.filter((r) => r.clients === n && r.variant === key && r.mode === mode);
      const sat = of('saturate');
      const fixed = of('fixed');
      const half = of('fixed-half');
      const all = [...sat, ...fixed, ...half];
      out[n][key] = {
        label,
        delivered: summary(sat.map((r) => r.deliveredPerSec)),
        satCpuPer100k: summary(sat.map((r) => r.cpuPer100k)),
        satCpuSeconds: summary(sat.map((r) => r.cpuSeconds)),
        writerBlocked: med(sat.map((r) => r.writerBlockedSeconds / r.windowSeconds)),
        p50: summary(fixed.map((r) => r.latencyMs.p50)),
        p99: summary(fixed.map((r) => r.latencyMs.p99)),
        max: summary(fixed.map((r) => r.latencyMs.max)),
        fixedDelivered: summary(fixed.map((r) => r.deliveredPerSec)),
        fixedOffered: med(fixed.map((r) => r.offeredPerSec)),
        fixedCpuSeconds: summary(fixed.map((r) => r.cpuSeconds)),
        halfP99: half.length ? summary(half.map((r) => r.latencyMs.p99)) : null,
        halfRate: half[0]?.rate,
        peakRssMiB: summary(all.map((r) => r.peakRssBytes / MiB)),
        idleKiB: summary(all.map((r) => r.idleBytesPerStream / 1024)),
        lost: sum(all.map((r) => r.lost)),
        duplicates: sum(all.map((r) => r.duplicates)),
        resyncs: sum(all.map((r) => r.resyncs)),
        disconnects: sum(all.map((r) => r.disconnects)),
        expected: sum(all.map((r) => r.expected)),
        writerErrors: sum(all.map((r) => r.writerErrors)),
      };
    }
  }
  return out;
}

function fanoutSection(fanout) {
  const figures = fanoutFigures(fanout);
  const parts = [];
  for (const [n, byVariant] of Object.entries(figures)) {
    const rate = fanout.rates[n];
    const runs = fanout.runs.filter((r) => r.clients === Number(n));
    const batch = runs.find((r) => r.mode === 'saturate')?.batch;
    parts.push(
      `**Fan-out, ${fmt(Number(n))} SSE clients** (100 tenants, ${fanout.config.repeats} repeats of ${fanout.config.seconds} s per phase; ` +
        `saturation: ${batch === 1 ? 'create_document, 1 row' : `seed_documents, ${batch} rows`} per transaction, closed-loop on delivery; ` +
        `fixed: ${fmt(rate.rate)} transactions/s of 1 row = ${fmt(rate.rate * (Number(n) / 100))} events/s offered` +
        `${rate.cappedAt ? ` (capped: 80 % of A's best, ${fmt(0.8 * rate.aBestSaturatedPerSec)} events/s, needs more commits than server and writer make here)` : ', 80 % of the best A variant\'s median saturated rate'})\n`,
    );
    parts.push(
      table([
        ['variant', 'max delivered events/s', 'CPU s / 100k events', 'fixed rate: delivered events/s', 'p50 ms', 'p99 ms', 'max ms', 'peak RSS MiB', 'lost', 'resyncs'],
        ...Object.values(byVariant).map((v) => [
          v.label,
          `${cell(v.delivered)}${v.writerBlocked < 0.05 ? ' (≥: load-bound)' : ''}`,
          cell(v.satCpuPer100k, 2),
          cell(v.fixedDelivered),
          cell(v.p50, 2),
          cell(v.p99, 2),
          cell(v.max, 3),
          cell(v.peakRssMiB),
          `${fmt(v.lost)} of ${fmt(v.expected)}`,
          fmt(v.resyncs),
        ]),
      ]),
    );
  }
  return parts.join('\n\n');
}

/** The targets of the benchmark issue, with the measured ratio and whether each is met. */
export function targets(results) {
  const rows = [];
  const f = results.fanout && fanoutFigures(results.fanout);
  const big = f && Math.max(...Object.keys(f).map(Number));
  if (f) {
    const v = f[big];
    for (const a of ['sdk', 'sdkNative']) {
      const r = v.ours.delivered.median / v[a].delivered.median;
      const cpu = v.ours.satCpuPer100k.median / v[a].satCpuPer100k.median;
      rows.push([`fan-out ${fmt(big)}: ≥ 5× ${v[a].label} events/s at ≤ its CPU`, `${ratio(r)} events/s, ${ratio(cpu)} CPU per event`, r >= 5 && cpu <= 1 ? 'met' : 'missed']);
    }
    const b = v.ours.delivered.median / v.node.delivered.median;
    rows.push([`fan-out ${fmt(big)}: ≥ 70 % of ${v.node.label}`, `${fmt(100 * b, 3)} %`, b >= 0.7 ? 'met' : 'missed']);
    rows.push([`fan-out ${fmt(big)}: p99 ≤ 50 ms at ${fmt(results.fanout.rates[big].rate * (big / 100))} events/s`, `${fmt(v.ours.p99.median)} ms (B: ${fmt(v.node.p99.median)} ms)`, v.ours.p99.median <= 50 ? 'met' : 'missed']);
    if (v.ours.halfP99) rows.push([`(for reference) p99 at half that rate, ${fmt(v.ours.halfRate * (big / 100))} events/s`, `${fmt(v.ours.halfP99.median)} ms (B: ${fmt(v.node.halfP99.median)} ms)`, '']);
    const every = Object.values(f).flatMap((byV) => Object.values(byV));
    const lost = every.reduce((s, x) => s + x.lost + x.duplicates, 0);
    // A failed writer call commits nothing and so expects nothing: count those too, or a broken writer
    // would pass as "nothing lost".
    const failed = every.reduce((s, x) => s + x.writerErrors, 0);
    rows.push(['fan-out: no event lost or repeated (every variant, every run)', `${fmt(lost)} lost or repeated, ${fmt(failed)} failed writer calls`, lost === 0 && failed === 0 ? 'met' : 'missed']);
  }
  if (results.decode) {
    const d = decodeFigures(results.decode);
    for (const a of ['sdk', 'sdkNative']) {
      const beyond = d.raw ? `; beyond the floor: ${ratio((d[a].ms.median - d.raw.ms.median) / (d.ours.ms.median - d.raw.ms.median))} / ${ratio((d[a].ms.median - d.raw.ms.median) / (d.ours.subscribeMs.median - d.raw.ms.median))}` : '';
      rows.push([`decode: ≥ 5× ${d[a].label}`, `${ratio(d[a].ms.median / d.ours.ms.median)} with rows() as JS objects, ${ratio(d[a].ms.median / d.ours.subscribeMs.median)} to projection ready${beyond}`, d[a].ms.median / d.ours.ms.median >= 5 ? 'met' : 'missed']);
    }
  }
  if (results.tokens) {
    for (const r of results.tokens.rows.filter((x) => x.op !== 'verify (ours async)')) {
      const x = r.ours.median / r.jose.median;
      rows.push([`tokens: ${r.alg} ${r.op} faster than jose`, ratio(x), x > 1 ? 'met' : 'missed']);
    }
  }
  return rows;
}

function decodeFigures(decode) {
  const out = {};
  for (const { key, label } of decode.variants) {
    const s = decode.results[key].samples;
    out[key] = { label, decoder: decode.results[key].decoder, ms: summary(s.map((x) => x.ms)), subscribeMs: s[0].subscribeMs === undefined ? null : summary(s.map((x) => x.subscribeMs)) };
  }
  return out;
}

function decodeSection(decode) {
  const d = decodeFigures(decode);
  const rowsPerSec = (ms) => fmt((decode.rows / ms) * 1000);
  return (
    `**Decode: initial subscription of ${fmt(decode.rows)} rows** (ms, ${decode.repeats} repeats after a warm-up, each variant in its own process)\n\n` +
    table([
      ['variant', 'until', 'ms', 'rows/s (median)', 'ours is'],
      ...(d.raw ? [['floor: raw websocket, no decoding', 'the server\'s reply received', cell(d.raw.ms), rowsPerSec(d.raw.ms.median), '—']] : []),
      ['spacetime-gateway', 'projection ready (`subscribe`)', cell(d.ours.subscribeMs), rowsPerSec(d.ours.subscribeMs.median), '—'],
      ['spacetime-gateway', '+ every row as a JS object (`rows()`)', cell(d.ours.ms), rowsPerSec(d.ours.ms.median), '—'],
      ...['sdk', 'sdkNative'].map((k) => [d[k].label, 'last `onInsert` ran', cell(d[k].ms), rowsPerSec(d[k].ms.median), `${ratio(d[k].ms.median / d.ours.ms.median)} / ${ratio(d[k].ms.median / d.ours.subscribeMs.median)}`]),
    ]) +
    '\n\n"ours is": how many times faster, with `rows()` / to projection ready. "Beyond the floor" (targets): the same ratio after subtracting the floor, i.e. of each client\'s own work.'
  );
}

function tokensSection(tokens) {
  return (
    `**Tokens** (ops/s, ${tokens.repeats} repeats of ~${tokens.ms} ms after a warm-up)\n\n` +
    table([
      ['alg', 'operation', 'spacetime-gateway', 'jose', 'ratio (median)'],
      ...tokens.rows.map((r) => [r.alg, r.op, cell(r.ours), cell(r.jose), ratio(r.ours.median / r.jose.median)]),
    ])
  );
}

function memorySection(results) {
  const rows = [['what', 'KiB (min / median / max)']];
  if (results.fanout) {
    const f = fanoutFigures(results.fanout);
    for (const [n, byVariant] of Object.entries(f)) {
      for (const v of Object.values(byVariant)) rows.push([`idle SSE stream, ${v.label} (gateway RSS growth / ${fmt(Number(n))} streams)`, cell(v.idleKiB)]);
    }
  }
  if (results.pool) rows.push([`per-user pool connection (RSS growth / ${results.pool.memory.connectionsPerSample} connections)`, cell(results.pool.memory.rssKiBPerConnection)]);
  return `**Memory**\n\n${table(rows)}`;
}

function resumeSection(resume) {
  const names = { head: 'at the head (nothing missed)', snapshot: `no Last-Event-ID: snapshot of ${fmt(resume.missedEventsOfTenant)} rows` };
  return (
    `**Resume** (one tenant's stream, log of ${fmt(resume.logEvents)} events over ${resume.tenants} tenants; ms, ${resume.repeats} repeats)\n\n` +
    table([
      ['reconnect', 'stream() call (JS thread)', 'until caught up'],
      ...Object.entries(resume.samples).map(([k, s]) => [
        names[k] ?? `${fmt(resume.logEvents)} events back (${fmt(resume.missedEventsOfTenant)} of them this tenant's)`,
        cell(summary(s.map((x) => x.openMs))),
        cell(summary(s.map((x) => x.doneMs))),
      ]),
    ])
  );
}

/** Per variant of the snapshot-storm scenario: its figures, min / median / max over repeats. */
export function stormFigures(storm) {
  const out = {};
  for (const { key, label } of storm.config.variants) {
    const runs = storm.runs.filter((r) => r.variant === key);
    if (runs.length === 0) continue;
    out[key] = {
      label,
      stormSeconds: summary(runs.map((r) => r.stormSeconds)),
      firstSeconds: summary(runs.map((r) => r.firstCompleteSeconds)),
      cpuSeconds: summary(runs.map((r) => r.cpuSeconds)),
      encodedMiB: summary(runs.map((r) => r.snapshotBytesEncoded / MiB)),
      deliveredMiB: summary(runs.map((r) => r.snapshotBytesDelivered / MiB)),
      p99: summary(runs.map((r) => r.stormLatencyMs.p99)),
      quietP99: summary(runs.map((r) => r.quietLatencyMs.p99)),
      maxLatency: summary(runs.map((r) => r.stormLatencyMs.max)),
      peakRssMiB: summary(runs.map((r) => r.peakRssBytes / MiB)),
      incomplete: sum(runs.map((r) => r.streams - r.complete)),
      wrongRows: runs.filter((r) => r.rowsPerStream.min !== r.rowsPerStream.max).length,
      lost: sum(runs.map((r) => r.liveLost + r.liveDuplicates)),
      resyncs: sum(runs.map((r) => r.liveResyncs)),
    };
  }
  return out;
}

function stormSection(storm) {
  const f = stormFigures(storm);
  const c = storm.config;
  const before = f.before;
  // Median of the variant / median of before; tiny ratios as "1/n", which reads better than 0.0005×.
  const vs = (v, k) => {
    if (!before || v === before) return '';
    const x = v[k].median / before[k].median;
    return ` (${x < 0.1 ? `1/${fmt(1 / x, 2)}` : ratio(x)})`;
  };
  return (
    `**Snapshot storm** (${fmt(c.streams)} streams of one principal open at once on one tenant of ${fmt(c.rows)} rows of ~${fmt(c.bodyBytes)} bytes, ` +
    `while ${fmt(c.rate)} commits/s on ${c.liveTenants} other tenants reach their ${c.liveClients} SSE clients; ${c.repeats} repeats; before = ${String(c.baseCommit).slice(0, 7)}, built in the same run)\n\n` +
    table([
      ['variant', 'all snapshots complete, s', 'first complete, s', 'gateway CPU s', 'snapshot MiB encoded (of delivered)', 'other tenants p99 ms (quiet)', 'max ms', 'peak RSS MiB', 'incomplete, lost'],
      ...Object.values(f).map((v) => [
        v.label,
        cell(v.stormSeconds) + vs(v, 'stormSeconds'),
        cell(v.firstSeconds, 2),
        cell(v.cpuSeconds) + vs(v, 'cpuSeconds'),
        `${cell(v.encodedMiB)}${vs(v, 'encodedMiB')} (of ${fmt(v.deliveredMiB.median)})`,
        `${cell(v.p99)}${vs(v, 'p99')} (${fmt(v.quietP99.median)})`,
        cell(v.maxLatency),
        cell(v.peakRssMiB),
        `${fmt(v.incomplete)}, ${fmt(v.lost)}`,
      ]),
    ]) +
    '\n\nRatios in parentheses: median of the variant / median of *before*. "p99" is commit-to-client latency of the other tenants\' live events while the storm lasts; "quiet" the same load in the seconds before it (median).'
  );
}

/** The resume storm on one replica (bench/replicas/run.mjs): resume against snapshot, same run. */
function replicasStormSection(storm) {
  const c = storm.config;
  const of = (key) => storm.runs.filter((r) => r.variant === key);
  const figures = Object.fromEntries(
    c.variants.map(({ key }) => [
      key,
      { seconds: summary(of(key).map((r) => r.caughtUpSeconds)), cpu: summary(of(key).map((r) => r.cpuSeconds)), rss: summary(of(key).map((r) => r.peakRssBytes / MiB)), wrong: of(key).filter((r) => r.wrong).length },
    ]),
  );
  const vs = (key, k) => (key === 'resume' ? '' : ` (${ratio(figures[key][k].median / figures.resume[k].median)})`);
  return (
    `**Resume storm on a surviving replica** (${fmt(c.clients)} SSE clients over ${c.tenants} tenants reconnect at once to one replica of examples/replicas, ` +
    `each tenant ${c.missed} changes behind, ${fmt(c.rows)} rows of ~${fmt(c.bodyBytes)} bytes per tenant; Last-Event-IDs issued by ${c.idsFrom === 'other' ? 'another replica' : 'the same replica'}; ${c.repeats} repeats, variants alternated)\n\n` +
    table([
      ['variant', 'all caught up, s', 'replica CPU s', 'peak RSS MiB', 'wrong runs'],
      ...c.variants.map(({ key, label }) => [label, cell(figures[key].seconds) + vs(key, 'seconds'), cell(figures[key].cpu) + vs(key, 'cpu'), cell(figures[key].rss), fmt(figures[key].wrong)]),
    ]) +
    '\n\nRatios in parentheses: median of the snapshot storm / median of the resume storm. "Caught up": resume — every missed change received (no resync); snapshot — the snapshot\'s end frame.'
  );
}

/** SSE through the framework's route against pipe(res) on plain Node (bench/framework/run.mjs). */
function frameworkSection(framework) {
  const { config } = framework;
  // Results written before the Analog app joined hold one app's runs at the top level.
  const apps = framework.apps ?? [{ app: 'tanstack', variants: config.variants, rates: framework.rates, runs: framework.runs }];
  return apps.map((measured) => frameworkTable(config, measured)).join('\n\n');
}

function frameworkTable(config, { app, variants, rates, runs }) {
  const [[n, rate]] = Object.entries(rates);
  const rows = variants.map(({ key, label }) => {
    const of = (mode) => runs.filter((r) => r.variant === key && r.mode === mode);
    const sat = of('saturate');
    const fixed = of('fixed');
    const all = [...sat, ...fixed];
    return [
      label,
      cell(summary(sat.map((r) => r.deliveredPerSec))),
      cell(summary(sat.map((r) => r.cpuPer100k)), 2),
      cell(summary(fixed.map((r) => r.latencyMs.p50)), 2),
      cell(summary(fixed.map((r) => r.latencyMs.p99)), 2),
      cell(summary(all.map((r) => r.peakRssBytes / MiB))),
      cell(summary(all.map((r) => r.connectSeconds)), 2),
      `${fmt(sum(all.map((r) => r.lost)))} / ${fmt(sum(all.map((r) => r.duplicates)))} of ${fmt(sum(all.map((r) => r.expected)))}`,
    ];
  });
  return (
    `**SSE through the ${app} example's route vs plain Node, ${fmt(Number(n))} clients** (${config.tenants} tenants, ${config.repeats} repeats of ${config.seconds} s per phase; ` +
    `saturation: seed_documents, ${config.batch} rows per transaction, closed-loop on delivery; fixed: ${fmt(rate.rate)} transactions/s of 1 row = ` +
    `${fmt(rate.rate * (Number(n) / config.tenants))} events/s, 80 % of the slower variant's median saturated rate; both on Node 24, same database)\n\n` +
    table([['variant', 'max delivered events/s', 'CPU s / 100k events', 'fixed rate: p50 ms', 'p99 ms', 'peak RSS MiB', 'connect s', 'lost / repeated'], ...rows])
  );
}

/** The whole markdown report. */
export function markdown(results) {
  const parts = [];
  parts.push(
    `Command: \`${results.command}\` — ${results.date.slice(0, 10)}, ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, ` +
      `Node ${results.versions.node}, SpacetimeDB ${results.versions.spacetimedb}, commit ${results.versions.git}, ${fmt(results.durationSeconds / 60, 2)} min. ` +
      `Cells: min / median / max over repeats; ratios of medians from the same run. Raw figures: \`${results.file}\`.`,
  );
  const t = targets(results);
  if (t.length) parts.push(`**Targets**\n\n${table([['target', 'measured', ''], ...t])}`);
  if (results.fanout) parts.push(fanoutSection(results.fanout));
  if (results.decode) parts.push(decodeSection(results.decode));
  if (results.tokens) parts.push(tokensSection(results.tokens));
  if (results.fanout || results.pool) parts.push(memorySection(results));
  if (results.resume) parts.push(resumeSection(results.resume));
  if (results.snapshotStorm) parts.push(stormSection(results.snapshotStorm));
  if (results.frameworkSse) parts.push(frameworkSection(results.frameworkSse));
  if (results.replicasStorm) parts.push(replicasStormSection(results.replicasStorm));
  return parts.join('\n\n');
}
