// Resume storm on a surviving replica: `clients` SSE clients (spread over `tenants`) reconnect at once to
// one replica — the recipe's own app, examples/replicas/replica.mjs, in its own process so /proc charges
// it alone — after each tenant had `missed` changes (updates of its `rows` documents of ~`bodyBytes`)
// since their last event. Two variants of the same storm, alternated in each repeat:
//   resume     every client sends its Last-Event-ID: the replica replays the missed changes from its log
//   snapshot   no usable Last-Event-ID: the replica answers with a snapshot of the tenant's rows (what a
//              resync costs; what every failover costs while ids name a process)
// Reported per run: time until every client has caught up (resume: all missed changes; snapshot: the
// snapshot's end), the replica's CPU seconds over the storm, resyncs, wrong counts.
//
// The Last-Event-IDs are the ids of one change per tenant just before the missed ones, as a second
// replica wrote them (idsFrom 'other', the default: the failover itself — database ids, issue #17, let
// the measured replica place them) or as the measured replica wrote them (idsFrom 'same',
// BENCH_REPLICAS_IDS_FROM=same: a resume that needs no database ids, for comparison).
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway } from '../../lib/index.js';
import { startReplica } from '../../tools/replicas/replica.mjs';
import { deleteDatabase, publish } from '../../tools/spacetimedb-dev/instance.mjs';
import { cpuSeconds, memory, resetPeak } from '../fanout/proc.mjs';
import { forkAsk } from '../lib/ipc.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REPLICAS_STORM_DEFAULTS = { clients: 1000, tenants: 20, rows: 500, bodyBytes: 500, missed: 10, repeats: 5, capSeconds: 120, idsFrom: 'other' };
export const REPLICAS_STORM_VARIANTS = [
  { key: 'resume', label: 'resume (Last-Event-ID in the log)' },
  { key: 'snapshot', label: 'snapshot (no usable Last-Event-ID)' },
];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[replicas-storm]', ...a);

/**
 * Opens `GET url` (with `headers`); `until(done)` resolves the text so far once `done(text)` holds (or
 * rejects after 30 s), `close()` ends the request.
 */
function openSse(url, headers = {}) {
  let text = '';
  const waiters = new Set();
  const check = () => {
    for (const w of [...waiters]) {
      if (w.done(text)) {
        waiters.delete(w);
        w.resolve(text);
      }
    }
  };
  const req = http.get(url, { headers }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      text += chunk;
      check();
    });
  });
  req.on('error', () => {});
  return {
    until: (done) =>
      new Promise((resolve, reject) => {
        waiters.add({ done, resolve });
        check();
        setTimeout(() => reject(new Error(`${url}: not done within 30 s; got ${text.slice(-300)}`)), 30_000).unref();
      }),
    close: () => req.destroy(),
  };
}

const CHANGE_ID = /id: (t\S+)\nevent: document\./;
const changes = (text) => text.split('\nevent: document.').length - 1;

export async function replicasStorm(config) {
  const { uri, module } = config;
  const database = `replicas-storm-${Date.now().toString(36)}`;
  const owner = await publish(uri, database, module);
  const tenants = Array.from({ length: config.tenants }, (_, i) => `rs-${i}`);
  const writer = await Gateway.connect({ uri, database, subscriptions: ['SELECT * FROM document'], callTimeoutMs: 60_000 });
  for (const t of tenants) {
    await writer.callReducer('create_tenant', [t, t]);
    await writer.callReducer('seed_documents', [t, config.rows, config.bodyBytes]);
  }
  const replica = await startReplica({ SPACETIMEDB_URL: uri, SPACETIMEDB_DB: database, REPLICA_NAME: 'bench-replica' });
  // With idsFrom 'other', the storm's ids come from a second replica: the failover itself (ids that name
  // the database's transactions, issue #17, resume; ids that named a process made every one resync).
  const source = config.idsFrom === 'other' ? await startReplica({ SPACETIMEDB_URL: uri, SPACETIMEDB_DB: database, REPLICA_NAME: 'bench-source' }) : replica;
  const clients = forkAsk(join(ROOT, 'bench/replicas/clients.mjs'));
  const events = (r, t) => `${r.url}/events?tenant=${t}`;
  const runs = [];
  let round = 0;

  /** `n` updates of each tenant's first documents; resolves once all committed. */
  async function update(n) {
    round++;
    const calls = tenants.flatMap((t) => writer.rows('document', { tenant_id: t }).slice(0, n).map((doc) => [Number(doc.id), `r${round}`, 'x'.repeat(config.bodyBytes)]));
    for (let i = 0; i < calls.length; i += 20) await Promise.all(calls.slice(i, i + 20).map((args) => writer.callReducer('update_document', args)));
  }

  /**
   * Where a browser of each tenant stands, as the measured replica and the ids' source wrote it: a stream
   * per tenant on each, one update per tenant, and the id of that change event (a browser's last id is
   * a change's, a database id). Then `missed` updates per tenant, all in the measured replica's log.
   */
  async function missChanges() {
    const at = [...new Set([replica, source])];
    const streams = at.map((r) => tenants.map((t) => openSse(events(r, t))));
    await Promise.all(streams.flat().map((s) => s.until((x) => x.includes('"phase":"end"'))));
    await update(1);
    const ids = await Promise.all(streams.map((perTenant) => Promise.all(perTenant.map(async (s) => CHANGE_ID.exec(await s.until((x) => CHANGE_ID.test(x)))[1]))));
    for (const s of streams.flat()) s.close();
    const own = Object.fromEntries(tenants.map((t, i) => [t, ids[0][i]]));
    await update(config.missed);
    // Every tenant's missed changes are in the measured replica's log (read through a resume of its own).
    for (const t of tenants) {
      const s = openSse(events(replica, t), { 'last-event-id': own[t] });
      await s.until((x) => changes(x) >= config.missed);
      s.close();
    }
    return Object.fromEntries(tenants.map((t, i) => [t, ids.at(-1)[i]]));
  }

  async function run(variant) {
    const ids = await missChanges();
    const list = Array.from({ length: config.clients }, (_, i) => {
      const tenant = tenants[i % tenants.length];
      return { tenant, lastEventId: variant.key === 'resume' ? ids[tenant] : null };
    });
    const want = variant.key === 'resume' ? { events: config.missed } : { snapshot: true };
    resetPeak(replica.pid);
    const cpu0 = cpuSeconds(replica.pid);
    const opened = await clients.ask({ cmd: 'storm', port: replica.port, clients: list, want }, 120_000);
    const deadline = performance.now() + config.capSeconds * 1000;
    for (;;) {
      const { done } = await clients.ask({ cmd: 'status' });
      if (done >= config.clients || performance.now() > deadline) break;
      await sleep(20);
    }
    const cpu = cpuSeconds(replica.pid) - cpu0;
    const report = await clients.ask({ cmd: 'report' });
    await clients.ask({ cmd: 'close' });
    const r = {
      variant: variant.key,
      clients: config.clients,
      opened: opened.opened,
      openMs: opened.openMs,
      caughtUp: report.done,
      caughtUpSeconds: report.lastMs / 1000,
      firstCaughtUpSeconds: report.firstMs / 1000,
      cpuSeconds: cpu,
      peakRssBytes: memory(replica.pid).hwm,
      resyncs: report.resyncs,
      disconnects: report.disconnects,
      changesPerClient: report.changes,
      rowsPerClient: report.rows,
    };
    // Exactly what each variant must deliver: the missed changes and no resync, or the whole snapshot.
    const exact = variant.key === 'resume' ? r.resyncs === 0 && report.changes.min === config.missed && report.changes.max === config.missed : report.rows.min === config.rows && report.rows.max === config.rows;
    r.wrong = !exact || r.caughtUp < config.clients;
    log(`${variant.key}: ${r.caughtUp}/${r.clients} caught up in ${r.caughtUpSeconds.toFixed(2)} s, replica CPU ${cpu.toFixed(2)} s, resyncs ${r.resyncs}, changes ${report.changes.min}–${report.changes.max}, rows ${report.rows.min}–${report.rows.max}${r.wrong ? ' — WRONG' : ''}`);
    return r;
  }

  try {
    for (let rep = 0; rep < config.repeats; rep++) {
      // Alternate which variant goes first: neither always meets a warmer (or more loaded) replica.
      const order = rep % 2 === 0 ? REPLICAS_STORM_VARIANTS : [...REPLICAS_STORM_VARIANTS].reverse();
      for (const v of order) runs.push(await run(v));
    }
  } finally {
    clients.child.kill();
    if (source !== replica) await source.stop();
    await replica.stop();
    await writer.close();
    await deleteDatabase(uri, database, owner.token).catch(() => {});
  }
  return { config: { ...config, uri: undefined, module: undefined, variants: REPLICAS_STORM_VARIANTS }, runs };
}

// Stand-alone: `node bench/replicas/run.mjs` against SPACETIMEDB_URL, publishing SPACETIMEDB_MODULE.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await replicasStorm({ ...REPLICAS_STORM_DEFAULTS, uri: process.env.SPACETIMEDB_URL, module: process.env.SPACETIMEDB_MODULE, repeats: Number(process.env.REPEATS ?? 1), idsFrom: process.env.BENCH_REPLICAS_IDS_FROM ?? REPLICAS_STORM_DEFAULTS.idsFrom });
  console.log(JSON.stringify(out.runs.map((r) => ({ variant: r.variant, s: r.caughtUpSeconds, cpu: r.cpuSeconds, wrong: r.wrong }))));
}
