// `spacetime-gateway identity migrate` as a real process against the real SpacetimeDB 1.3.0 and the
// cookbook module: two real issuers (old and new), users linked under the old one, a subject map. The
// dry run prints exactly what it would write; --apply links the new Identities so both issuers' tokens
// reach the same user's rows, once; bad maps and disagreeing databases are refused with line numbers
// and nothing written.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveIdentity } from '../lib/index.js';
import { runCli } from './helpers/auth.mjs';
import { cookbookEnv, cookbookWorld, eventually } from './helpers/cookbook.mjs';
import { callAs, databaseArgs, linksOf, mapFile } from './helpers/identity.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';
import { appIssuer } from './helpers/topology.mjs';

let w; // the cookbook world: its issuer is the old one
let next; // the new issuer
let oldIssuer, newIssuer;

beforeAll(async () => {
  w = await cookbookWorld();
  next = await appIssuer();
  [oldIssuer, newIssuer] = [w.issuer, next.issuer.issuer];
});

afterAll(async () => {
  await w?.close();
  await next?.stop();
});

const migrate = (map, ...extra) => runCli(['identity', 'migrate', '--old-issuer', oldIssuer, '--new-issuer', newIssuer, '--map', map, ...extra]);
const linkedNew = async () => new Map((await linksOf(newIssuer)).map((l) => [l.subject, l.actor]));
/** A call with a token of `broker` for `sub` (ctx.sender = that issuer's Identity of sub): `{ status, text }`. */
const createDocument = (broker, sub, tenant, title) => callAs(broker.mint({ sub }), 'create_document', [null, tenant, title, 'b']);

describe('a migration of three users', () => {
  let alice, bob, carol, tenant, map;
  const newSub = {};

  beforeAll(async () => {
    [alice, bob, carol] = [await w.user('alice'), await w.user('bob'), await w.user('carol')];
    tenant = await w.tenant(alice);
    Object.assign(newSub, { [alice.sub]: `n-${alice.sub}`, [bob.sub]: `${bob.sub}@example.com`, [carol.sub]: carol.sub });
    map = mapFile(
      'old_subject,app_user_id,new_subject',
      `${alice.sub},${alice.sub},${newSub[alice.sub]}`,
      '# bob signs in with his address at the new provider',
      JSON.stringify({ old_subject: bob.sub, app_user_id: bob.sub, new_subject: newSub[bob.sub] }),
      `${carol.sub},${carol.sub},${newSub[carol.sub]}`,
    );
  });

  it('the dry run prints each old → new Identity and the rows it would write, exactly, and writes nothing', async () => {
    const { url, db } = cookbookEnv();
    const r = await migrate(map, ...databaseArgs());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const users = [[2, alice], [4, bob], [5, carol]];
    const expected = [
      'identity migrate: dry run (nothing is written; --apply writes)',
      `  old issuer  ${oldIssuer}`,
      `  new issuer  ${newIssuer}`,
      `  database    ${db} on ${url}`,
      ...users.flatMap(([line, u]) => [
        `line ${line}: ${u.sub}`,
        `  old  ${deriveIdentity(oldIssuer, u.sub)}  ${u.sub}  linked to ${u.sub}`,
        `  new  ${deriveIdentity(newIssuer, newSub[u.sub])}  ${newSub[u.sub]}  to write`,
      ]),
      'identity_link rows (identity, issuer, subject, actor):',
      ...users.map(([, u]) => `  ${deriveIdentity(newIssuer, newSub[u.sub])}  ${newIssuer}  ${newSub[u.sub]}  ${u.sub}  to write`),
    ];
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, expected.length)).toEqual(expected);
    expect(lines[expected.length]).toMatch(/^! EMAIL_SUBJECT \(line 4\): subjects that look like e-mail addresses: an address is reassigned/);
    expect(lines.slice(expected.length + 1)).toEqual(['3 links to write, 0 already in place; 1 warning']);
    expect(await linkedNew()).toEqual(new Map());
  });

  it('--apply links the new Identities: old- and new-issuer tokens reach the same user\'s rows', async () => {
    const early = await createDocument(next.broker, newSub[alice.sub], tenant, 'too early');
    expect(early.status).toBe(530);
    expect(early.text).toContain('is not linked to an app actor');
    const r = await migrate(map, ...databaseArgs(), '--apply');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('wrote 3 links, 0 already in place');
    expect(await linkedNew()).toEqual(new Map([alice, bob, carol].map((u) => [newSub[u.sub], u.sub])));
    expect(await createDocument(w.broker, alice.sub, tenant, 'old issuer')).toEqual({ status: 200, text: '' });
    expect(await createDocument(next.broker, newSub[alice.sub], tenant, 'new issuer')).toEqual({ status: 200, text: '' });
    const owners = await eventually(() => {
      const docs = w.gateway.rows('document', { tenant_id: tenant }).filter((d) => d.title.endsWith('issuer'));
      return docs.length === 2 && Object.fromEntries(docs.map((d) => [d.title, d.owner]));
    }, 'both documents');
    expect(owners).toEqual({ 'old issuer': alice.sub, 'new issuer': alice.sub });
  });

  it('a second --apply changes nothing and says so', async () => {
    const before = await linksOf(newIssuer);
    const r = await migrate(map, ...databaseArgs(), '--apply', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, mode: 'apply', message: 'nothing to do: all 3 links already in place', problems: [] });
    expect(report.summary).toEqual({ toWrite: 0, present: 3, written: 0, problems: 0, warnings: 1 });
    expect(report.entries.map((e) => e.action)).toEqual(['present', 'present', 'present']);
    expect(await linksOf(newIssuer)).toEqual(before);
  });
});

describe('refused before anything is written', () => {
  it('a malformed map: every problem with its line numbers', async () => {
    const [dave, erin] = [await w.user('dave'), await w.user('erin')];
    const map = mapFile(
      `${dave.sub},${dave.sub},n-${dave.sub}`,
      `${erin.sub};${erin.sub};x`,
      `${dave.sub},${dave.sub},n2-${dave.sub}`,
      `${erin.sub},${erin.sub},n-${dave.sub}`,
      `ghost-old,${uniqueId('ghost')},ghost-new`,
      '{"old_subject": 1}',
      `robot:k1,${erin.sub},n-${erin.sub}`,
      `${erin.sub} ,${erin.sub},n3-${erin.sub}`,
    );
    const parseProblems = [['MALFORMED_LINE', [2]], ['MALFORMED_LINE', [6]], ['MALFORMED_LINE', [7]], ['MALFORMED_LINE', [8]], ['DUPLICATE_OLD_SUBJECT', [1, 3]], ['NEW_SUBJECT_COLLISION', [1, 4]]];
    const offline = JSON.parse((await migrate(map, '--json')).stdout);
    expect(offline.problems.map((p) => [p.code, p.lines])).toEqual(parseProblems);
    const r = await migrate(map, ...databaseArgs(), '--apply', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.problems.map((p) => [p.code, p.lines])).toEqual([...parseProblems, ['UNKNOWN_USER', [5]]]);
    expect(report.problems[0].message).toContain('expected 3 comma-separated fields');
    expect(report.message).toBe('refused: 7 problems; nothing was written');
    expect(report.summary.written).toBe(0);
    const text = await migrate(map, ...databaseArgs(), '--apply');
    expect(text.stdout).toContain('✗ DUPLICATE_OLD_SUBJECT (lines 1, 3): ');
    expect(text.stdout).toContain('✗ MALFORMED_LINE (line 8): old_subject');
    expect([...(await linkedNew()).values()]).not.toContain(dave.sub);
  });

  it('a database whose links disagree with the map stops --apply', async () => {
    const [frank, gina, hank] = [await w.user('frank'), await w.user('gina'), await w.user('hank')];
    await w.gateway.callReducer('link_identity', [newIssuer, `n-${gina.sub}`, hank.sub]); // gina's new subject is hank's
    const map = mapFile(`${frank.sub},${frank.sub},n-${frank.sub}`, `${gina.sub},${gina.sub},n-${gina.sub}`, `${hank.sub},${frank.sub},n2-${frank.sub}`);
    const r = await migrate(map, ...databaseArgs(), '--apply', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.problems).toEqual([
      { code: 'LINK_DISAGREES', lines: [2], message: `the new Identity of n-${gina.sub} is linked to ${hank.sub} in the database, the map says ${gina.sub}` },
      { code: 'LINK_DISAGREES', lines: [3], message: `the old Identity of ${hank.sub} is linked to ${hank.sub} in the database, the map says ${frank.sub}` },
    ]);
    const linked = await linkedNew();
    expect(linked.has(`n-${frank.sub}`)).toBe(false);
    expect(linked.get(`n-${gina.sub}`)).toBe(hank.sub);
  });
});

describe('warned, not refused', () => {
  it('a deactivated user is linked, with a warning', async () => {
    const ivan = await w.user('ivan');
    await w.gateway.callReducer('set_actor_active', [ivan.sub, false]);
    const map = mapFile(`${ivan.sub},${ivan.sub},n-${ivan.sub}`);
    const report = JSON.parse((await migrate(map, ...databaseArgs(), '--json')).stdout);
    expect(report).toMatchObject({ ok: true, problems: [], message: '1 link to write, 0 already in place; 1 warning' });
    expect(report.warnings.map((x) => [x.code, x.lines])).toEqual([['INACTIVE_USER', [1]]]);
  });
});

describe('usage', () => {
  it('prints help for the new commands with exit 0', async () => {
    for (const command of [['identity', 'migrate'], ['identity', 'retire-check']]) {
      const r = await runCli([...command, '--help']);
      expect(r.code, command.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: spacetime-gateway ${command.join(' ')}`);
      expect(r.stdout).toContain('Exit codes:');
    }
  });

  it('refuses missing or contradictory options with exit 2, a missing map file with exit 3', async () => {
    const map = mapFile('a,b,c');
    const cases = [
      [['identity', 'migrate', '--new-issuer', 'https://n.example', '--map', map], '--old-issuer is required'],
      [['identity', 'migrate', '--old-issuer', 'https://o.example', '--new-issuer', 'https://o.example', '--map', map], 'the same'],
      [['identity', 'migrate', '--old-issuer', 'https://o.example', '--new-issuer', 'https://n.example'], '--map FILE is required'],
      [['identity', 'migrate', '--old-issuer', 'https://o.example', '--new-issuer', 'https://n.example', '--map', map, '--apply'], 'the database needs --url'],
      [['identity', 'retire-check', '--issuer', 'https://o.example', '--since', 'soon', ...databaseArgs()], '--since takes a duration'],
      [['identity', 'retire-check', ...databaseArgs()], '--issuer is required'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const missing = await runCli(['identity', 'migrate', '--old-issuer', 'https://o.example', '--new-issuer', 'https://n.example', '--map', `${map}.nope`]);
    expect(missing.code).toBe(3);
  });
});
