// What the app-agnostic suites (contract.mjs, browser.mjs) need around an example app: starting it with
// scripts/example.sh, reading SpacetimeDB as its owner, a real Chromium, and waiting for conditions.
import { createRequire } from 'node:module';
import { up } from '../../tools/examples/app.mjs';

/** The limits the suites rely on (passed to the app as APP_* settings). */
export const LIMITS = { writesPerMinute: 20, keyRequestsPerMinute: 12 };

/** `scripts/example.sh <app> up` (tools/examples/app.mjs) with the suites' limits. */
export function startExample(app) {
  return up(app, {
    APP_WRITE_RATE_LIMIT: `${LIMITS.writesPerMinute}/60`,
    APP_API_KEY_RATE_LIMIT: `${LIMITS.keyRequestsPerMinute}/60`,
    APP_AUTH_RATE_LIMIT: '1000/10', // the suites sign many users up from one address
  });
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
