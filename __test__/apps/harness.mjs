// What the app-agnostic suites (contract.mjs, browser.mjs) need around an example app: starting it with
// scripts/example.sh, reading SpacetimeDB as its owner, a real Chromium, and waiting for conditions.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readEnvFile } from '../../tools/spacetimedb-dev/instance.mjs';
import { TokenBroker } from '../../lib/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The limits the suites rely on (passed to the app as APP_* settings). */
export const LIMITS = { writesPerMinute: 20, keyRequestsPerMinute: 12 };

/**
 * `scripts/example.sh <app> up` with the suites' limits; resolves the printed facts (APP_URL,
 * SPACETIMEDB_URL, SPACETIMEDB_DB, EXAMPLE_INSTANCE, …) and `down()`.
 */
export async function startExample(app) {
  const dir = mkdtempSync(join(tmpdir(), `example-${app}-`));
  const envFile = join(dir, 'env');
  const { CI, TEST, VITEST, NODE_ENV, ...env } = process.env;
  const limits = {
    APP_WRITE_RATE_LIMIT: `${LIMITS.writesPerMinute}/60`,
    APP_API_KEY_RATE_LIMIT: `${LIMITS.keyRequestsPerMinute}/60`,
    APP_AUTH_RATE_LIMIT: '1000/10', // the suites sign many users up from one address
  };
  await run('bash', [join(ROOT, 'scripts', 'example.sh'), app, 'up', '--env-out', envFile], { cwd: ROOT, env: { ...env, ...limits }, maxBuffer: 64 << 20 });
  const facts = readEnvFile(envFile);
  return {
    ...facts,
    issuer: `${facts.APP_URL}/api/spacetime`,
    down: async () => {
      await run('bash', [join(ROOT, 'scripts', 'example.sh'), app, 'down', envFile], { cwd: ROOT });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL on the example's database as its owner; resolves the rows as objects. */
export async function sql(app, query) {
  const response = await fetch(`${app.SPACETIMEDB_URL}/v1/database/${app.SPACETIMEDB_DB}/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${app.SPACETIMEDB_OWNER_TOKEN}` },
    body: query,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`SQL ${query}: HTTP ${response.status} ${text}`);
  const [first] = JSON.parse(text);
  const names = first.schema.elements.map((e) => e.name?.some);
  // Identities come as a one-field product, ["0x…"]: as plain hex, like the gateway writes them.
  const plain = (v) => (Array.isArray(v) && v.length === 1 && /^0x[0-9a-f]{64}$/.test(v[0]) ? v[0].slice(2) : v);
  return first.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i], plain(v)])));
}

/** A token broker with the example's own signing key (for writing as a user past the app). */
export function exampleBroker(app) {
  return new TokenBroker({ issuer: app.issuer, audience: 'spacetimedb', keys: JSON.parse(readFileSync(app.SPACETIME_KEY_FILE, 'utf8')) });
}

/** Calls a reducer over SpacetimeDB's HTTP route with `token`; throws unless it committed. */
export async function callReducer(app, reducer, args, token) {
  const response = await fetch(`${app.SPACETIMEDB_URL}/v1/database/${app.SPACETIMEDB_DB}/call/${reducer}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  if (!response.ok) throw new Error(`${reducer}: HTTP ${response.status} ${await response.text()}`);
}

/** Resolves `read()`'s value once `ok(value)` holds; rejects after `timeoutMs` with the last value. */
export async function until(read, ok, { timeoutMs = 10_000, what = 'a condition', everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Headless Chromium (scripts/browser.sh: Debian's chromium driven by playwright-core). */
export async function launchBrowser() {
  if (!process.env.PLAYWRIGHT_CORE || !process.env.CHROMIUM) throw new Error('PLAYWRIGHT_CORE / CHROMIUM are not set: run the suite with `npm test` (scripts/browser.sh)');
  const { chromium } = createRequire(`${process.env.PLAYWRIGHT_CORE}/`)('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

/** A browser context signed in as `who` (its session cookie), with or without JavaScript. */
export async function signedInContext(browser, appUrl, who, { javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({ javaScriptEnabled });
  const cookies = who.cookie.split('; ').map((pair) => {
    const at = pair.indexOf('=');
    return { name: pair.slice(0, at), value: pair.slice(at + 1), url: appUrl };
  });
  await context.addCookies(cookies);
  return context;
}

/**
 * Opens `url` in a new page of `context`, recording every SSE message the browser's EventSource
 * receives (Chrome DevTools Protocol: the raw frames, before the page's code sees them).
 * `before(page)` runs before the navigation (e.g. to route requests). Resolves `{ page, frames }`; each
 * frame is `{ event, id, data }` with `data` parsed.
 */
export async function openRecorded(context, url, before) {
  const page = await context.newPage();
  await before?.(page);
  const frames = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.eventSourceMessageReceived', ({ eventName, eventId, data }) => frames.push({ event: eventName, id: eventId, data: JSON.parse(data) }));
  await page.goto(url);
  return { page, frames };
}
