// The websocket protocols offered at connect (#18, docs/protocol-2x.md) against the real SpacetimeDB 1.3.0:
// it speaks only v1, picks from its own list whatever the offer, and accepts the `confirmed=true` connect
// parameter every connect sends; it serves the module definition only as V9.

import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Gateway } from '../lib/index.js';
import { newIdentity, serverEnv, uniqueId } from './helpers/spacetimedb.mjs';
import { expectCode } from './helpers/values.mjs';

const { url, db } = serverEnv();

describe('protocols', () => {
  let alice;
  let tenant;

  beforeAll(async () => {
    alice = await newIdentity();
    tenant = uniqueId('t');
  });

  it('offers v1 by default and reports it', async () => {
    const g = await Gateway.connect({ uri: url, database: db });
    expect(g.protocol).toBe('v1');
    await g.close();
    expect(g.protocol).toBeNull();
  });

  it('offering v3, v2, v1 to 1.3.0 connects with v1 (the server picks from its own list) and works', async () => {
    const g = await Gateway.connect({ uri: url, database: db, token: alice.token, protocols: ['v3', 'v2', 'v1'] });
    try {
      expect(g.protocol).toBe('v1');
      expect(g.state.status).toBe('live');
      await g.callReducer('create_tenant', [tenant, 'Protocol tests']);
      await g.subscribe([`SELECT * FROM document WHERE tenant_id = '${tenant}'`]);
      const created = await g.callReducer('create_document', [tenant, 'Over v1', 'x']);
      expect(created).toMatchObject({ status: 'committed', via: 'service' });
      // Read-your-writes on the negotiated v1 link.
      expect(g.rows('document', { tenant_id: tenant })).toEqual([expect.objectContaining({ title: 'Over v1', owner: alice.identity })]);
      // A reconnect negotiates again, with the same offer.
      g.dropConnection('protocols test');
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no reconnect')), 10_000);
        const stop = g.onState((s) => {
          if (s.status === 'live') {
            clearTimeout(timer);
            stop();
            resolve();
          }
        });
      });
      expect(g.protocol).toBe('v1');
    } finally {
      await g.close();
    }
  });

  it('offering only v2/v3 to 1.3.0 fails the connect (no common protocol)', async () => {
    await expectCode(
      Gateway.connect({ uri: url, database: db, protocols: ['v3', 'v2'], reconnect: false, timeoutMs: 5000 }),
      'CONNECT_FAILED',
      'no valid protocol selected',
    );
  });

  it('1.3.0 ignores the confirmed parameter: upgrades with confirmed=true and with a non-boolean both succeed', async () => {
    // What the gateway's own connects rely on (every connect sends `&confirmed=true`): 1.3.0 has no such
    // parameter and does not reject unknown ones. A value 1.4.0+ would refuse is accepted too, which shows
    // the parameter is ignored rather than parsed.
    const upgrade = (query) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/database/${db}/subscribe?compression=None&light=false&${query}`, 'v1.bsatn.spacetimedb');
        ws.on('open', () => {
          resolve({ opened: true, protocol: ws.protocol });
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
        ws.on('error', (e) => resolve({ opened: false, error: String(e) }));
      });
    expect(await upgrade('confirmed=true')).toEqual({ opened: true, protocol: 'v1.bsatn.spacetimedb' });
    expect(await upgrade('confirmed=not-a-bool')).toEqual({ opened: true, protocol: 'v1.bsatn.spacetimedb' });
  });

  it('1.3.0 serves the module definition only as V9: version=10 is HTTP 400, which makes the gateway read version=9', async () => {
    const schemaAt = (version) => fetch(`${url}/v1/database/${db}/schema?version=${version}`);
    const v10 = await schemaAt(10);
    expect(v10.status).toBe(400);
    expect(await v10.text()).toContain('unknown variant `10`');
    const v9 = await schemaAt(9);
    expect(v9.status).toBe(200);
    expect(Object.keys(await v9.json())).toContain('typespace');
    const g = await Gateway.connect({ uri: url, database: db });
    expect(g.schema()).toMatchObject({ version: 9, views: [] });
    expect(g.schema().tables.every((t) => t.event === false)).toBe(true);
    await g.close();
  });

  it('refuses unknown values, an empty list and duplicates with INVALID_ARGUMENT', async () => {
    const connect = (protocols) => Gateway.connect({ uri: url, database: db, protocols });
    await expectCode(connect(['v4']), 'INVALID_ARGUMENT', "options.protocols may contain only 'v1', 'v2' and 'v3'");
    await expectCode(connect(['v1.bsatn.spacetimedb']), 'INVALID_ARGUMENT', 'options.protocols may contain only');
    await expectCode(connect([]), 'INVALID_ARGUMENT', 'options.protocols must list at least one protocol');
    await expectCode(connect(['v1', 'v2', 'v1']), 'INVALID_ARGUMENT', "options.protocols lists 'v1' twice");
    await expectCode(connect('v1'), 'INVALID_ARGUMENT', 'options.protocols must be a non-empty array');
    await expectCode(connect([1]), 'INVALID_ARGUMENT', 'options.protocols may contain only');
  });
});

describe('callProcedure', () => {
  it('is refused with UNSUPPORTED on a v1 connection (procedures need v2/v3), nothing sent', async () => {
    for (const protocols of [undefined, ['v3', 'v2', 'v1']]) {
      const g = await Gateway.connect({ uri: url, database: db, ...(protocols ? { protocols } : {}) });
      try {
        expect(g.protocol).toBe('v1');
        expect(g.schema().procedures).toEqual([]); // a 1.x module has none
        await expectCode(g.callProcedure('anything', [1, 'x']), 'UNSUPPORTED', "procedure 'anything' was not sent: procedures need a v2 or v3 connection");
        await expectCode(g.callProcedure('anything'), 'UNSUPPORTED');
        // The connection is unharmed: reducer calls still work.
        await g.callReducer('create_tenant', [uniqueId('t'), 'After a refused procedure']);
        expect(g.state.status).toBe('live');
      } finally {
        await g.close();
      }
    }
  });

  it('checks its own arguments in JS and refuses a closed gateway with CLOSED', async () => {
    const g = await Gateway.connect({ uri: url, database: db });
    await expectCode(g.callProcedure(''), 'INVALID_ARGUMENT', 'procedure name');
    await expectCode(g.callProcedure('p', 5), 'INVALID_ARGUMENT', 'args must be an array or an object');
    await expectCode(g.callProcedure('p', [], { actor: 'u1' }), 'INVALID_ARGUMENT', 'callProcedure takes only opts.timeoutMs');
    await g.close();
    await expectCode(g.callProcedure('p', []), 'CLOSED', "procedure 'p' was not sent");
  });
});
