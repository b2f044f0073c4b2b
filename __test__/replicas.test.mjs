// Replicas behind a real load balancer: 3 replicas of examples/replicas/replica.mjs behind nginx
// (scripts/replicas.sh), SSE_CLIENTS browser-like clients (the `eventsource` package, which reconnects by
// itself with Last-Event-ID) and a writer driving reducer calls across tenants. A replica is killed
// with kill -9 under the write load, or all three are restarted one after the other (SIGTERM: the
// farewell); every client must end up holding exactly its tenant's rows as the database has them, with
// no event applied twice or lost on the way. Resyncs are counted per client: on ids that name a process
// (this branch) every reconnect to another replica resyncs; issue #17's database-derived ids make them
// resume instead — the separate test at the end asserts that.
//
// SSE_CLIENTS (default 1000) sets the client count.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TenantView, openClients, rowKey, startCluster, startWriter, waitFor } from './helpers/replicas.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';

const CLIENTS = Number(process.env.SSE_CLIENTS ?? 1000);
const TENANTS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per scenario: each client's reconnects and resyncs, for the no-resync test at the end. */
const outcomes = {};
let cluster;
let clients = [];
let writer;
let tenants;

beforeAll(async () => {
  cluster = await startCluster(3);
}, 120_000);

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await writer?.stop();
  writer = undefined;
});

afterAll(async () => {
  await cluster?.stop();
});

/** Clients and a writer on fresh tenants of the cluster's database. */
async function start() {
  tenants = Array.from({ length: TENANTS }, () => uniqueId('t'));
  writer = await startWriter({ database: cluster.database, tenants });
  clients = await openClients(cluster.url, tenants, CLIENTS);
}

/** Waits until every client has applied an event written after now: all are streaming live again. */
async function untilAllLive(what) {
  const since = performance.now();
  await waitFor(() => clients.every((c) => c.lastEventAt > since || c.failed), what, 60_000);
  expect(clients.filter((c) => c.failed).map((c) => ({ replicas: c.replicas, refusals: c.refusals }))).toEqual([]);
}

/**
 * Stops the writer, waits until every client holds its tenant's rows exactly as the database has them,
 * and checks that none saw anything but an exact continuation. Returns the per-client record.
 */
async function settleAndCheck(scenario) {
  const stats = await writer.stop();
  writer = undefined;
  expect(stats.failures).toEqual([]);
  const rows = await cluster.rows();
  const settled = () => clients.every((c) => c.matches(rows.get(c.tenant)));
  await waitFor(settled, 'every client to hold its tenant\'s rows', 30_000).catch(() => {});
  const wrong = clients.filter((c) => !c.matches(rows.get(c.tenant)));
  const report = wrong.slice(0, 3).map((c) => ({ tenant: c.tenant, replicas: c.replicas, problems: c.problems.slice(0, 3), held: c.view.rows.size, database: rows.get(c.tenant)?.size ?? 0 }));
  expect({ clientsNotMatchingTheDatabase: wrong.length, report }).toEqual({ clientsNotMatchingTheDatabase: 0, report: [] });
  expect(clients.flatMap((c) => c.problems)).toEqual([]);
  const record = clients.map((c) => ({ replicas: c.replicas, reconnects: c.opens - 1, resyncs: c.resyncs, farewells: c.farewells, events: c.events }));
  outcomes[scenario] = record;
  const reconnected = record.filter((r) => r.reconnects > 0);
  console.log(
    `${scenario}: ${CLIENTS} clients, ${stats.committed} transactions (${stats.failed} refused races), ${record.reduce((s, r) => s + r.events, 0)} events applied; ` +
      `${reconnected.length} clients reconnected (${reconnected.reduce((s, r) => s + r.reconnects, 0)} reconnects), ` +
      `resyncs: ${record.reduce((s, r) => s + r.resyncs.length, 0)} (${[...new Set(record.flatMap((r) => r.resyncs))].join(', ') || 'none'})`,
  );
  return record;
}

describe('the clients\' check', () => {
  const row = (id, version) => ({ id: String(id), version, title: `doc ${id} v${version}` });
  const snapshotOf = (...rows) => {
    const view = new TenantView();
    view.snapshot({ phase: 'begin' });
    view.snapshot({ phase: 'rows', rows });
    view.snapshot({ phase: 'end' });
    return view;
  };
  const expected = (...rows) => new Map(rows.map((r) => [r.id, rowKey(r)]));

  it('accepts an exact continuation and detects a repeated or lost event', () => {
    const view = snapshotOf(row(1, 1));
    view.change('update', { row: row(1, 2), oldRow: row(1, 1) });
    view.change('insert', { row: row(2, 1) });
    expect(view.equals(expected(row(1, 2), row(2, 1)))).toBe(true);
    // A repeat: the same update or insert again.
    expect(() => view.change('update', { row: row(1, 2), oldRow: row(1, 1) })).toThrow(/a repeat/);
    expect(() => view.change('insert', { row: row(2, 1) })).toThrow(/a repeat/);
    // A loss: version 3 never arrived, then version 4 comes.
    expect(() => view.change('update', { row: row(1, 4), oldRow: row(1, 3) })).toThrow(/a loss/);
    // A lost delete or a missed last update: the end state differs from the database's.
    expect(view.equals(expected(row(1, 3), row(2, 1)))).toBe(false);
    expect(view.equals(expected(row(1, 2)))).toBe(false);
  });
});

describe(`3 replicas behind nginx, ${CLIENTS} EventSource clients`, () => {
  it('kill -9 of one replica under write load: its clients reconnect to the others and end with exactly the database\'s rows', async () => {
    const t0 = performance.now();
    await start();
    const victim = cluster.replica(2).name;
    const onVictim = clients.filter((c) => c.replicas[0] === victim);
    // nginx spread the clients (least_conn): the killed replica held about a third of them.
    expect(onVictim.length).toBeGreaterThan(CLIENTS / 10);
    await untilAllLive('the write load to reach every client');
    cluster.kill9(2);
    await waitFor(() => onVictim.every((c) => c.opens > 1 || c.failed), 'the killed replica\'s clients to reconnect', 60_000);
    await untilAllLive('every client to stream live after the kill');
    await sleep(1000);
    const record = await settleAndCheck('kill');
    // Every client of the killed replica reconnected, to a survivor; no other client was disturbed.
    for (const [i, r] of record.entries()) {
      if (r.replicas[0] === victim) expect(r.replicas.slice(1).every((name) => name !== victim)).toBe(true);
      else expect({ client: i, reconnects: r.reconnects, resyncs: r.resyncs }).toEqual({ client: i, reconnects: 0, resyncs: [] });
    }
    // The replica is back for the next scenario.
    await cluster.restart(2);
    console.log(`kill scenario: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 240_000);

  it('rolling restart of all three replicas (SIGTERM, farewell, wait healthy): every client ends with exactly the database\'s rows', async () => {
    const t0 = performance.now();
    await start();
    await untilAllLive('the write load to reach every client');
    for (const i of [1, 2, 3]) {
      await cluster.restart(i);
      await untilAllLive(`every client to stream live after restarting replica ${i}`);
    }
    await sleep(1000);
    const record = await settleAndCheck('rolling');
    // Every client was served by at least one replica that went away, and was told so (the farewell).
    for (const r of record) {
      expect(r.reconnects).toBeGreaterThan(0);
      expect(r.farewells).toBe(r.reconnects);
    }
    console.log(`rolling scenario: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 240_000);
});

// Issue #17's database-derived event ids: a client that reconnects to another replica whose log covers
// its Last-Event-ID resumes there exactly, with no resync. Skipped: on this branch ids still carry a
// random per-process epoch, which no other replica knows, so every such reconnect resyncs
// (`unknown_event_id`); branch h17-ids changes that. Needs the two scenarios above in the same run.
describe.skip('resume on any replica (database-derived ids, issue #17)', () => {
  it('no client resynced when it reconnected after a kill -9 or during a rolling restart', () => {
    for (const scenario of ['kill', 'rolling']) {
      expect(outcomes[scenario], `the ${scenario} scenario ran`).toBeDefined();
      const resynced = outcomes[scenario].filter((r) => r.resyncs.length > 0);
      expect({ scenario, resynced: resynced.length, examples: resynced.slice(0, 3) }).toEqual({ scenario, resynced: 0, examples: [] });
    }
  });
});
