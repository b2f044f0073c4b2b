// What visibility costs on SpacetimeDB 1.3 with the cookbook module's row-level security (RLS through
// read_grant), against the database owner, whom RLS does not apply to. Run with a fresh server:
//
//   bash scripts/with-spacetimedb.sh --release --with-cookbook -- node bench/cookbook-rls.mjs [--quick]
//
// 1. Initial subscription of one tenant's documents (ms, min / median / max over repeats, fresh
//    connection each): owner (no RLS), the trusted gateway (RLS: every tenant), a member (RLS: own grants).
// 2. Commit-to-arrival of a document insert at each of those subscribers (ms, p50 / p99).
// 3. Authorization changes: a member's role loses and regains document.read (the reducer's own time, and
//    until the member's subscription has dropped / received every document), and set_member in a tenant
//    with many members (the read_grant refresh is O(members × links)).

import { performance } from 'node:perf_hooks';
import { Gateway } from '../lib/index.js';
import { cookbookWorld, eventually } from '../__test__/helpers/cookbook.mjs';
import { cell, fmt, quantile, summary } from './lib/stats.mjs';
import { printTable, writeResults } from './lib/report.mjs';

const quick = process.argv.includes('--quick');
const DOCS = quick ? 1000 : 5000;
// Run on a fresh server: every document is then the bench tenant's, and all subscribers get the same rows.
const REPEATS = quick ? 3 : 5;
const INSERTS = quick ? 50 : 200;
const MEMBERS = quick ? 50 : 200;

const w = await cookbookWorld();
const alice = await w.user('alice');
const bob = await w.user('bob');
const tenant = await w.tenant(alice);
const asAlice = (reducer, args) => w.gateway.callReducer(reducer, args, { actor: { sub: alice.sub, act: null } });
await asAlice('set_member', [tenant, bob.sub, w.roleId(tenant, 'member')]);
for (let i = 0; i < DOCS; i += 100) await Promise.all(Array.from({ length: Math.min(100, DOCS - i) }, (_, j) => asAlice('create_document', [tenant, `doc ${i + j}`, 'x'.repeat(100)])));
// The whole table: on 1.3 a subscription of an RLS-filtered table cannot add a WHERE of its own (the
// server refuses it: "Subscriptions require indexes on join columns"); the owner could, but all
// subscribers run the same query here.
const query = 'SELECT * FROM document';
// A trusted gateway of the bench's own, so its connections do not share the suite gateway's identity.
await w.owner.callReducer('trust_gateway', [w.broker.identityFor('robot:bench'), 'bench']);
const subscribers = { owner: () => process.env.SPACETIMEDB_COOKBOOK_OWNER_TOKEN, gateway: () => w.broker.mintRobot({ id: 'bench' }), member: () => bob.token() };

const results = { docs: DOCS, subscribe: {}, arrival: {}, authorization: {} };
// Round robin, so warm-up and server noise fall on every subscriber alike.
const times = Object.fromEntries(Object.keys(subscribers).map((k) => [k, []]));
for (let r = 0; r < REPEATS + 1; r++) {
  for (const [who, token] of Object.entries(subscribers)) {
    const g = await Gateway.connect({ uri: w.url, database: w.db, token: token() });
    const t0 = performance.now();
    await g.subscribe([query]);
    if (r > 0) times[who].push(performance.now() - t0); // the first round warms up
    const expected = who === 'member' ? DOCS : w.gateway.rows('document').length;
    if (g.rows('document').length !== expected) throw new Error(`${who} sees ${g.rows('document').length} of ${expected} documents`);
    await g.close();
  }
}
for (const [who, t] of Object.entries(times)) results.subscribe[who] = summary(t);

const watchers = {};
for (const [who, token] of Object.entries(subscribers)) watchers[who] = await Gateway.connect({ uri: w.url, database: w.db, token: token(), subscriptions: [query] });
const samples = Object.fromEntries(Object.keys(watchers).map((k) => [k, []]));
for (let i = 0; i < INSERTS; i++) {
  const title = `arrival ${i}`;
  const arrived = Object.entries(watchers).map(([who, g]) =>
    new Promise((resolve) => {
      const off = g.onChange((changes) => {
        if (changes.some((c) => c.row.title === title)) {
          off();
          resolve([who, performance.now()]);
        }
      });
    }),
  );
  const t0 = performance.now();
  await w.gateway.callReducer('create_document', [tenant, title, 'b'], { actor: { sub: alice.sub, act: null } });
  for (const [who, at] of await Promise.all(arrived)) samples[who].push(at - t0);
}
for (const [who, s] of Object.entries(samples)) results.arrival[who] = { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };

const member = watchers.member;
const memberRole = w.roleId(tenant, 'member');
const flips = { revoke: [], grant: [], revokeReducer: [], grantReducer: [] };
for (let r = 0; r < REPEATS; r++) {
  let t0 = performance.now();
  const revoked = await asAlice('revoke_permission', [tenant, memberRole, 'document.read']);
  await eventually(() => member.rows('document').length === 0, 'the member losing the documents', 30_000);
  flips.revoke.push(performance.now() - t0);
  flips.revokeReducer.push(revoked.durationMicros / 1000);
  t0 = performance.now();
  const granted = await asAlice('grant_permission', [tenant, memberRole, 'document.read']);
  const total = w.gateway.rows('document', { tenant_id: tenant }).length;
  await eventually(() => member.rows('document').length === total, 'the member getting the documents back', 30_000);
  flips.grant.push(performance.now() - t0);
  flips.grantReducer.push(granted.durationMicros / 1000);
}
results.authorization.flips = Object.fromEntries(Object.entries(flips).map(([k, v]) => [k, summary(v)]));

for (let i = 0; i < MEMBERS; i++) {
  const m = await w.user('m');
  await asAlice('set_member', [tenant, m.sub, w.roleId(tenant, 'viewer')]);
}
const setMember = [];
for (let r = 0; r < REPEATS; r++) {
  const result = await asAlice('set_member', [tenant, bob.sub, w.roleId(tenant, r % 2 ? 'member' : 'viewer')]);
  setMember.push(result.durationMicros / 1000);
}
results.authorization.setMemberWithMembers = { members: MEMBERS + 2, ...summary(setMember) };

printTable(`Initial subscription of the document table (${DOCS} documents of the member's tenant), ms (min / median / max of ${REPEATS})`, [
  ['subscriber', 'RLS', 'subscribe'],
  ['database owner', 'none (owner bypasses RLS)', cell(results.subscribe.owner)],
  ['trusted gateway', 'read_grant join (all tenants)', cell(results.subscribe.gateway)],
  ['member', 'read_grant join (own grants)', cell(results.subscribe.member)],
]);
printTable(`Insert commit to arrival, ms (${INSERTS} inserts)`, [
  ['subscriber', 'p50', 'p99'],
  ...Object.entries(results.arrival).map(([who, s]) => [who, fmt(s.p50), fmt(s.p99)]),
]);
const f = results.authorization.flips;
printTable(`Authorization changes with ${DOCS} documents, ms (min / median / max of ${REPEATS})`, [
  ['change', 'reducer time', 'until the member saw it all'],
  ['revoke document.read from the member role', cell(f.revokeReducer), cell(f.revoke)],
  ['grant it again', cell(f.grantReducer), cell(f.grant)],
  [`set_member in a tenant of ${MEMBERS + 2} members`, cell(results.authorization.setMemberWithMembers), '—'],
]);
console.log(`\nresults: ${writeResults(quick ? 'cookbook-rls-quick' : 'cookbook-rls', { quick, ...results })}`);
for (const g of Object.values(watchers)) await g.close();
await w.close();
