// Visibility against the real SpacetimeDB 1.3.0. The module's row-level security (through read_grant)
// decides what each identity may read; the app's member streams (examples/cookbook/streams.mjs) must
// show exactly that. A property test drives random role, permission, membership and document changes and
// checks, after every step, that no stream ever carried a row the member's role does not grant, and that
// each stream holds exactly what SpacetimeDB itself returns to that member.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberStreamOptions, READ_TABLES } from '../examples/cookbook/streams.mjs';
import { cookbookWorld, serveEvents } from './helpers/cookbook.mjs';
import { StreamModel } from './helpers/sse.mjs';

let w, events;
let alice;
let tenant;

/** The primary key column of each streamed table. */
const KEYS = { tenant: 'id', session_context: 'sid', api_key_grant: 'key_id' };
const keyOf = (table, row) => String(row[KEYS[table] ?? 'id']);
const TABLES = [...new Set(Object.values(READ_TABLES).flat())];

/** What SpacetimeDB returns to `user` for `tenantId`: `Set` of `table:key`, through its own RLS. */
async function rlsView(user, tenantId) {
  const out = new Set();
  for (const table of TABLES) {
    const column = table === 'tenant' ? 'id' : 'tenant_id';
    const r = await fetch(`${w.url}/v1/database/${w.db}/sql`, { method: 'POST', headers: { Authorization: `Bearer ${user.token()}` }, body: `SELECT * FROM ${table} WHERE ${column} = '${tenantId}'` });
    if (!r.ok) throw new Error(`SQL as ${user.sub}: HTTP ${r.status} ${await r.text()}`);
    const [result] = await r.json();
    const names = result.schema.elements.map((e) => e.name.some);
    for (const row of result.rows) out.add(`${table}:${keyOf(table, Object.fromEntries(row.map((v, i) => [names[i], v])))}`);
  }
  return out;
}

/**
 * Whether a stream model holds exactly the rows of `truth` (`table:key`), each as the gateway's
 * projection has it now (so a late update is not mistaken for convergence).
 */
function caughtUp(model, truth) {
  if (model.rows.size !== truth.size) return false;
  for (const key of truth) {
    const table = key.slice(0, key.indexOf(':'));
    const current = w.gateway.rows(table).find((row) => `${table}:${keyOf(table, row)}` === key);
    if (JSON.stringify(model.rows.get(key)) !== JSON.stringify(current)) return false;
  }
  return true;
}

/** `error` with the relay's counters, so a stream that waits in vain shows whether its snapshot is owed. */
const withRelayStats = (error) => new Error(`${error.message}\nrelayStats: ${JSON.stringify(w.gateway.relayStats())}`);

/** The tables the cookbook's route selects for `user` now (`undefined` when it answers 403). */
const routeTables = (user) => memberStreamOptions(w.gateway, { actor: { sub: user.sub, act: null }, tenantId: tenant })?.options.tables.join(' ');

/** Row-carrying frames (snapshot rows, inserts, updates) as `table:key`. */
function shownRows(frames) {
  const out = [];
  for (const f of frames) {
    const p = f.data?.payload;
    if (!p) continue;
    if (f.event === 'snapshot' && p.phase === 'rows') out.push(...p.rows.map((row) => `${p.table}:${keyOf(p.table, row)}`));
    const op = f.event.slice(f.event.lastIndexOf('.') + 1);
    if (op === 'insert' || op === 'update') {
      const table = f.event.slice(0, f.event.lastIndexOf('.'));
      out.push(`${table}:${keyOf(table, p.row)}`);
    }
  }
  return out;
}

/** A member's browser: an SSE client that reconnects with Last-Event-ID like EventSource, and its state. */
class Browser {
  constructor(user) {
    this.user = user;
    this.client = null;
    this.model = new StreamModel();
    this.seen = 0;
    this.status = null;
  }

  /** (Re)connects when there is no live stream; resolves once the stream caught up (or was refused). */
  async settle() {
    if (this.client && !this.client.ended) return;
    const previous = this.model;
    const lastEventId = this.client?.lastEventId;
    // With the selection of the stream that ended (a new role granting the same tables), the relay
    // continues after `lastEventId` (docs/sse.md, revokeOn): no snapshot, and only `retry:` when nothing
    // the stream sees changed since. Any other selection resyncs.
    const tables = routeTables(this.user);
    const resumes = lastEventId !== undefined && tables !== undefined && tables === this.tables;
    this.client = await events.open(this.user.token({ sid: `sid-${this.user.sub}` }), tenant, lastEventId);
    this.status = this.client.status;
    this.tables = this.status === 200 ? tables : undefined;
    this.seen = 0;
    // A resumed stream continues the rows the browser holds; a snapshot replaces them.
    this.model = new StreamModel();
    this.model.rows = previous.rows;
    this.model.lastK = -1n;
    if (this.status !== 200) {
      this.model.rows = new Map();
      return;
    }
    // `retry:` is a stream's first output; a resumed stream's missed changes leave with it.
    const settled = resumes
      ? (frames) => frames.some((f) => f.retry !== undefined)
      : (frames) => frames.some((f) => f.event === 'snapshot' && f.data.payload.phase === 'end') || frames.some((f) => f.data && f.event !== 'snapshot');
    await this.client.until(settled, 5000, `${this.user.sub}'s ${resumes ? 'resumed ' : ''}stream`).catch((e) => {
      throw withRelayStats(e);
    });
  }

  /** Frames since the last call. */
  fresh() {
    if (!this.client || this.status !== 200) return [];
    const frames = this.client.frames.slice(this.seen);
    this.seen = this.client.frames.length;
    this.model.apply(this.client.frames);
    return frames;
  }
}

/** A deterministic generator (mulberry32), so a failing run can be replayed with its seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  w = await cookbookWorld();
  alice = await w.user('alice');
  tenant = await w.tenant(alice);
  events = await serveEvents(w.gateway, w.broker);
});

afterAll(async () => {
  await events?.close();
  await w?.close();
});

describe('row-level security on 1.3.0', () => {
  it('each identity reads only its read grants; strangers and the anonymous read nothing', async () => {
    const stranger = await w.user('stranger');
    await w.gateway.callReducer('create_document', [tenant, 'visible to members', 'b'], { actor: { sub: alice.sub, act: null } });
    const own = await rlsView(alice, tenant);
    expect([...own].filter((k) => k.startsWith('document:')).length).toBeGreaterThan(0);
    expect(own.has(`tenant:${tenant}`)).toBe(true);
    expect(await rlsView(stranger, tenant)).toEqual(new Set());
    // Private tables do not exist for non-owners.
    const r = await fetch(`${w.url}/v1/database/${w.db}/sql`, { method: 'POST', headers: { Authorization: `Bearer ${alice.token()}` }, body: 'SELECT * FROM identity_link' });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('`identity_link` is not a valid table');
  });
});

describe('stream selections never show a row the member’s role does not grant', () => {
  it('holds over random role, permission, membership and document changes', async () => {
    const seed = Number(process.env.COOKBOOK_SEED ?? Date.now() % 1_000_000);
    const STEPS = Number(process.env.COOKBOOK_STEPS ?? 40);
    const rand = random(seed);
    const pick = (list) => list[Math.floor(rand() * list.length)];
    const members = [await w.user('m1'), await w.user('m2'), await w.user('m3')];
    const roles = ['admin', 'member', 'viewer'];
    await w.gateway.callReducer('create_role', [tenant, 'custom'], { actor: { sub: alice.sub, act: null } });
    // Everyone starts as a member with some role, so streams exist from the first step.
    for (const [m, role] of [[members[0], 'member'], [members[1], 'viewer'], [members[2], 'custom']]) {
      await w.gateway.callReducer('set_member', [tenant, m.sub, w.roleId(tenant, role)], { actor: { sub: alice.sub, act: null } });
    }
    const browsers = members.map((m) => new Browser(m));
    const as = (reducer, args) => w.gateway.callReducer(reducer, args, { actor: { sub: alice.sub, act: null } });
    const docs = () => w.gateway.rows('document', { tenant_id: tenant });
    const roleIds = () => Object.fromEntries([...roles, 'custom'].map((r) => [r, w.roleId(tenant, r)]));
    const readPermissions = Object.keys(READ_TABLES);
    const ops = {
      setRole: async () => as('set_member', [tenant, pick(members).sub, roleIds()[pick([...roles, 'custom'])]]),
      remove: async () => {
        const inTenant = members.filter((m) => w.gateway.rows('membership', { tenant_id: tenant, actor: m.sub }).length > 0);
        if (inTenant.length) await as('remove_member', [tenant, pick(inTenant).sub]);
      },
      togglePermission: async () => {
        const role = roleIds()[pick(['member', 'viewer', 'custom'])];
        const permission = pick(readPermissions);
        const has = w.gateway.rows('role_permission', { role_id: role }).some((p) => p.permission === permission);
        await as(has ? 'revoke_permission' : 'grant_permission', [tenant, role, permission]);
      },
      createDoc: async () => as('create_document', [tenant, `doc ${Math.floor(rand() * 1e6)}`, 'b']),
      updateDoc: async () => docs().length && as('update_document', [pick(docs()).id, `edited ${Math.floor(rand() * 1e6)}`, 'b']),
      deleteDoc: async () => docs().length && as('delete_document', [pick(docs()).id]),
    };
    const names = Object.keys(ops);
    const started = Date.now();
    const log = [];
    let revocations = 0;
    for (let steps = 0; steps < STEPS; steps++) {
      const op = pick(names);
      log.push(op);
      await ops[op]();
      for (const b of browsers) {
        // Frames that arrived for this step (the old stream's, up to its end), then a reconnect if it ended.
        const truth = await rlsView(b.user, tenant);
        const arrived = b.fresh();
        revocations += arrived.filter((f) => f.event === 'closed' && f.data.payload.reason === 'authorization_changed').length;
        const context = `seed ${seed}, step ${steps} (${log.join(' ')}), ${b.user.sub}`;
        for (const row of shownRows(arrived)) expect(truth.has(row), `${context}: showed ${row}`).toBe(true);
        await b.settle();
        const after = b.fresh();
        for (const row of shownRows(after)) expect(truth.has(row), `${context}: showed ${row} after reconnecting`).toBe(true);
        // Caught up: the stream holds exactly what SpacetimeDB returns to the member.
        await b.client?.until?.(() => (b.fresh(), b.status !== 200 || caughtUp(b.model, truth)), 5000, `${context}: convergence`).catch((e) => {
          throw withRelayStats(new Error(`${e.message}\nheld: ${[...b.model.rows.keys()].sort().join(' ')}\ntruth: ${[...truth].sort().join(' ')}`));
        });
        if (b.status !== 200) expect(truth, `${context}: refused (${b.status}) but SpacetimeDB shows rows`).toEqual(new Set());
      }
    }
    console.log(`visibility property: seed ${seed}, ${STEPS} steps in ${Date.now() - started} ms, ${revocations} streams revoked by authorization changes`);
    for (const b of browsers) b.client?.close();
  }, 180_000);

  // The case behind a rare stall of the property test (e.g. COOKBOOK_SEED=837, step 1): the browser waited
  // for a snapshot or a change that a resumed stream, seeing no change, never sends.
  it('a member moved to a role granting the same tables resumes after its last id, without a snapshot', async () => {
    const member = await w.user('m4');
    const as = (reducer, args) => w.gateway.callReducer(reducer, args, { actor: { sub: alice.sub, act: null } });
    for (const name of ['twin-a', 'twin-b']) {
      await as('create_role', [tenant, name]);
      for (const permission of ['tenant.read', 'document.read']) await as('grant_permission', [tenant, w.roleId(tenant, name), permission]);
    }
    await as('set_member', [tenant, member.sub, w.roleId(tenant, 'twin-a')]);
    const b = new Browser(member);
    await b.settle();
    b.fresh();
    expect(b.status).toBe(200);
    const first = b.client;
    // Authorization rows changed (the membership's role), the selection did not.
    await as('set_member', [tenant, member.sub, w.roleId(tenant, 'twin-b')]);
    await first.until(() => first.ended, 5000, 'the end of the first stream');
    expect(b.fresh().filter((f) => f.data).map((f) => `${f.event}/${f.data.payload.reason}`)).toEqual(['closed/authorization_changed']);
    await b.settle();
    expect(b.status).toBe(200);
    expect(b.client).not.toBe(first);
    // Later changes arrive live on the resumed stream, which holds exactly what SpacetimeDB shows.
    await as('create_document', [tenant, 'after the role change', 'b']);
    const truth = await rlsView(member, tenant);
    await b.client.until(() => (b.fresh(), caughtUp(b.model, truth)), 5000, 'convergence after resuming').catch((e) => {
      throw withRelayStats(e);
    });
    expect(b.client.frames.filter((f) => f.event === 'snapshot' || f.event === 'resync').map((f) => f.event)).toEqual([]);
    b.client.close();
  });
});
