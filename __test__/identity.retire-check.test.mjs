// `spacetime-gateway identity retire-check` as a real process against the real SpacetimeDB 1.3.0 and the
// cookbook module, whose identity_link records each link's last use (a connection or a committed call),
// at most once a minute. An issuer of this suite only: other suites' traffic never counts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { runCli } from './helpers/auth.mjs';
import { cookbookWorld, eventually } from './helpers/cookbook.mjs';
import { callAs, databaseArgs, linksOf } from './helpers/identity.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';

let w; // the cookbook world: its issuer is the one to retire
let alice, robot;

beforeAll(async () => {
  w = await cookbookWorld();
  alice = await w.user('alice');
  robot = `robot:${uniqueId('key')}`;
  await w.gateway.callReducer('link_identity', [w.issuer, robot, robot]);
});

afterAll(async () => {
  await w?.close();
});

const retireCheck = (...extra) => runCli(['identity', 'retire-check', '--issuer', w.issuer, ...databaseArgs(), ...extra]);
const lastSeen = async (actor) => (await linksOf(w.issuer)).find((l) => l.actor === actor)?.lastSeen ?? null;

describe('identity retire-check', () => {
  it('passes while nobody used the issuer, listing its idle links', async () => {
    const r = await retireCheck('--since', '1h', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, issuer: w.issuer, links: 2, inUse: [], granularitySeconds: 60 });
    expect(report.idle.map((a) => [a.actor, a.kind, a.lastUsed])).toEqual([[alice.sub, 'user', null], [robot, 'robot', null]].sort((x, y) => x[0].localeCompare(y[0])));
    expect(Date.parse(report.since) - Date.parse(report.windowStart)).toBe(60_000);
    const text = await retireCheck();
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^issuer ${w.issuer} unused since .*: 2 links of 2 actors\n`));
  });

  it('fails after one call with an old-issuer token, listing the user', async () => {
    expect(await callAs(alice.token(), 'create_tenant', [null, uniqueId('t'), 'T'])).toEqual({ status: 200, text: '' });
    const r = await retireCheck('--since', '10m');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^issuer ${w.issuer} is still in use: 1 actor used it since `));
    expect(r.stdout).toMatch(new RegExp(`\n  ${alice.sub}  \\(user, subject ${alice.sub}\\)  last used \\S+ \\(\\d+ s ago\\)\n`));
    expect(r.stdout).toContain(`  idle: ${robot}  (robot)  never used`);
  });

  it('a connection alone counts: a robot that only subscribes is listed too', async () => {
    const g = await Gateway.connect({ uri: w.url, database: w.db, token: w.broker.mint({ sub: robot }) });
    await g.close();
    await eventually(async () => (await lastSeen(robot)) !== null, 'the robot\'s use');
    const report = JSON.parse((await retireCheck('--since', '10m', '--json')).stdout);
    expect(report.ok).toBe(false);
    expect(report.inUse.map((a) => a.actor).sort()).toEqual([alice.sub, robot].sort());
    expect(report.idle).toEqual([]);
  });

  it('records a use at most once a minute (a busy caller costs no extra write)', async () => {
    const first = await lastSeen(alice.sub);
    expect(first).not.toBeNull();
    expect(await callAs(alice.token(), 'create_tenant', [null, uniqueId('t'), 'T'])).toEqual({ status: 200, text: '' });
    expect(await lastSeen(alice.sub)).toBe(first);
  });

  it('an issuer nobody is linked under passes, and says to check the exact string', async () => {
    const r = await runCli(['identity', 'retire-check', '--issuer', `${w.issuer}/`, ...databaseArgs()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`no identity_link rows for issuer ${w.issuer}/: nothing uses it (check the exact string: a trailing "/" is another issuer)\n`);
  });

  it('with a token that is not the owner\'s: an environment error (exit 3)', async () => {
    const args = databaseArgs();
    args[args.indexOf('--token') + 1] = alice.token();
    const r = await runCli(['identity', 'retire-check', '--issuer', w.issuer, ...args]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('NOT_OWNER');
  });
});
