// spacetime-gateway inside TanStack Start, as a user's app has it (__test__/fixtures/tanstack-start: the
// pinned set from ecosystem.md, the package installed from the packed tarball, `spacetimeGateway()` in
// vite.config.ts): `vite build`, the `.output` moved elsewhere and served, `vite dev`, a GatewayError
// through a server function into a real browser, and SIGTERM with an open SSE stream.
// TanStack Start needs Node >= 22.12: `npm test` runs this file in its Node 24 pass.

import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../tools/spacetimedb-dev/instance.mjs';
import { Gateway } from '../lib/index.js';
import { connectSse, label } from './helpers/sse.mjs';
import { serverEnv, uniqueId } from './helpers/spacetimedb.mjs';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);
const supported = Number(process.versions.node.split('.')[0]) >= 22;
const { url, db } = serverEnv();

/**
 * The environment of a production build and server: without vitest's NODE_ENV=test (a `vite build` under
 * it emits development JSX, which production React cannot run) and without CI or TEST (srvx then skips
 * its graceful shutdown).
 */
function productionEnv(extra = {}) {
  const { CI, TEST, VITEST, ...rest } = process.env;
  return { ...rest, NODE_ENV: 'production', SPACETIMEDB_URL: url, SPACETIMEDB_DB: db, ...extra };
}
const serverEnvAt = (port) => productionEnv({ HOST: '127.0.0.1', PORT: String(port) });

/** Starts a process in its own group (so everything it starts can be stopped); collects its output. */
function start(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = once(child, 'exit');
  child.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    await child.exited;
  };
  return child;
}

/** Polls `url` until it answers 200; resolves the response. */
async function ready(child, target, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${child.output}`);
    const response = await fetch(target).catch(() => null);
    if (response?.status === 200) return response;
    if (Date.now() > deadline) throw new Error(`${target} did not answer 200 within ${timeoutMs} ms (last: ${response?.status}):\n${child.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let work;
let output;
let tenant;
let seed;

beforeAll(async () => {
  if (!supported) return;
  const tarball = process.env.SPACETIME_GATEWAY_TARBALL;
  if (!tarball) throw new Error('SPACETIME_GATEWAY_TARBALL is not set: run the suite with `npm test` (scripts/test.sh packs the tarball)');
  work = join(ROOT, '.pack', 'fixtures', 'tanstack-start');
  await run('bash', [join(ROOT, 'scripts', 'fixture.sh'), 'tanstack-start', tarball, work], { maxBuffer: 64 << 20 });
  await run(process.execPath, ['node_modules/vite/bin/vite.js', 'build'], { cwd: work, env: productionEnv(), maxBuffer: 64 << 20 });
  // Moved elsewhere: the output must not depend on the project's node_modules.
  output = mkdtempSync(join(tmpdir(), 'stg-tanstack-output-'));
  cpSync(join(work, '.output'), output, { recursive: true });
  rmSync(join(work, '.output'), { recursive: true, force: true });

  tenant = uniqueId('tss');
  seed = await Gateway.connect({ uri: url, database: db });
  await seed.callReducer('create_tenant', [tenant, 'TanStack fixture']);
  await seed.callReducer('create_document', [tenant, 'rendered by the fixture', '']);
}, 600_000);
afterAll(async () => {
  await seed?.close();
  if (output) rmSync(output, { recursive: true, force: true });
});

describe.skipIf(!supported)('vite build, .output moved elsewhere', () => {
  let server;
  let base;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = start(process.execPath, [join(output, 'server', 'index.mjs')], { cwd: output, env: serverEnvAt(port) });
    await ready(server, `${base}/api/rows?tenant=${tenant}`, 30_000);
  }, 60_000);
  afterAll(() => server?.stop());

  it('carries the package, native addon included, in .output/server/node_modules', () => {
    const pkg = join(output, 'server', 'node_modules', 'spacetime-gateway');
    expect(existsSync(join(pkg, 'spacetime-gateway.linux-x64-gnu.node'))).toBe(true);
    expect(createRequire(import.meta.url)(join(pkg, 'index.js')).nativeProfile()).toBe('release');
  });

  it('answers a server route with rows from the Gateway', async () => {
    const response = await fetch(`${base}/api/rows?tenant=${tenant}`);
    expect(response.status).toBe(200);
    const { rows } = await response.json();
    expect(rows.map((r) => r.title)).toEqual(['rendered by the fixture']);
    expect((await fetch(`${base}/api/rows`)).status).toBe(400);
  });

  it('hands a GatewayError thrown in a server function to the browser with its code', async () => {
    const { chromium } = createRequire(`${process.env.PLAYWRIGHT_CORE}/`)('playwright-core');
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const loaded = await page.goto(`${base}/`, { waitUntil: 'networkidle' });
      expect(loaded.status()).toBe(200);
      const result = page.getByTestId('result');
      // A click before hydration does nothing: click until the call has answered.
      for (let i = 0; i < 20 && (await result.textContent()) === ''; i++) {
        await page.getByTestId('call').click();
        await page.waitForTimeout(250);
      }
      await page.waitForFunction(() => document.querySelector('[data-testid=result]').textContent !== '', null, { timeout: 10_000 });
      expect(await result.textContent()).toBe('GatewayError|REDUCER_FAILED|true');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('on SIGTERM ends the open SSE stream with closed/shutdown, and the graceful shutdown completes', async () => {
    const client = await connectSse(`${base}/api/events?tenant=${tenant}`).opened;
    await client.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
    expect(client.frames.filter((f) => f.data?.event === 'snapshot' && f.data.payload.phase === 'rows').flatMap((f) => f.data.payload.rows.map((r) => r.title))).toEqual(['rendered by the fixture']);
    process.kill(server.pid, 'SIGTERM');
    await client.until((_, c) => c.ended, 10_000, 'the stream to end');
    expect(client.frames.slice(-2).map(label)).toEqual(['retry', 'closed/shutdown']);
    const [code] = await server.exited;
    expect(code).toBe(0);
    expect(server.output).toContain('Server closed successfully');
    expect(server.output).not.toContain('timed out');
  }, 30_000);
});

describe.skipIf(!supported)('vite dev', () => {
  it('serves the page and a server route', async () => {
    const port = await freePort();
    const dev = start(process.execPath, ['node_modules/vite/bin/vite.js', 'dev', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: work, env: { ...serverEnvAt(port), NODE_ENV: 'development' } });
    try {
      const rows = await ready(dev, `http://127.0.0.1:${port}/api/rows?tenant=${tenant}`, 90_000);
      expect((await rows.json()).rows.map((r) => r.title)).toEqual(['rendered by the fixture']);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('data-testid="call"');
      expect(dev.output).not.toMatch(/UNLOADABLE_DEPENDENCY|did not contain valid UTF-8/);
    } finally {
      await dev.stop();
    }
  }, 120_000);
});
