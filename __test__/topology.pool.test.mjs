// The per-user pool under load and over time, against the real SpacetimeDB: 500 distinct users stay within
// the configured connection bound and memory, every write is attributed to its own user, idle connections
// close by themselves, and a pool never keeps Node alive.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { serverEnv, sql, uniqueId } from './helpers/spacetimedb.mjs';
import { appIssuer, identityOf, serverConnections } from './helpers/topology.mjs';

const run = promisify(execFile);
const { url, db } = serverEnv();
let app;

beforeAll(async () => {
  app = await appIssuer();
});
afterAll(async () => {
  expect(await app?.stop()).toBe(0);
});

/** Waits for `ready()` (polling; the bound only keeps a broken pool from hanging the suite). */
async function eventually(what, ready) {
  for (let i = 0; !(await ready()); i++) {
    if (i > 200) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('500 distinct users through a pool of 20', () => {
  const USERS = 500;
  const MAX = 20;
  // A pooled connection costs ~30–40 KiB of RSS (bench/calls.mjs): 500 kept open would add ~15–20 MiB,
  // a bounded pool adds next to nothing once full.
  const RSS_BOUND = 8 * 2 ** 20;

  it('never holds more than maxConnections, stays within memory, and attributes every write', async () => {
    const prefix = uniqueId('churn');
    const { stdout } = await run(process.execPath, ['--expose-gc', join(import.meta.dirname, 'fixtures', 'pool-churn.mjs')], {
      env: { ...process.env, ISSUER: app.broker.issuer, ISSUER_KEY: JSON.stringify(app.key), PREFIX: prefix, USERS: String(USERS), MAX: String(MAX), CONCURRENCY: '50' },
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1));
    expect(report.most).toBeLessThanOrEqual(MAX);
    expect(report.most).toBe(MAX); // the bound was actually reached
    expect(report.stats).toMatchObject({ connections: MAX, busy: 0, opened: USERS });
    expect(report.stats.evicted).toBe(USERS - MAX);
    expect(report.after.connections).toBe(0);
    expect(report.rssGrowth).toBeLessThan(RSS_BOUND);
    // The module saw each user as the caller of their own write.
    const tenants = await sql(`SELECT * FROM tenant WHERE name = 'churn'`);
    const ours = new Map(tenants.filter((t) => t.id.startsWith(`${prefix}-`)).map((t) => [t.id, identityOf(t.created_by)]));
    expect(ours.size).toBe(USERS);
    for (let i = 0; i < USERS; i++) {
      expect(ours.get(`${prefix}-${i}-tenant`)).toBe(app.broker.identityFor(`${prefix}-${i}`));
    }
  }, 180_000);
});

describe('at the limit', () => {
  it('the least recently used idle connection makes room', async () => {
    const g = await Gateway.connect({ uri: url, database: db, userCalls: { maxConnections: 2 } });
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((name) => {
        const sub = uniqueId(`lru-${name}`);
        return { token: app.broker.mint({ sub }), identity: app.broker.identityFor(sub) };
      });
      const call = (user) => g.callReducer('record_once', [uniqueId('k')], { token: user.token });
      await call(a);
      await call(b);
      await call(c); // a is the least recently used: it goes
      expect(g.poolStats()).toMatchObject({ connections: 2, opened: 3, evicted: 1 });
      await eventually('the server to drop a', async () => (await serverConnections(a.identity)).length === 0);
      await call(b); // reuses b's connection; now c is the least recently used
      expect(g.poolStats()).toMatchObject({ opened: 3 });
      await call(a);
      expect(g.poolStats()).toMatchObject({ connections: 2, opened: 4, evicted: 2 });
      await eventually('the server to drop c', async () => (await serverConnections(c.identity)).length === 0);
      expect((await serverConnections(b.identity)).length).toBe(1);
    } finally {
      await g.close();
    }
  });
});

describe('idle connections', () => {
  it('close after idleTimeoutMs, and the next call opens a fresh one', async () => {
    const g = await Gateway.connect({ uri: url, database: db, userCalls: { idleTimeoutMs: 200 } });
    try {
      const user = { sub: uniqueId('idle-user') };
      user.token = app.broker.mint({ sub: user.sub });
      const identity = app.broker.identityFor(user.sub);
      await g.callReducer('record_once', [uniqueId('k')], { token: user.token });
      expect(g.poolStats()).toMatchObject({ connections: 1, opened: 1, evicted: 0 });
      await eventually('the idle connection to close', () => g.poolStats().connections === 0);
      expect(g.poolStats()).toMatchObject({ evicted: 1, idle: 0 });
      await eventually('the server to drop it', async () => (await serverConnections(identity)).length === 0);
      await g.callReducer('record_once', [uniqueId('k')], { token: user.token });
      expect(g.poolStats()).toMatchObject({ connections: 1, opened: 2 });
    } finally {
      await g.close();
    }
  });

  it('a pool with open connections never keeps the Node process alive', async () => {
    // No close(), a long idle timeout: the process must still exit once its own work is done.
    const token = app.broker.mint({ sub: uniqueId('exit-user') });
    const script = `
      const { Gateway } = require(${JSON.stringify(join(import.meta.dirname, '..', 'lib', 'index.js'))});
      (async () => {
        const g = await Gateway.connect({ uri: ${JSON.stringify(url)}, database: ${JSON.stringify(db)}, userCalls: { idleTimeoutMs: 600000 } });
        await g.callReducer('record_once', ['exit-' + Date.now()], { token: ${JSON.stringify(token)} });
        console.log(JSON.stringify(g.poolStats()));
      })();`;
    // execFile kills a process still alive after 15 s and rejects: a pool that holds the loop fails here.
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 15_000 });
    expect(JSON.parse(stdout)).toMatchObject({ connections: 1, idle: 1 });
  });
});
