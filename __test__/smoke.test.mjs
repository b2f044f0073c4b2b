// `spacetime-gateway smoke` as a child process against the real SpacetimeDB 1.3.0 and the reference
// module: it passes, fails with exit 1 and a message naming the step on a wrong expectation, exits 2 on
// usage and 3 on an unreachable server, and its `--simulate` paths report zero lost or repeated events.

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBroker, generateKeyPair } from '../lib/index.js';
import { runCli, serveJson, startIssuer, writeKeyFiles } from './helpers/auth.mjs';
import { serverEnv } from './helpers/spacetimedb.mjs';

const { url, db } = serverEnv();
let issuer, keyFile, broker;

/** The arguments of a smoke run that creates its own tenant and checks a document insert. */
const plan = (extra = []) => [
  'smoke', '--url', url, '--database', db,
  '--key', keyFile, '--issuer', issuer.issuer, '--sub', 'smoke-ci',
  '--tenant', 'smoke-{run}', '--table', 'document',
  '--setup', 'create_tenant ["smoke-{run}", "Smoke"]',
  '--call', 'create_document ["smoke-{run}", "{marker}", "body"]',
  ...extra,
];
const report = (r) => JSON.parse(r.stdout);

beforeAll(async () => {
  const key = generateKeyPair({ alg: 'ES256' });
  [keyFile] = writeKeyFiles(key);
  issuer = await startIssuer([key], { path: '/api/auth' });
  broker = new TokenBroker({ issuer: issuer.issuer, audience: 'spacetimedb', keys: key });
});

afterAll(async () => {
  expect(await issuer?.stop()).toBe(0);
});

describe('smoke passes', () => {
  it('with the envelope checked against the expectations, step by step', async () => {
    const r = await runCli(plan(['--expect-event', 'document.insert', '--expect-payload', '{"row":{"title":"{marker}","version":1}}', '--json']));
    expect(r.code, r.stderr).toBe(0);
    const out = report(r);
    expect(out.ok).toBe(true);
    expect(out.steps.map((s) => s.step)).toEqual(['token', 'connect', 'subscribe', 'stream', 'setup create_tenant', 'call create_document', 'event', 'envelopes']);
    expect(out.steps.every((s) => s.ok && s.ms >= 0)).toBe(true);
    expect(out.event).toMatchObject({ event: 'document.insert', tenant_id: `smoke-${out.run}`, schema_version: 1, payload: { row: { title: `smoke-${out.run}-0` } } });
    expect(out.event.id).toMatch(/-\d+$/);
  });

  it('prints a progress line per step, and takes a token from an issuer or app endpoint', async () => {
    const endpoint = await serveJson({ '/token': { token: broker.mint({ sub: 'smoke-ci' }) } });
    try {
      const args = plan(['--progress']).filter((a, i, all) => !['--key', '--issuer', '--sub'].includes(a) && !['--key', '--issuer', '--sub'].includes(all[i - 1]));
      const r = await runCli([...args, '--token-url', `${endpoint.base}/token`, '--token-header', 'x-api-key: smoke']);
      expect(r.code, r.stderr).toBe(0);
      expect(endpoint.hits['/token']).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['token', 'connect', 'subscribe', 'stream', 'setup', 'call', 'event', 'envelopes']);
      expect(lines.every((l) => l.startsWith('✓'))).toBe(true);
      expect(r.stdout).toMatch(/^smoke passed: 8 steps in \d+ ms/);
    } finally {
      await endpoint.close();
    }
  });
});

describe('smoke fails with the exit code that says what failed', () => {
  it('1: a wrong expectation, naming the step and both values', async () => {
    const r = await runCli(plan(['--expect-event', 'document.update', '--expect-schema-version', '2']));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('smoke failed: step event: expected event document.update, got document.insert; expected schema_version 2, got 1');
  });

  it('1: a call the module refuses, with its message', async () => {
    const r = await runCli(plan(['--json']).map((a) => (a.startsWith('create_document') ? 'create_document ["someone-elses-{run}", "{marker}", "b"]' : a)));
    expect(r.code).toBe(1);
    expect(report(r).failure).toMatchObject({ step: 'call create_document', code: 'REDUCER_FAILED' });
    expect(report(r).failure.message).toContain('no such tenant');
  });

  it('1: no event within the deadline, naming what was awaited', async () => {
    const r = await runCli(plan(['--timeout', '1500']).map((a) => (a === 'smoke-{run}' ? 'another-{run}' : a)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step event: no SSE event carrying smoke-[0-9a-f]{8}-0 within \d+ ms/);
  });

  it('2: usage mistakes, before anything is contacted', async () => {
    for (const [args, says] of [
      [plan().filter((a) => a !== '--call' && !a.startsWith('create_document')), '--call is required'],
      [plan(['--simulate', 'meteor']), '--simulate takes expiry or disconnect'],
      [plan(['--bogus']), "Unknown option '--bogus'"],
      [plan(['--token', 'a.b.c']), 'give one token source'],
      [plan(['--all-tenants']), 'either --tenant or --all-tenants'],
      [plan(['--expect-payload', '{nope']), '--expect-payload is not JSON'],
    ]) {
      const r = await runCli(args);
      expect(r.code, `${says}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(says);
    }
    const unknownReducer = await runCli(plan(['--json']).map((a) => (a.startsWith('create_document') ? 'no_such_reducer []' : a)));
    expect(unknownReducer.code).toBe(2);
    expect(report(unknownReducer).failure.message).toContain("no callable reducer named 'no_such_reducer'");
  });

  it('3: an unreachable server or a missing database', async () => {
    const port = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = s.address();
        s.close(() => resolve(free));
      });
    });
    const down = await runCli(plan(['--json']).map((a) => (a === url ? `http://127.0.0.1:${port}` : a)));
    expect(down.code).toBe(3);
    expect(report(down).failure).toMatchObject({ step: 'connect', code: 'CONNECT_FAILED' });
    const missing = await runCli(plan().map((a) => (a === db ? 'no-such-database' : a)));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('step connect:');
  });
});

describe('--simulate', () => {
  it('disconnect: the writes made while the gateway was away arrive once each', async () => {
    const r = await runCli(plan(['--simulate', 'disconnect', '--json']));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const { simulate } = report(r);
    expect(simulate).toMatchObject({ mode: 'disconnect', calls: 6, received: 6, lost: [], repeated: [], resyncs: [] });
    expect(simulate.caughtUp).toBeGreaterThan(0);
  });

  it('expiry: calls across a token refresh arrive once each', async () => {
    const r = await runCli(plan(['--simulate', 'expiry', '--ttl', '4', '--json']));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const { simulate } = report(r);
    expect(simulate).toMatchObject({ mode: 'expiry', lost: [], repeated: [], resyncs: [] });
    expect(simulate.received).toBe(simulate.calls);
    expect(simulate.refreshedAfterCall).toBeGreaterThan(0);
    expect(simulate.calls - simulate.refreshedAfterCall).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('expiry needs a source that can mint again', async () => {
    const args = plan(['--simulate', 'expiry']).filter((a, i, all) => !['--key', '--issuer', '--sub'].includes(a) && !['--key', '--issuer', '--sub'].includes(all[i - 1]));
    const r = await runCli([...args, '--token', broker.mint({ sub: 'smoke-ci' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--simulate expiry needs a source that can mint again');
  });
});
