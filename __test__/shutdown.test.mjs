// Shutdown with open SSE streams: the streams end first, each telling its client to reconnect soon, so a
// server's graceful shutdown is not held up by them; then calls drain.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { connectSse, label } from './helpers/sse.mjs';
import { serverEnv, uniqueId } from './helpers/spacetimedb.mjs';

const { url, db } = serverEnv();
const FIXTURE = new URL('./fixtures/shutdown-server.mjs', import.meta.url).pathname;

describe('gateway.close', () => {
  it('ends open streams before it drains calls, with retry: and closed/shutdown', async () => {
    const tenant = uniqueId('close');
    const g = await Gateway.connect({ uri: url, database: db, subscriptions: [`SELECT * FROM document WHERE tenant_id = '${tenant}'`] });
    const stream = g.stream({ tenantId: tenant, tables: ['document'] });
    const chunks = [];
    const read = (async () => {
      for await (const chunk of stream) chunks.push(Buffer.from(chunk).toString());
    })();
    const call = g.callReducer('record_once', [uniqueId('in-flight')]);
    const closing = g.close({ retryMs: 300 });
    expect(stream.ended).toBe(true); // synchronously, before the drain of `call` is awaited
    await Promise.all([closing, read, call]);
    const text = chunks.join('');
    expect(text).toMatch(/retry: 300\n\nevent: closed\ndata: \{"event":"closed","id":null,[^\n]*"payload":\{"reason":"shutdown"\}\}\n\n$/);
  });

  it('refuses a bad retryMs with INVALID_ARGUMENT', async () => {
    const g = await Gateway.connect({ uri: url, database: db });
    await expect(g.close({ retryMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('retryMs') });
    await g.close();
  });
});

describe('SIGTERM with an open stream', () => {
  it("ends the stream, so the server's graceful shutdown finishes and the process exits by itself", async () => {
    const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, SPACETIMEDB_URL: url, SPACETIMEDB_DB: db }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const output = [];
    const ready = new Promise((resolve) => lines.on('line', (line) => (output.push(line), line.startsWith('{') && resolve(JSON.parse(line)))));
    const exited = once(child, 'exit');
    try {
      const { url: appUrl } = await ready;
      const client = await connectSse(appUrl).opened;
      await client.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
      child.kill('SIGTERM');
      await client.until((_, c) => c.ended, 10_000, 'the stream to end');
      expect(client.frames.slice(-2).map(label)).toEqual(['retry', 'closed/shutdown']);
      expect(client.frames.at(-2).retry).toBe(250);
      const [code] = await exited;
      expect({ code, output: output.slice(1) }).toEqual({ code: 0, output: ['server closed'] });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
