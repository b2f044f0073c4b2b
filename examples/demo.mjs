// The demo behind `npm run demo`, run by scripts/demo.sh against a local SpacetimeDB it started.
// For now it shows the server side only: the reference module published, a reducer call, and the row it
// wrote, read back over SQL. (The gateway client takes over this demo in the next step.)

const url = process.env.SPACETIMEDB_URL;
const db = process.env.SPACETIMEDB_DB;
if (!url || !db) {
  console.error('Run me with `npm run demo` (it starts the server and sets SPACETIMEDB_URL / SPACETIMEDB_DB).');
  process.exit(1);
}

const { identity, token } = await fetch(`${url}/v1/identity`, { method: 'POST' }).then((r) => r.json());
console.log(`SpacetimeDB ${url}, database ${db}; acting as identity ${identity}`);

async function call(reducer, args) {
  const r = await fetch(`${url}/v1/database/${db}/call/${reducer}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  });
  if (!r.ok) throw new Error(`${reducer}: HTTP ${r.status} ${await r.text()}`);
  console.log(`called ${reducer}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
}

await call('create_tenant', ['demo', 'Demo Inc.']);
await call('create_document', ['demo', 'Hello from the demo', 'Written through the reference module.']);

const result = await fetch(`${url}/v1/database/${db}/sql`, {
  method: 'POST',
  headers: { Authorization: `Bearer ${token}` },
  body: "SELECT * FROM document WHERE tenant_id = 'demo'",
}).then((r) => r.json());
const names = result[0].schema.elements.map((e) => e.name.some);
for (const row of result[0].rows) console.log('document row:', Object.fromEntries(row.map((v, i) => [names[i], v])));
