// `npm run demo`: the whole pattern, live. scripts/demo.sh starts the TanStack Start example app with
// SpacetimeDB and PostgreSQL (scripts/example.sh) and runs this script against it: two demo users in two
// organizations, one user's SSE stream printed as it arrives while the demo writes through the app's own
// routes, an outsider refused, a member removed while streaming. Then it keeps serving (and printing
// Alice's stream) until Ctrl-C; with --once it exits after the scripted part, non-zero if anything in it
// did not happen as it should.
import { EventSource } from 'eventsource';
import { AppClient, PASSWORD } from '../tools/examples/client.mjs';

const once = process.argv.includes('--once');
const { APP_URL, SPACETIMEDB_URL, SPACETIMEDB_DB } = process.env;
if (!APP_URL) {
  console.error('Run me with `npm run demo`: it starts the app and its services and sets APP_URL.');
  process.exit(2);
}
const app = new AppClient(APP_URL);
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`  ${ok ? '✓' : '✗'} ${what}`);
};
const step = (text) => console.log(`\n${text}`);
const short = (row) => `#${row.id} "${row.title}" v${row.version}`;

/** Opens `who`'s stream of `org` with a spec-following EventSource; prints and keeps every envelope. */
function stream(who, org, name) {
  const seen = [];
  const source = new EventSource(`${APP_URL}/api/events?tenant=${org.id}`, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, cookie: who.cookie } }),
  });
  const print = (event) => {
    const envelope = JSON.parse(event.data);
    seen.push(envelope);
    const p = envelope.payload;
    const detail = p.row ? short(p.row) : p.phase ? `${p.phase}${p.rows ? ` (${p.rows.length} rows)` : ''}` : p.reason ?? '';
    console.log(`    ${name} ← ${envelope.event} ${detail}   [id ${envelope.id ?? '-'}, tenant ${envelope.tenant_id}]`);
    if (envelope.event === 'revoked') source.close();
  };
  for (const type of ['snapshot', 'resync', 'revoked', 'closed', 'document.insert', 'document.update', 'document.delete']) source.addEventListener(type, print);
  const until = async (predicate, what) => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) if (predicate(seen)) return true;
    check(false, `${name}'s stream: ${what} (timed out)`);
    return false;
  };
  return { seen, source, until };
}

console.log(`spacetime-gateway demo: the TanStack Start example (examples/tanstack-start)
  app          ${APP_URL}
  SpacetimeDB  ${SPACETIMEDB_URL}, database ${SPACETIMEDB_DB}`);

step('Two users sign up and each creates an organization (Better Auth: POST /api/auth/sign-up/email, /api/auth/organization/create):');
const alice = await app.signUp('Alice');
const bob = await app.signUp('Bob');
const acme = await app.createOrganization(alice, 'Acme');
const globex = await app.createOrganization(bob, 'Globex');
console.log(`  Alice  ${alice.email}  owner of Acme    ${APP_URL}/t/${acme.id}`);
console.log(`  Bob    ${bob.email}  owner of Globex  ${APP_URL}/t/${globex.id}`);
console.log(`  password of both: ${PASSWORD}`);
const acmeKey = await app.createApiKey(alice, { organizationId: acme.id, name: 'demo integration' });
const globexKey = await app.createApiKey(bob, { organizationId: globex.id, name: 'demo integration' });

step(`Alice's stream, GET /api/events?tenant=${acme.id} (what her browser's EventSource receives):`);
const aliceStream = stream(alice, acme, 'Alice');
await aliceStream.until((s) => s.some((e) => e.event === 'snapshot' && e.payload.phase === 'end'), 'the snapshot');

step("Writes through the app's integration route, POST /api/integrations/documents with each organization's API key:");
const created = [];
for (const [key, org, title] of [[acmeKey, acme, 'Quarterly plan'], [globexKey, globex, 'Globex secret'], [acmeKey, acme, 'Launch checklist']]) {
  const response = await app.postDocument(key.key, { title, body: `written by ${org.name}'s robot` });
  const body = await response.json();
  console.log(`  → ${org.name}'s key: HTTP ${response.status} ${JSON.stringify(body)}`);
  check(response.status === 201, `${title}: 201`);
  created.push({ org, id: body.id });
}
const acmeIds = created.filter((c) => c.org === acme).map((c) => c.id);
await aliceStream.until((s) => acmeIds.every((id) => s.some((e) => e.payload.row?.id === id)), "Acme's inserts");
const inserts = aliceStream.seen.filter((e) => e.event === 'document.insert').map((e) => e.payload.row.id);
check(acmeIds.every((id) => inserts.filter((x) => x === id).length === 1), "Alice saw each of Acme's inserts exactly once");
check(aliceStream.seen.every((e) => e.tenant_id === acme.id || e.tenant_id === null), "Alice's stream carried nothing of Globex");

step('An outsider: Bob asks for Acme (the membership decides, not the URL):');
const refused = await app.documents(bob, acme.id);
console.log(`  → GET /api/documents?tenant=${acme.id} as Bob: HTTP ${refused.status} ${await refused.text()}`);
check(refused.status === 403, 'Bob gets 403');

step('Alice invites Bob, Bob accepts, Bob streams Acme; then Alice removes him (Better Auth endpoints; the hooks keep SpacetimeDB in step):');
await app.addMember(alice, bob, acme.id);
const bobStream = stream(bob, acme, 'Bob');
await bobStream.until((s) => s.some((e) => e.event === 'snapshot' && e.payload.phase === 'end'), 'the snapshot');
await app.removeMember(alice, bob, acme.id);
await bobStream.until((s) => s.some((e) => e.event === 'revoked'), 'revoked');
const after = await app.documents(bob, acme.id);
console.log(`  → GET /api/documents?tenant=${acme.id} as Bob again: HTTP ${after.status}`);
check(bobStream.seen.at(-1)?.event === 'revoked', "Bob's open stream ended with revoked");
check(after.status === 403, 'Bob gets 403 afterwards');

if (once) {
  aliceStream.source.close();
  console.log(failures.length === 0 ? '\ndemo: all checks passed' : `\ndemo: ${failures.length} check(s) failed: ${failures.join('; ')}`);
  process.exit(failures.length === 0 ? 0 : 1);
}
step(`Serving ${APP_URL} — sign in as Alice or Bob (above) and edit documents: Alice's stream keeps printing here. Ctrl-C stops everything.`);
