// Helpers of the replicas suite: a cluster of scripts/replicas.sh (N replicas of examples/replicas/
// replica.mjs behind nginx) on a database of its own, a writer that drives reducer calls across tenants,
// and browser-like SSE clients (the `eventsource` package: reconnects by itself with Last-Event-ID) that
// each rebuild their tenant's rows from the frames and record anything applied twice or lost.

import { execFile } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventSource } from 'eventsource';
import { Gateway } from '../../lib/index.js';
import { deleteDatabase, publish } from '../../tools/spacetimedb-dev/instance.mjs';
import { serverEnv, sql, uniqueId } from './spacetimedb.mjs';

const ROOT = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** KEY=value lines as an object. */
const parseEnv = (text) =>
  Object.fromEntries(
    text.split('\n').flatMap((line) => {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      return m ? [[m[1], m[2]]] : [];
    }),
  );

/** Runs scripts/replicas.sh with `args`; resolves its stdout parsed as KEY=value lines. */
export async function replicasScript(args, env) {
  const { stdout } = await run('bash', [join(ROOT, 'scripts/replicas.sh'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  return parseEnv(stdout);
}

/**
 * A fresh database of the reference module on the suite's server, and `n` replicas plus nginx in front
 * of them. `replica(i)` is `{ url, pid }` (1-based, as the script numbers them; re-read after a restart).
 */
export async function startCluster(n = 3) {
  const { url } = serverEnv();
  const database = uniqueId('replicas');
  const owner = await publish(url, database, process.env.SPACETIMEDB_MODULE);
  const envFile = join(ROOT, '.replicas', `${database}.env`);
  let env;
  try {
    env = await replicasScript(['up', '--replicas', String(n), '--env-out', envFile], { SPACETIMEDB_URL: url, SPACETIMEDB_DB: database });
  } catch (e) {
    await deleteDatabase(url, database, owner.token).catch(() => {});
    throw new Error(`replicas.sh up failed: ${e.stderr ?? e.message}`);
  }
  const cluster = {
    database,
    ownerToken: owner.token,
    url: env.REPLICAS_URL,
    instance: env.REPLICAS_INSTANCE,
    nginxPid: Number(env.NGINX_PID),
    replica: (i) => ({ url: env[`REPLICA_${i}_URL`], pid: Number(env[`REPLICA_${i}_PID`]), name: `replica-${i}` }),
    /** kill -9: no farewell, sockets reset, as a crashed machine (minus the network timeout). */
    kill9(i) {
      process.kill(cluster.replica(i).pid, 'SIGKILL');
    },
    /** One rolling-deploy step: SIGTERM (farewell), wait for the exit, start again, wait healthy. */
    async restart(i) {
      try {
        await replicasScript(['restart', envFile, String(i)]);
      } finally {
        env = parseEnv(readFileSync(envFile, 'utf8')); // the new pid, also when the restart failed after starting it
      }
    },
    /** The rows of the database, read over SQL as its owner: `{ tenant: Map(id → 'id:version:title') }`. */
    async rows() {
      const all = await sql('SELECT * FROM document', owner.token, database);
      const byTenant = new Map();
      for (const r of all) {
        if (!byTenant.has(r.tenant_id)) byTenant.set(r.tenant_id, new Map());
        byTenant.get(r.tenant_id).set(String(r.id), rowKey(r));
      }
      return byTenant;
    },
    async stop() {
      await replicasScript(['down', envFile]).catch(() => {});
      await deleteDatabase(url, database, owner.token).catch(() => {});
    },
  };
  return cluster;
}

/** What a row's identity and state is for the comparison: a lost or repeated update changes `version`. */
export const rowKey = (row) => `${row.id}:${row.version}:${row.title}`;

/**
 * Drives reducer calls at a steady rate over its own connection (straight to SpacetimeDB: the replicas
 * only relay), round-robin over `tenants`: creates documents up to 20 per tenant, then mostly updates
 * (each one bumps the row's `version`), some deletes and creates. A lost or repeated event of any kind
 * leaves a client's rows different from the database's.
 */
export async function startWriter({ database, tenants, perSecond = 40 }) {
  const { url } = serverEnv();
  const gateway = await Gateway.connect({ uri: url, database, subscriptions: ['SELECT * FROM document'], tenantColumn: 'tenant_id' });
  for (const t of tenants) await gateway.callReducer('create_tenant', [t, t]);
  const stats = { committed: 0, failed: 0, failures: [] };
  let running = true;
  let next = 0;
  let n = 0;
  const inFlight = new Set();
  const one = async () => {
    const tenant = tenants[next++ % tenants.length];
    const docs = gateway.rows('document', { tenant_id: tenant });
    const dice = Math.random();
    let call;
    if (docs.length < 20 || (dice < 0.15 && docs.length < 30)) call = ['create_document', [tenant, `doc ${n++}`, 'b']];
    else if (dice < 0.25) call = ['delete_document', [Number(docs[0].id)]];
    else {
      const doc = docs[Math.floor(Math.random() * docs.length)];
      call = ['update_document', [Number(doc.id), `doc ${doc.id} v${doc.version + 1}`, 'b']];
    }
    try {
      await gateway.callReducer(...call);
      stats.committed++;
    } catch (e) {
      // Two calls on one row can race (an update of a row just deleted): the module refuses the later
      // one, and nothing changes. Anything else is the test's concern.
      stats.failed++;
      if (!/no such document/.test(e.message)) stats.failures.push(`${call[0]}: ${e.code} ${e.message}`);
    }
  };
  const loop = (async () => {
    const interval = 1000 / perSecond;
    let due = performance.now();
    while (running) {
      if (inFlight.size < 8) {
        const p = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      due += interval;
      await sleep(Math.max(0, due - performance.now()));
    }
    await Promise.all(inFlight);
  })();
  return {
    stats,
    /** Stops writing; resolves once every call in flight settled. */
    async stop() {
      running = false;
      await loop;
      await gateway.close();
      return stats;
    },
  };
}

/**
 * A tenant's rows as one client holds them: the last complete snapshot plus every change applied since.
 * Each change must be an exact continuation, or it throws: an insert of a row it holds (a repeat), an
 * update or delete of a row not held as the change's old row (a repeat or a loss before it), a change
 * inside a snapshot. Rows are kept as `id:version:title`, so a lost update also shows in the end state.
 */
export class TenantView {
  rows = new Map();
  pending = null;
  snapshots = 0;

  snapshot({ phase, rows }) {
    if (phase === 'begin') this.pending = new Map();
    else if (phase === 'rows') {
      for (const row of rows) {
        if (this.pending.has(String(row.id))) throw new Error(`snapshot row ${row.id} twice`);
        this.pending.set(String(row.id), rowKey(row));
      }
    } else {
      this.rows = this.pending;
      this.pending = null;
      this.snapshots++;
    }
  }

  /** `resync`: the rows are dropped; a snapshot follows. */
  resync() {
    this.pending = null;
  }

  change(op, { row, oldRow }) {
    if (this.pending !== null) throw new Error(`a change inside a snapshot: ${op} ${row.id}`);
    const id = String(row.id);
    const held = this.rows.get(id);
    if (op === 'insert') {
      if (held !== undefined) throw new Error(`insert of ${rowKey(row)}, held as ${held} (a repeat)`);
      this.rows.set(id, rowKey(row));
    } else if (op === 'update') {
      if (held !== rowKey(oldRow)) throw new Error(`update ${rowKey(oldRow)} → ${rowKey(row)}, held as ${held ?? 'nothing'} (${held === rowKey(row) ? 'a repeat' : 'a loss before it'})`);
      this.rows.set(id, rowKey(row));
    } else {
      if (held !== rowKey(row)) throw new Error(`delete of ${rowKey(row)}, held as ${held ?? 'nothing'}`);
      this.rows.delete(id);
    }
  }

  /** Whether no snapshot is under way and the rows are exactly `expected` (a Map of id → rowKey). */
  equals(expected = new Map()) {
    if (this.pending !== null || this.rows.size !== expected.size) return false;
    for (const [id, key] of expected) if (this.rows.get(id) !== key) return false;
    return true;
  }
}

/**
 * One browser's stream of `tenant` through the balancer: an `EventSource` that reconnects by itself (with
 * Last-Event-ID) and the TenantView it keeps. `problems` lists every frame that was not an exact
 * continuation; the counters say how the stream went (reconnects, resyncs, farewells).
 */
export class SseClient {
  view = new TenantView();
  problems = [];
  opens = 0; // HTTP responses that opened the stream: 1 + reconnects
  resyncs = [];
  resyncsAt = []; // the replica that sent each resync
  events = 0;
  lastEventAt = 0;
  replicas = []; // the replica that served each open, from its x-replica header
  farewells = 0;
  refusals = []; // non-200 answers: EventSource gives up on them for good
  closedByUs = false;

  lastEventId = undefined;

  /**
   * `from` continues another client's stream, as a page whose EventSource is created anew: its rows, and
   * its last id as `?after=` (EventSource cannot send Last-Event-ID on its first request).
   */
  constructor(url, tenant, from) {
    this.tenant = tenant;
    if (from) {
      this.view.rows = new Map(from.view.rows);
      this.view.snapshots = 1;
    }
    const after = from?.lastEventId ? `&after=${encodeURIComponent(from.lastEventId)}` : '';
    this.source = new EventSource(`${url}/events?tenant=${encodeURIComponent(tenant)}${after}`, {
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (res.status === 200) {
          this.opens++;
          this.replicas.push(res.headers.get('x-replica'));
        } else this.refusals.push(`${res.status} from ${res.headers.get('x-replica') ?? res.headers.get('server')}`);
        return res;
      },
    });
    const on = (type, handler) =>
      this.source.addEventListener(type, (e) => {
        try {
          if (e.lastEventId) this.lastEventId = e.lastEventId;
          handler(JSON.parse(e.data).payload);
        } catch (err) {
          this.problems.push(`${type}: ${err.message}`);
        }
      });
    on('snapshot', (p) => this.view.snapshot(p));
    on('resync', (p) => {
      this.resyncs.push(p.reason);
      this.resyncsAt.push(this.replicas.at(-1));
      this.view.resync();
    });
    on('closed', (p) => {
      if (p.reason === 'shutdown') this.farewells++;
      else this.problems.push(`closed: ${p.reason}`);
    });
    on('revoked', (p) => this.problems.push(`revoked: ${p.reason}`));
    for (const op of ['insert', 'update', 'delete']) {
      on(`document.${op}`, (p) => {
        this.events++;
        this.lastEventAt = performance.now();
        this.view.change(op, p);
      });
    }
  }

  /** Whether the stream is open and holds exactly `expected` (a Map of id → rowKey). */
  matches(expected) {
    return this.source.readyState === EventSource.OPEN && this.view.equals(expected);
  }

  /** Whether the EventSource gave up for good (a non-200 answer, e.g. a 502 with every replica down). */
  get failed() {
    return this.source.readyState === EventSource.CLOSED && !this.closedByUs;
  }

  close() {
    this.closedByUs = true;
    this.source.close();
  }
}

/** Opens `count` clients spread round-robin over `tenants`, in waves (the accept queue stays short). */
export async function openClients(url, tenants, count, wave = 200) {
  const clients = [];
  for (let i = 0; i < count; i += wave) {
    for (let j = i; j < Math.min(count, i + wave); j++) clients.push(new SseClient(url, tenants[j % tenants.length]));
    await waitFor(() => clients.every((c) => c.view.snapshots > 0 || c.failed), `${clients.length} clients' snapshots`, 60_000);
  }
  return clients;
}

/** Resolves once `check()` is true (polled every 50 ms); rejects naming `what` after `timeoutMs`. */
export async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A TCP proxy to `target` (an http:// URL) on a free port: `cut()` drops every connection through it and
 * refuses new ones (a replica behind it loses SpacetimeDB), `restore()` lets them through again.
 */
export async function tcpProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}
