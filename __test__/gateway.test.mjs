// The generic client against the real SpacetimeDB server: connect, schema, subscribe, rows, onChange,
// callReducer, close — and every kind of bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { httpCall, newIdentity, serverEnv, sql, uniqueId } from './helpers/spacetimedb.mjs';
import { allTypesRow, expectCode } from './helpers/values.mjs';

const { url, db } = serverEnv();

/** Collects change batches until `predicate(allChanges)` holds. */
function collector(gateway) {
  const batches = [];
  const waiters = [];
  const stop = gateway.onChange((changes, meta) => {
    batches.push({ changes, meta });
    for (const w of [...waiters]) w();
  });
  return {
    batches,
    all: () => batches.flatMap((b) => b.changes),
    stop,
    until(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(batches.flatMap((b) => b.changes))) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(timer);
            resolve(batches);
          }
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`timed out; saw ${JSON.stringify(batches)}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
  };
}

describe('Gateway.connect', () => {
  it('connects anonymously over http:// and ws:// and reports identity and connection id', async () => {
    for (const uri of [url, url.replace('http://', 'ws://')]) {
      const g = await Gateway.connect({ uri, database: db });
      expect(g.identity).toMatch(/^c200[0-9a-f]{60}$/);
      expect(g.connectionId).toMatch(/^[0-9a-f]{32}$/);
      await g.close();
    }
  });

  it('connects with a token as that identity', async () => {
    const user = await newIdentity();
    const g = await Gateway.connect({ uri: url, database: db, token: user.token });
    expect(g.identity).toBe(user.identity);
    await g.close();
  });

  it('works with every compression setting', async () => {
    for (const compression of ['none', 'gzip', 'brotli']) {
      const g = await Gateway.connect({ uri: url, database: db, compression, subscriptions: ['SELECT * FROM document'] });
      // The initial rows (over 1 KiB once earlier tests wrote documents) arrive compressed except with 'none'.
      expect(Array.isArray(g.rows('document'))).toBe(true);
      await g.close();
    }
  });

  it('rejects bad input with coded errors', async () => {
    await expectCode(Gateway.connect({ uri: url, database: 'no-such-database-xyz' }), 'NO_SUCH_DATABASE', 'no-such-database-xyz');
    await expectCode(Gateway.connect({ uri: url, database: db, token: 'not.a.jwt' }), 'UNAUTHORIZED');
    await expectCode(Gateway.connect({ uri: 'http://127.0.0.1:9', database: db }), 'CONNECT_FAILED', '127.0.0.1:9');
    await expectCode(Gateway.connect({ uri: 'ftp://x', database: db }), 'INVALID_ARGUMENT', 'ftp://x');
    await expectCode(Gateway.connect({ uri: url }), 'INVALID_ARGUMENT', 'options.database');
    await expectCode(Gateway.connect({ uri: url, database: db, timeoutMs: -1 }), 'INVALID_ARGUMENT', 'timeoutMs');
    await expectCode(Gateway.connect({ uri: url, database: db, compression: 'zstd' }), 'INVALID_ARGUMENT', 'compression');
    await expectCode(Gateway.connect(null), 'INVALID_ARGUMENT');
  });

  it('hands its diagnostics to onLog in batches, from logLevel up', async () => {
    const records = [];
    let calls = 0;
    const onLog = (batch) => {
      calls++;
      records.push(...batch);
    };
    const g = await Gateway.connect({ uri: url, database: db, onLog });
    for (let waited = 0; records.length === 0 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const connected = records.find((r) => r.message === 'connected');
    expect(connected).toMatchObject({ level: 'info', fields: { database: db, identity: g.identity, connection_id: g.connectionId } });
    expect(connected.target).toMatch(/^spacetime_gateway::gateway/);
    expect(Math.abs(connected.time - Date.now())).toBeLessThan(60_000);
    expect(calls).toBeLessThanOrEqual(records.length);
    await g.close();

    const quiet = [];
    const w = await Gateway.connect({ uri: url, database: db, logLevel: 'warn', onLog: (batch) => quiet.push(...batch) });
    await new Promise((r) => setTimeout(r, 200));
    expect(quiet).toEqual([]);
    await w.close();

    await expectCode(Gateway.connect({ uri: url, database: db, onLog: 'console' }), 'INVALID_ARGUMENT', 'options.onLog must be a function');
    await expectCode(Gateway.connect({ uri: url, database: db, logLevel: 'verbose' }), 'INVALID_ARGUMENT', 'options.logLevel');
  });
});

describe('schema', () => {
  it('lists tables with columns, primary keys and access, and reducers with parameters', async () => {
    const g = await Gateway.connect({ uri: url, database: db });
    const schema = g.schema();
    // 1.3.0 refuses `/schema?version=10` (HTTP 400): the gateway read the V9 definition instead.
    expect(schema.version).toBe(9);
    expect(schema.views).toEqual([]);
    const doc = schema.tables.find((t) => t.name === 'document');
    expect(doc).toEqual({
      name: 'document',
      public: true,
      event: false,
      primaryKey: 'id',
      columns: [
        { name: 'id', type: 'u64' },
        { name: 'tenant_id', type: 'String' },
        { name: 'title', type: 'String' },
        { name: 'body', type: 'String' },
        { name: 'owner', type: 'Identity' },
        { name: 'updated_at', type: 'Timestamp' },
        { name: 'version', type: 'u32' },
      ],
    });
    const create = schema.reducers.find((r) => r.name === 'create_document');
    expect(create.params).toEqual([
      { name: 'tenant_id', type: 'String' },
      { name: 'title', type: 'String' },
      { name: 'body', type: 'String' },
    ]);
    const allTypes = schema.tables.find((t) => t.name === 'all_types');
    const types = Object.fromEntries(allTypes.columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ a_u256: 'u256', maybe_string: 'Option<String>', bytes: 'Vec<u8>', color: 'Color', shape: 'Shape', shapes: 'Vec<Shape>' });
    await g.close();
  });
});

describe('subscribe, rows, onChange, callReducer', () => {
  let alice;
  let g;
  let tenant;

  beforeAll(async () => {
    alice = await newIdentity();
    tenant = uniqueId('t');
    g = await Gateway.connect({ uri: url, database: db, token: alice.token });
    await g.callReducer('create_tenant', [tenant, 'Gateway tests']);
  });
  afterAll(() => g?.close());

  it('subscribes and serves the initial rows, filtered by column equality', async () => {
    await g.callReducer('create_document', [tenant, 'Before subscribe', 'x']);
    await g.subscribe([`SELECT * FROM document WHERE tenant_id = '${tenant}'`, 'SELECT * FROM tenant']);
    const docs = g.rows('document');
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ tenant_id: tenant, title: 'Before subscribe', body: 'x', owner: alice.identity, version: 1 });
    expect(typeof docs[0].id).toBe('string'); // u64 → decimal string
    expect(docs[0].updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(g.rows('tenant', { id: tenant })).toEqual([expect.objectContaining({ id: tenant, name: 'Gateway tests', created_by: alice.identity })]);
    expect(g.rows('document', { tenant_id: 'nobody' })).toEqual([]);
  });

  it('resolves callReducer with the commit, and onChange sees insert, update, delete in order', async () => {
    const c = collector(g);
    const created = await g.callReducer('create_document', { tenant_id: tenant, title: 'Live', body: 'one' });
    expect(created).toMatchObject({ status: 'committed' });
    expect(created.timestamp).toMatch(/Z$/);
    // Read-your-writes: the projection holds the row once the call resolved.
    const doc = g.rows('document', { tenant_id: tenant }).find((d) => d.title === 'Live');
    expect(doc).toBeDefined();

    await g.callReducer('update_document', [doc.id, 'Live 2', 'two']);
    await g.callReducer('delete_document', [doc.id]);
    await c.until((all) => all.some((ch) => ch.op === 'delete' && ch.row.id === doc.id));
    const mine = c.all().filter((ch) => ch.table === 'document' && ch.row.id === doc.id);
    expect(mine.map((ch) => ch.op)).toEqual(['insert', 'update', 'delete']);
    expect(mine[1].oldRow).toMatchObject({ title: 'Live', version: 1 });
    expect(mine[1].row).toMatchObject({ title: 'Live 2', version: 2 });
    // One batch per transaction, with its facts.
    const createBatch = c.batches.find((b) => b.changes.some((ch) => ch.op === 'insert' && ch.row.id === doc.id));
    expect(createBatch.meta).toMatchObject({ reducer: 'create_document', callerIdentity: alice.identity });
    c.stop();
  });

  it('rejects a reducer error with REDUCER_FAILED carrying the module message, and validates arguments before sending', async () => {
    await expectCode(g.callReducer('create_document', [tenant, '  ', 'x']), 'REDUCER_FAILED', 'title must not be empty');
    await expectCode(g.callReducer('create_document', ['no-such-tenant', 'T', 'x']), 'REDUCER_FAILED', 'no such tenant');
    await expectCode(g.callReducer('no_such_reducer', []), 'INVALID_ARGUMENT', 'no_such_reducer');
    await expectCode(g.callReducer('create_document', [tenant, 'T']), 'INVALID_ARGUMENT', 'create_document');
    await expectCode(g.callReducer('create_document', [tenant, 42, 'x']), 'INVALID_ARGUMENT', 'title');
    await expectCode(g.callReducer('update_document', ['-1', 'T', 'x']), 'INVALID_ARGUMENT', 'id');
    await expectCode(g.callReducer('update_document', [2 ** 64, 'T', 'x']), 'INVALID_ARGUMENT', 'id');
    await expectCode(g.callReducer('create_document', { tenant_id: tenant, title: 'T' }), 'INVALID_ARGUMENT', 'body');
  });

  it('correlates many concurrent calls, failures among them, while updates flow', async () => {
    const c = collector(g);
    const n = 60;
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? g.callReducer('create_document', [tenant, '', `bad ${i}`]) : g.callReducer('create_document', [tenant, `doc ${i}`, `body ${i}`]),
      ),
    );
    results.forEach((r, i) => {
      if (i % 3 === 0) {
        expect(r.status).toBe('rejected');
        expect(r.reason.code).toBe('REDUCER_FAILED');
      } else {
        expect(r.status).toBe('fulfilled');
        expect(r.value.status).toBe('committed');
      }
    });
    const requestIds = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.requestId);
    expect(new Set(requestIds).size).toBe(requestIds.length);
    await c.until((all) => all.filter((ch) => ch.op === 'insert' && ch.row.title?.startsWith('doc ')).length === n - n / 3);
    c.stop();
  });

  it('sees the writes of another gateway (two connections observe each other)', async () => {
    const bob = await newIdentity();
    await httpCall('set_member', [tenant, { __identity__: `0x${bob.identity}` }, { Member: [] }], alice.token);
    const other = await Gateway.connect({ uri: url, database: db, token: bob.token, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });
    try {
      const seenByAlice = collector(g);
      const seenByBob = collector(other);
      await other.callReducer('create_document', [tenant, 'From Bob', 'hi']);
      await g.callReducer('create_document', [tenant, 'From Alice', 'hi']);
      await seenByAlice.until((all) => all.some((ch) => ch.row.title === 'From Bob'));
      await seenByBob.until((all) => all.some((ch) => ch.row.title === 'From Alice'));
      const fromBob = seenByAlice.batches.find((b) => b.changes.some((ch) => ch.row.title === 'From Bob'));
      expect(fromBob.meta.callerIdentity).toBe(bob.identity);
      expect(other.rows('document').map((d) => d.title)).toContain('From Alice');
      seenByAlice.stop();
      seenByBob.stop();
    } finally {
      await other.close();
    }
  });

  it('rejects bad SQL, unknown tables and unsubscribed tables clearly', async () => {
    await expectCode(g.subscribe(['SELEC * FROM document']), 'SUBSCRIPTION_FAILED');
    await expectCode(g.subscribe(['SELECT * FROM no_such_table']), 'SUBSCRIPTION_FAILED', 'no_such_table');
    await expectCode(g.subscribe([]), 'INVALID_ARGUMENT');
    expect(() => g.rows('no_such_table')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('no_such_table') }));
    expect(() => g.rows('audit_event')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not subscribed') }));
    expect(() => g.rows('document', { nope: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('nope') }));
    // The projection is intact after all that.
    expect(g.rows('document', { tenant_id: tenant }).length).toBeGreaterThan(0);
  });
});

describe('values', () => {
  it('round-trips every column type of all_types through callReducer, rows and onChange', async () => {
    const g = await Gateway.connect({ uri: url, database: db, subscriptions: ['SELECT * FROM all_types'] });
    const c = collector(g);
    const id = Math.floor(Math.random() * 2 ** 31);
    const row = allTypesRow(id, 'values');
    await g.callReducer('insert_all_types', [row]);
    expect(g.rows('all_types', { id })).toEqual([row]);
    await c.until((all) => all.some((ch) => ch.row.id === id));
    expect(c.all().find((ch) => ch.row.id === id).row).toEqual(row);

    // JS-native inputs: bigint, Uint8Array, Date.
    await g.callReducer('set_scalars', [id, 5n, -(2n ** 100n), row.a_identity, new Date('2020-01-01T00:00:00.123Z'), 'some', new Uint8Array([1, 2, 254]), 'Green', { tag: 'Circle', value: 9 }]);
    const [updated] = g.rows('all_types', { id });
    expect(updated).toMatchObject({
      a_u64: '5',
      a_i128: (-(2n ** 100n)).toString(),
      a_timestamp: '2020-01-01T00:00:00.123000Z',
      maybe_string: 'some',
      bytes: '0102fe',
      color: 'Green',
      shape: { tag: 'Circle', value: 9 },
    });
    // The server agrees (read back over SQL, independent of our decoder).
    const [viaSql] = await sql(`SELECT * FROM all_types WHERE id = ${id}`);
    expect(viaSql.bytes).toBe('0102fe');
    c.stop();
    await g.close();
  });
});

describe('close', () => {
  it('rejects pending and later calls with CLOSED', async () => {
    const g = await Gateway.connect({ uri: url, database: db });
    const tenant = uniqueId('t');
    const pending = g.callReducer('create_tenant', [tenant, 'x']).then(
      () => null,
      (e) => e,
    );
    await g.close();
    const err = await pending;
    // The call either committed before close won, or was cut off; it never hangs or resolves wrongly.
    if (err) expect(err.code).toBe('CLOSED');
    await expectCode(g.callReducer('create_tenant', [uniqueId('t'), 'x']), 'CLOSED');
    await expectCode(g.subscribe(['SELECT * FROM tenant']), 'CLOSED');
    expect(() => g.onChange(() => {})).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await g.close(); // idempotent
  });

  it('lets the Node process exit by itself after close', async () => {
    const { execFile } = await import('node:child_process');
    const script = `
      const { Gateway } = require(${JSON.stringify(new URL('../lib/index.js', import.meta.url).pathname)});
      (async () => {
        const g = await Gateway.connect({ uri: ${JSON.stringify(url)}, database: ${JSON.stringify(db)}, subscriptions: ['SELECT * FROM tenant'] });
        g.onChange(() => {});
        await g.close();
        console.log('closed');
      })();`;
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { timeout: 15000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout))),
    );
    // execFile kills a process that is still alive after 15 s and rejects: a hanging handle fails here.
    expect(out.trim()).toBe('closed');
  });
});
