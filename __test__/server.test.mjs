// The foundation: a real SpacetimeDB 1.3.0 server, started by scripts/spacetimedb.sh, with the reference
// module published. These tests talk to it over its own HTTP API only (no gateway code), proving the
// server side is real and repeatable.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { httpCall, newIdentity, serverEnv, sql, sqlText, uniqueId } from './helpers/spacetimedb.mjs';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

describe('the local SpacetimeDB server', () => {
  it('has the reference module published under SPACETIMEDB_DB, owned by SPACETIMEDB_OWNER_IDENTITY', async () => {
    const { url, db, ownerIdentity } = serverEnv();
    const info = await fetch(`${url}/v1/database/${db}`).then((r) => r.json());
    expect(info.owner_identity.__identity__.replace(/^0x/, '').padStart(64, '0')).toBe(ownerIdentity);

    const schema = await fetch(`${url}/v1/database/${db}/schema?version=9`).then((r) => r.json());
    const tables = schema.tables.map((t) => t.name).sort();
    expect(tables).toEqual(['actor_identity_map', 'all_types', 'audit_event', 'config', 'document', 'membership', 'once_marker', 'stream_revocation', 'tenant', 'trusted_gateway']);
    const reducers = schema.reducers.map((r) => r.name);
    for (const name of ['create_tenant', 'set_member', 'create_document', 'update_document', 'delete_document', 'insert_all_types', 'set_scalars', 'create_document_as', 'trust_gateway', 'distrust_gateway', 'map_actor', 'record_once', 'revoke_streams']) {
      expect(reducers).toContain(name);
    }
  });

  it('runs a reducer call that SQL over HTTP then observes, with the audit trail', async () => {
    const alice = await newIdentity();
    const tenant = uniqueId('t');
    expect(await httpCall('create_tenant', [tenant, 'Acme'], alice.token)).toEqual({ status: 200, text: '' });
    expect(await httpCall('create_document', [tenant, 'Hello', 'First body'], alice.token)).toMatchObject({ status: 200 });

    const docs = await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ tenant_id: tenant, title: 'Hello', body: 'First body', version: 1 });
    expect(docs[0].owner[0].replace(/^0x/, '').padStart(64, '0')).toBe(alice.identity);

    const id = docs[0].id;
    expect(await httpCall('update_document', [id, 'Hello again', 'Second body'], alice.token)).toMatchObject({ status: 200 });
    const [updated] = await sql(`SELECT * FROM document WHERE id = ${id}`);
    expect(updated).toMatchObject({ title: 'Hello again', version: 2 });

    const audit = await sql(`SELECT * FROM audit_event WHERE tenant_id = '${tenant}'`);
    expect(audit.map((a) => a.action).sort()).toEqual(['document.create', 'document.update', 'tenant.create']);
  });

  it('enforces the module checks and returns their messages (HTTP 530)', async () => {
    const [alice, mallory] = [await newIdentity(), await newIdentity()];
    const tenant = uniqueId('t');
    await httpCall('create_tenant', [tenant, 'Acme'], alice.token);

    const empty = await httpCall('create_document', [tenant, '   ', 'x'], alice.token);
    expect(empty.status).toBe(530);
    expect(empty.text).toContain('title must not be empty');

    const outsider = await httpCall('create_document', [tenant, 'Sneaky', 'x'], mallory.token);
    expect(outsider.status).toBe(530);
    expect(outsider.text).toContain(`not a member of tenant ${tenant}`);

    await httpCall('create_document', [tenant, 'Mine', 'x'], alice.token);
    const [doc] = await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`);
    // A member who does not own the document and is not an admin may not change it.
    await httpCall('set_member', [tenant, { __identity__: `0x${mallory.identity}` }, { Member: [] }], alice.token);
    const foreign = await httpCall('update_document', [doc.id, 'Taken', 'x'], mallory.token);
    expect(foreign.status).toBe(530);
    expect(foreign.text).toContain('belongs to another member');
    expect(await sql(`SELECT * FROM document WHERE id = ${doc.id}`)).toMatchObject([{ title: 'Mine', version: 1 }]);
  });

  it('stores values of the all_types columns exactly, including 64- and 128-bit extremes', async () => {
    const id = Math.floor(Math.random() * 1e9);
    // JSON numbers beyond 2^53 are written as raw text: SpacetimeDB parses them exactly.
    const body = `[${id}, 18446744073709551615, -170141183460469231731687303715884105728, {"__identity__":"0x01"},
      {"__timestamp_micros_since_unix_epoch__":1700000000123456}, {"some":"maybe"}, "00ff10", {"Green":[]}, {"Circle":2.5}]`;
    expect(await httpCall('set_scalars', body)).toEqual({ status: 200, text: '' });
    const raw = await sqlText(`SELECT * FROM all_types WHERE id = ${id}`);
    expect(raw).toContain('18446744073709551615');
    expect(raw).toContain('-170141183460469231731687303715884105728');
    const [row] = await sql(`SELECT * FROM all_types WHERE id = ${id}`);
    expect(row.a_timestamp).toEqual([1700000000123456]);
    expect(row.bytes).toBe('00ff10');
    expect(row.color).toEqual([1, []]); // Green: variant 1, no payload
    expect(row.shape).toEqual([0, 2.5]); // Circle(2.5)
    expect(row.maybe_string).toEqual([0, 'maybe']); // some
    expect(row.a_identity).toEqual(['0x1']);
  });
});

describe('scripts/spacetimedb.sh', () => {
  it('gives two independent servers for two `up`s, and `down` leaves no process behind', async () => {
    const script = join(ROOT, 'scripts/spacetimedb.sh');
    const env = { ...process.env, SPACETIMEDB_URL: '', SPACETIMEDB_DB: '' };
    const parse = (out) => Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const a = parse((await run('bash', [script, 'up', '--env-out', 'none'], { env })).stdout);
    const b = parse((await run('bash', [script, 'up', '--env-out', 'none'], { env })).stdout);
    try {
      expect(a.SPACETIMEDB_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(b.SPACETIMEDB_URL).not.toBe(a.SPACETIMEDB_URL);
      expect(a.SPACETIMEDB_INSTANCE).not.toBe(b.SPACETIMEDB_INSTANCE);
      for (const s of [a, b]) {
        expect((await fetch(`${s.SPACETIMEDB_URL}/v1/ping`)).ok).toBe(true);
        const schema = await fetch(`${s.SPACETIMEDB_URL}/v1/database/${s.SPACETIMEDB_DB}/schema?version=9`);
        expect(schema.ok).toBe(true);
      }
      // A write on one server is not visible on the other.
      const owner = await fetch(`${a.SPACETIMEDB_URL}/v1/identity`, { method: 'POST' }).then((r) => r.json());
      const call = await fetch(`${a.SPACETIMEDB_URL}/v1/database/${a.SPACETIMEDB_DB}/call/create_tenant`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${owner.token}` },
        body: JSON.stringify(['only-on-a', 'A']),
      });
      expect(call.status).toBe(200);
      const onB = await fetch(`${b.SPACETIMEDB_URL}/v1/database/${b.SPACETIMEDB_DB}/sql`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${b.SPACETIMEDB_OWNER_TOKEN}` },
        body: "SELECT * FROM tenant WHERE id = 'only-on-a'",
      }).then((r) => r.json());
      expect(onB[0].rows).toEqual([]);
    } finally {
      await run('bash', [script, 'down', a.SPACETIMEDB_INSTANCE]);
      await run('bash', [script, 'down', b.SPACETIMEDB_INSTANCE]);
    }
    for (const s of [a, b]) {
      expect(existsSync(`/proc/${s.SPACETIMEDB_PID}`)).toBe(false);
      expect(existsSync(s.SPACETIMEDB_INSTANCE)).toBe(false);
      await expect(fetch(`${s.SPACETIMEDB_URL}/v1/ping`)).rejects.toThrow();
    }
  });

  it('fails with a clear message and a non-zero exit when the port is busy', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
    const port = blocker.address().port;
    try {
      const env = { ...process.env, SPACETIMEDB_URL: '', SPACETIMEDB_DB: '' };
      const err = await run('bash', [join(ROOT, 'scripts/spacetimedb.sh'), 'up', '--env-out', 'none', '--port', String(port)], { env }).then(
        () => null,
        (e) => e,
      );
      expect(err).not.toBeNull();
      expect(err.code).not.toBe(0);
      expect(err.stderr).toContain(`port ${port} on 127.0.0.1 is busy`);
    } finally {
      blocker.close();
    }
  });

  it('only publishes when SPACETIMEDB_URL points at a running server', async () => {
    const { url } = serverEnv();
    const env = { ...process.env, SPACETIMEDB_URL: url, SPACETIMEDB_DB: '' };
    const out = (await run('bash', [join(ROOT, 'scripts/spacetimedb.sh'), 'up', '--env-out', 'none'], { env })).stdout;
    const s = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    try {
      expect(s.SPACETIMEDB_URL).toBe(url);
      expect(s.SPACETIMEDB_PID).toBeUndefined();
      expect(s.SPACETIMEDB_DB).not.toBe(serverEnv().db);
      expect((await fetch(`${url}/v1/database/${s.SPACETIMEDB_DB}/schema?version=9`)).ok).toBe(true);
    } finally {
      await run('bash', [join(ROOT, 'scripts/spacetimedb.sh'), 'down', s.SPACETIMEDB_INSTANCE]);
    }
    // `down` of an external instance deletes the database it published, and leaves the server running.
    expect((await fetch(`${url}/v1/ping`)).ok).toBe(true);
    expect((await fetch(`${url}/v1/database/${s.SPACETIMEDB_DB}/schema?version=9`)).ok).toBe(false);
  });

  it('rejects an unreachable SPACETIMEDB_URL with a clear message', async () => {
    const env = { ...process.env, SPACETIMEDB_URL: 'http://127.0.0.1:9', SPACETIMEDB_DB: '' };
    const err = await run('bash', [join(ROOT, 'scripts/spacetimedb.sh'), 'up', '--env-out', 'none'], { env }).then(() => null, (e) => e);
    expect(err?.code).toBe(1);
    expect(err.stderr).toContain('does not answer /v1/ping');
  });
});
