// How long `spacetime-gateway identity migrate` takes for N users, against the real server with the
// cookbook module: the dry run without a database (parse the map, derive 2N Identities), the dry run with
// the database (plus reading every link and actor), `--apply` (one `link_identity` call per user, in
// order) and the second `--apply` (nothing to write). Run under the project's server:
//
//   bash scripts/with-spacetimedb.sh --with-cookbook -- node bench/identity-migrate.mjs [N=5000]
//
// Setting up N users (one `link_identity` each, 32 at a time) is not measured. Prints one JSON line.

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const count = Number(process.argv[2] ?? 5000);
const { SPACETIMEDB_URL: url, SPACETIMEDB_COOKBOOK_DB: db, SPACETIMEDB_COOKBOOK_OWNER_TOKEN: token } = process.env;
if (!url || !db || !token) throw new Error('run under scripts/with-spacetimedb.sh --with-cookbook');

const stamp = Date.now().toString(36);
const oldIssuer = `http://127.0.0.1:1/realms/bench-${stamp}`;
const newIssuer = `https://app.example.com/bench-${stamp}`;
const users = Array.from({ length: count }, (_, i) => ({ old: `${stamp}-old-${i}`, user: `${stamp}-user-${i}`, new: `${stamp}-new-${i}` }));

async function call(reducer, args) {
  const res = await fetch(`${url}/v1/database/${db}/call/${reducer}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  if (res.status !== 200) throw new Error(`${reducer}: HTTP ${res.status} ${await res.text()}`);
}

// Each user exists at the old issuer (as a Keycloak exit starts).
for (let i = 0; i < users.length; i += 32) {
  await Promise.all(users.slice(i, i + 32).map((u) => call('link_identity', [oldIssuer, u.old, u.user])));
}
const dir = mkdtempSync(join(tmpdir(), 'migrate-bench-'));
const map = join(dir, 'map.csv');
writeFileSync(map, ['old_subject,app_user_id,new_subject', ...users.map((u) => `${u.old},${u.user},${u.new}`)].join('\n'));

const cli = join(import.meta.dirname, '..', 'bin', 'spacetime-gateway.js');
const base = ['identity', 'migrate', '--old-issuer', oldIssuer, '--new-issuer', newIssuer, '--map', map];
const database = ['--url', url, '--database', db, '--token', token];
async function timed(args) {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [cli, ...args], { maxBuffer: 1 << 30 });
  return { seconds: +((performance.now() - started) / 1000).toFixed(2), last: stdout.trim().split('\n').at(-1) };
}
const result = {
  users: count,
  dryRunOffline: await timed(base),
  dryRunWithDatabase: await timed([...base, ...database]),
  apply: await timed([...base, ...database, '--apply']),
  applyAgain: await timed([...base, ...database, '--apply']),
};
console.log(JSON.stringify(result));
