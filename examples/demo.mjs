// The demo behind `npm run demo` (scripts/demo.sh starts a local SpacetimeDB with the reference module and
// sets SPACETIMEDB_URL / SPACETIMEDB_DB): connect, subscribe, call reducers, print the live changes.

import { Gateway } from '../lib/index.js';

const uri = process.env.SPACETIMEDB_URL;
const database = process.env.SPACETIMEDB_DB;
if (!uri || !database) {
  console.error('Run me with `npm run demo`: it starts the server and sets SPACETIMEDB_URL and SPACETIMEDB_DB.');
  process.exit(1);
}

const tenant = `demo-${Date.now().toString(36)}`;
const gateway = await Gateway.connect({ uri, database });
console.log(`connected to ${uri}, database ${database}, as identity ${gateway.identity}`);

await gateway.callReducer('create_tenant', [tenant, 'Demo Inc.']);
await gateway.subscribe([`SELECT * FROM document WHERE tenant_id = '${tenant}'`]);
console.log(`subscribed to the documents of tenant ${tenant} (${gateway.rows('document').length} rows so far)`);

let seen = 0;
const done = new Promise((resolve) => {
  gateway.onChange((changes, meta) => {
    for (const { table, op, row, oldRow } of changes) {
      const was = oldRow ? ` (was "${oldRow.title}" v${oldRow.version})` : '';
      console.log(`live ${table}.${op} by ${meta.reducer ?? '?'}: #${row.id} "${row.title}" v${row.version}${was}`);
      if (++seen === 3) resolve();
    }
  });
});

const created = await gateway.callReducer('create_document', { tenant_id: tenant, title: 'Hello', body: 'first' });
console.log(`create_document committed at ${created.timestamp}`);
const [doc] = gateway.rows('document', { tenant_id: tenant });
await gateway.callReducer('update_document', [doc.id, 'Hello, world', 'second']);
await gateway.callReducer('delete_document', [doc.id]);

try {
  await gateway.callReducer('create_document', [tenant, '', 'no title']);
} catch (e) {
  console.log(`a reducer error arrives as ${e.code}: ${e.message}`);
}

await done;
await gateway.close();
console.log('closed');
