// Self-check of the SDK baseline against a running SpacetimeDB with the reference module:
//   bash scripts/spacetimedb.sh up && set -a && source .spacetimedb/env && set +a
//   bash bench/baselines/install.sh && node bench/baselines/check.mjs
// (or: scripts/with-spacetimedb.sh --release -- node bench/baselines/check.mjs)
//
// Add `--import ./bench/baselines/native-text-decoder.mjs` (before the script) for the variant of the SDK
// with Node's TextDecoder.
//
// Starts the SDK gateway, opens SSE clients for three tenants (two clients on one), writes documents to
// two tenants through the SDK bindings, and asserts every client got exactly its tenant's frames, with the
// envelope and row format of spacetime-gateway (checked against the server's own SQL answer, to the
// microsecond). Then times a small initial subscription with sdk-decode.mjs. Exits 1 on any failure.
import assert from 'node:assert/strict';
import http from 'node:http';

import { Identity, Timestamp } from '@clockworklabs/spacetimedb-sdk';

import { connectSdk, disconnectSdk, sdkTextDecoder } from './connect.mjs';
import { sdkInitialSubscription } from './sdk-decode.mjs';
import { identityToHex, startSdkGateway, timestampToRfc3339 } from './sdk-gateway.mjs';

const { SPACETIMEDB_URL: uri, SPACETIMEDB_DB: database } = process.env;
if (!uri || !database) {
  console.error('set SPACETIMEDB_URL and SPACETIMEDB_DB (bash scripts/spacetimedb.sh up; set -a; source .spacetimedb/env)');
  process.exit(2);
}
const DECODE_ROWS = Number(process.env.DECODE_ROWS ?? 1000);
const DECODE_BODY = Number(process.env.DECODE_BODY ?? 100);
const DECODE_REPEATS = Number(process.env.DECODE_REPEATS ?? 5);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const step = (text) => console.log(`ok  ${text}`);

/** An SSE client: keeps the raw text and the parsed frames (comments and `retry:` are not frames). */
function openSse(url) {
  return new Promise((resolve, reject) => {
    const client = { raw: '', frames: [], ended: false, status: 0, req: null };
    let rest = '';
    client.req = http.get(url, (res) => {
      client.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (text) => {
        client.raw += text;
        const blocks = (rest + text).split('\n\n');
        rest = blocks.pop();
        for (const block of blocks) {
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '));
          const data = lines.find((l) => l.startsWith('data: '));
          if (event || data) client.frames.push({ block, event: event?.slice(7), data: data?.slice(6), json: data ? JSON.parse(data.slice(6)) : undefined });
        }
      });
      res.on('end', () => (client.ended = true));
      res.on('error', () => (client.ended = true));
      resolve(client);
    });
    client.req.on('error', reject);
  });
}

async function waitFor(what, predicate, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Calls reducers through the bindings and resolves when the server reports the outcome. */
function reducerCaller(conn) {
  const names = ['CreateTenant', 'CreateDocument', 'UpdateDocument', 'DeleteDocument', 'SeedDocuments'];
  const queues = new Map(names.map((n) => [n, []]));
  for (const name of names) {
    // One connection's calls are answered in order, so a FIFO per reducer matches answers to calls.
    conn.reducers[`on${name}`]((ctx) => {
      if (!ctx.event.callerConnectionId?.isEqual(conn.connectionId)) return;
      const waiter = queues.get(name).shift();
      const status = ctx.event.status;
      if (status.tag === 'Committed') waiter?.resolve();
      else waiter?.reject(new Error(`${name} failed: ${status.tag === 'Failed' ? status.value : status.tag}`));
    });
  }
  return (name, ...args) =>
    new Promise((resolve, reject) => {
      queues.get(name).push({ resolve, reject });
      conn.reducers[name[0].toLowerCase() + name.slice(1)](...args);
    });
}

async function sqlUpdatedAtMicros(token, id) {
  const res = await fetch(`${uri}/v1/database/${database}/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: `SELECT * FROM document WHERE id = ${id}`,
  });
  const text = await res.text();
  // rows: [[id, tenant, title, body, [owner], [micros], version]]; read the digits from the text, so no
  // JSON number rounding can hide a precision bug.
  const m = /"rows":\[\[\d+,.*,\["0x[0-9a-f]{64}"\],\[(-?\d+)\],\d+\]\]/.exec(text);
  assert.ok(m, `unexpected SQL answer: ${text.slice(0, 300)}`);
  return BigInt(m[1]);
}

const RFC3339_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Asserts the envelope and the row format of one frame; returns the frame's JSON. */
function checkFrame(frame, { op, tenant, title, body, owner, version, oldVersion }) {
  const event = `document.${op}`;
  assert.equal(frame.event, event);
  assert.equal(frame.block, `event: ${event}\ndata: ${frame.data}`, 'a frame is exactly an event line and one data line');
  const j = frame.json;
  assert.deepEqual(Object.keys(j), ['event', 'id', 'tenant_id', 'schema_version', 'payload']);
  assert.equal(j.event, event);
  assert.equal(j.id, null);
  assert.equal(j.tenant_id, tenant);
  assert.equal(j.schema_version, 1);
  assert.deepEqual(Object.keys(j.payload), op === 'update' ? ['row', 'oldRow'] : ['row']);
  for (const [row, v] of [[j.payload.row, version], ...(op === 'update' ? [[j.payload.oldRow, oldVersion]] : [])]) {
    assert.deepEqual(Object.keys(row), ['id', 'tenant_id', 'title', 'body', 'owner', 'updated_at', 'version']);
    assert.match(row.id, /^[1-9]\d*$/, 'u64 as a decimal string');
    assert.equal(row.tenant_id, tenant);
    assert.equal(row.owner, owner, 'Identity as 64 lowercase hex digits');
    assert.match(row.updated_at, RFC3339_MICROS);
    assert.equal(row.version, v);
  }
  if (title !== undefined) assert.equal(j.payload.row.title, title);
  if (body !== undefined) assert.equal(j.payload.row.body, body);
  return j;
}

/** Microseconds since the epoch from `2023-11-14T22:13:20.123456Z`, as the latency probe reads it. */
const parseMicros = (text) => BigInt(Date.parse(text.slice(0, 23) + 'Z')) * 1000n + BigInt(text.slice(23, 26));

/** The value conversions on their own (no server needed). */
function checkConversions() {
  for (const hex of ['c2009f3bdfa98ef153cd51456b4f195ee6004ee89f3271969353726ef09aeada', '0'.repeat(63) + '5', 'f'.repeat(64), '0'.repeat(64)]) {
    const id = Identity.fromString(hex);
    assert.equal(identityToHex(id), hex);
    assert.equal(identityToHex(id), id.toHexString(), 'same text as the SDK');
  }
  const ts = (micros) => timestampToRfc3339(new Timestamp(micros));
  assert.equal(ts(1700000000123456n), '2023-11-14T22:13:20.123456Z');
  assert.equal(ts(1700000000000001n), '2023-11-14T22:13:20.000001Z');
  assert.equal(ts(1700000000100000n), '2023-11-14T22:13:20.100000Z');
  assert.equal(ts(0n), '1970-01-01T00:00:00.000000Z');
  assert.equal(ts(-1n), '1969-12-31T23:59:59.999999Z');
  assert.equal(ts(-1001n), '1969-12-31T23:59:59.998999Z');
  assert.equal(ts(253402300800000000n), '+010000-01-01T00:00:00.000000Z');
  // Beyond 2^53 µs a JS number would round; the bigint path must not.
  assert.equal(ts(9007199254740993n), '2255-06-05T23:47:34.740993Z');
  step('conversions: Identity hex = SDK toHexString(); timestamps with 6 digits (padding, before 1970, past 9999, past 2^53 µs)');
}

let gateway;
let writer;
try {
  console.log(`SDK TextDecoder: ${sdkTextDecoder()}`);
  checkConversions();
  const { identity, token } = await fetch(`${uri}/v1/identity`, { method: 'POST' }).then((r) => r.json());
  const run = `check-${Date.now().toString(36)}`;
  const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((s) => `${run}-${s}`);

  writer = await connectSdk({ uri, database, token });
  const call = reducerCaller(writer.conn);
  for (const t of [A, B, D]) await call('CreateTenant', t, `tenant ${t}`);
  step(`tenants ${A}, ${B}, ${D} created through the bindings (identity ${identity.slice(0, 12)}…)`);

  const startedAt = performance.now();
  gateway = await startSdkGateway({ uri, database, token });
  const startMs = performance.now() - startedAt;
  const clientA = await openSse(`${gateway.url}/sse?t=${encodeURIComponent(A)}`);
  const clientA2 = await openSse(`${gateway.url}/sse?t=${encodeURIComponent(A)}`);
  const clientB = await openSse(`${gateway.url}/sse?t=${encodeURIComponent(B)}`);
  const clientC = await openSse(`${gateway.url}/sse?t=${encodeURIComponent(C)}`);
  const all = [clientA, clientA2, clientB, clientC];
  await waitFor('4 SSE clients', () => gateway.stats().clients === 4);
  for (const c of all) {
    assert.equal(c.status, 200);
    await waitFor('the retry line', () => c.raw.length > 0);
    assert.ok(c.raw.startsWith('retry: 2000\n\n'), `a stream starts with the retry line, got ${JSON.stringify(c.raw.slice(0, 40))}`);
  }
  const missing = await fetch(`${gateway.url}/sse`);
  assert.equal(missing.status, 400);
  step(`gateway up in ${startMs.toFixed(0)} ms (connect + SELECT * FROM document: ${gateway.stats().cachedDocuments} rows cached)`);
  step(`gateway at ${gateway.url}: 4 streams open (2 on ${A}, 1 on ${B}, 1 on the silent ${C}), each starting with "retry: 2000"`);

  // Writes to two tenants, interleaved. Strings with quotes, a line break and non-ASCII test the JSON.
  const a1Body = 'body "a1"\nsecond line, ünïcødé ✓';
  await call('CreateDocument', A, 'a1', a1Body);
  await call('CreateDocument', B, 'b1', 'body b1');
  await call('CreateDocument', A, 'a2', 'body a2');
  await waitFor('2 inserts on A', () => clientA.frames.length >= 2);
  const a1 = BigInt(clientA.frames[0].json.payload.row.id);
  const a2 = BigInt(clientA.frames[1].json.payload.row.id);
  await call('UpdateDocument', a1, 'a1 v2', 'body a1 v2');
  await call('DeleteDocument', a2);
  await call('SeedDocuments', B, 3, 16);

  await waitFor('all frames', () => clientA.frames.length >= 4 && clientA2.frames.length >= 4 && clientB.frames.length >= 4);
  await sleep(300); // anything extra (e.g. another tenant's frame) would arrive by now
  assert.equal(clientA.frames.length, 4, `A: ${clientA.frames.map((f) => f.event)}`);
  assert.equal(clientA2.frames.length, 4);
  assert.equal(clientB.frames.length, 4, `B: ${clientB.frames.map((f) => f.event)}`);
  assert.equal(clientC.frames.length, 0, 'the silent tenant got nothing');
  assert.equal(clientA2.raw, clientA.raw, 'both clients of A got the same bytes');

  const [ins1, ins2, upd, del] = clientA.frames;
  const i1 = checkFrame(ins1, { op: 'insert', tenant: A, title: 'a1', body: a1Body, owner: identity, version: 1 });
  checkFrame(ins2, { op: 'insert', tenant: A, title: 'a2', body: 'body a2', owner: identity, version: 1 });
  const u = checkFrame(upd, { op: 'update', tenant: A, title: 'a1 v2', body: 'body a1 v2', owner: identity, version: 2, oldVersion: 1 });
  const d = checkFrame(del, { op: 'delete', tenant: A, title: 'a2', body: 'body a2', owner: identity, version: 1 });
  assert.equal(u.payload.row.id, String(a1));
  assert.deepEqual(u.payload.oldRow, i1.payload.row, 'oldRow is the row as inserted');
  assert.equal(d.payload.row.id, String(a2));
  assert.deepEqual(d.payload.row, clientA.frames[1].json.payload.row, 'a delete carries the removed row');
  const [b1, ...seeds] = clientB.frames;
  checkFrame(b1, { op: 'insert', tenant: B, title: 'b1', body: 'body b1', owner: identity, version: 1 });
  seeds.forEach((f, n) => checkFrame(f, { op: 'insert', tenant: B, title: `seed ${n}`, body: 'x'.repeat(16), owner: identity, version: 1 }));
  step(`${A}: insert, insert, update (row + oldRow), delete; ${B}: insert + 3 seeded inserts; ${C}: nothing; envelope and row keys in order`);

  // updated_at to the microsecond: the frame's text against the server's own value.
  const serverMicros = await sqlUpdatedAtMicros(token, a1);
  assert.equal(parseMicros(u.payload.row.updated_at), serverMicros, `${u.payload.row.updated_at} vs ${serverMicros} µs from SQL`);
  assert.ok(parseMicros(u.payload.row.updated_at) > parseMicros(u.payload.oldRow.updated_at));
  const ageMs = Date.now() - Number(serverMicros / 1000n);
  assert.ok(ageMs >= -1000 && ageMs < 60_000, `updated_at is recent (${ageMs} ms ago)`);
  step(`updated_at ${u.payload.row.updated_at} = ${serverMicros} µs, as the server's SQL reports it`);

  const s = gateway.stats();
  assert.equal(s.framesWritten, 12, JSON.stringify(s)); // 4 to each of A, A2, B
  assert.equal(s.eventsEncoded, 8, JSON.stringify(s)); // one per event, shared by A's two clients
  assert.equal(s.slowClientsDropped, 0);
  step(`stats ${JSON.stringify(s)}`);

  clientC.req.destroy();
  await waitFor('the closed client to be dropped', () => gateway.stats().clients === 3);
  step('a client that goes away is removed (clients: 3)');

  // A small initial subscription, timed after connecting.
  await call('SeedDocuments', D, DECODE_ROWS, DECODE_BODY);
  const query = `SELECT * FROM document WHERE tenant_id = '${D}'`;
  const timings = [];
  for (let i = 0; i < DECODE_REPEATS; i++) {
    const r = await sdkInitialSubscription({ uri, database, token, query });
    assert.equal(r.rows, DECODE_ROWS);
    assert.ok(r.appliedMs >= 0 && r.appliedMs <= r.ms);
    timings.push(r);
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
  step(
    `initial subscription of ${DECODE_ROWS} rows (${DECODE_BODY}-byte bodies), ${DECODE_REPEATS} runs, the first cold: ` +
      `${fmt(timings.map((t) => t.ms))} ms until the last onInsert; the server's answer had arrived after ` +
      `${fmt(timings.map((t) => t.receivedMs))} ms; onApplied at ${fmt(timings.map((t) => t.appliedMs))} ms`,
  );

  await gateway.close();
  await waitFor('streams to end', () => clientA.ended && clientA2.ended && clientB.ended, 3000);
  gateway = undefined;
  step('close(): every stream ended, SDK disconnected');
  console.log('PASS');
} catch (e) {
  console.error('FAIL', e);
  process.exitCode = 1;
} finally {
  await gateway?.close().catch(() => {});
  if (writer) await disconnectSdk(writer);
}
// The SDK's undici WebSocket, a keep-alive fetch socket or a stuck client must not hold the process.
setTimeout(() => process.exit(), 200).unref();
