// Framework SSE: the same SSE fan-out through each example app's route and through a plain Node server,
// in the same run, against the same SpacetimeDB database (each app with its own, and its own baseline):
//   framework   a built example app (scripts/example.sh): GET /api/events?tenant= — Better Auth session
//               and membership check, then the stream —
//               tanstack: gateway.streamResponse(request) as the route's Response, through Nitro 3/srvx;
//               analog:   serveStream(event) (spacetime-gateway/h3) piping into nitropack 2's Node response
//   node        a plain Node http server: gateway.stream({ tenantId }).pipe(res) (bench/fanout/gw-ours.mjs)
// All on Node 24, each in its own process (/proc charges it alone). Clients, writer and the measured
// window are the fan-out benchmark's (bench/fanout/measure.mjs): N clients over 100 tenants (Better Auth
// organizations of one user, fresh ones per run), a writer holding that user's token (a member of every
// tenant); phases `saturate` (closed-loop: maximum delivered events/s) then `fixed` (latency at 80 % of
// the slower variant's median saturated rate). Every run checks losses and repeats per client.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveIdentity } from '../../lib/index.js';
import { up } from '../../tools/examples/app.mjs';
import { exampleBroker } from '../../tools/examples/broker.mjs';
import { AppClient } from '../../tools/examples/client.mjs';
import { measureWindow } from '../fanout/measure.mjs';
import { forkAsk } from '../lib/ipc.mjs';
import { quantile } from '../lib/stats.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The example apps measured, each against a plain Node baseline on its own database. */
export const FRAMEWORK_APPS = [
  { app: 'tanstack', label: 'TanStack Start route: gateway.streamResponse(request), built app' },
  { app: 'analog', label: 'Analog route (nitropack 2, h3 v1): serveStream(event), built app' },
];
const NODE_VARIANT = { key: 'node', label: 'plain Node http: gateway.stream().pipe(res)' };
export const FRAMEWORK_DEFAULTS = { tenants: 100, batch: 50, inflight: 8, maxOutstanding: 100_000, maxRate: 1000, drainMs: 3000, drainCapMs: 20_000 };
const log = (...a) => console.error('[framework-sse]', ...a);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `count` fresh organizations of `owner`, created through Better Auth's endpoint one at a time. Better
 * Auth limits every address to 100 requests per 10 s by default (a limit for people, kept as shipped):
 * on a 429 wait out the window and go on.
 */
async function organizations(client, owner, prefix, count) {
  const ids = [];
  while (ids.length < count) {
    try {
      ids.push((await client.createOrganization(owner, `${prefix}-${ids.length}`)).id);
    } catch (e) {
      if (!/HTTP 429/.test(e.message)) throw e;
      await sleep(10_000);
    }
  }
  return ids;
}

/**
 * @param {{ clients: number, repeats: number, seconds: number } & typeof FRAMEWORK_DEFAULTS} config
 * @returns {{ config, apps: { app: string, variants: { key: string, label: string }[], rates, runs }[] }}
 */
export async function frameworkSse(config) {
  const apps = [];
  for (const { app, label } of FRAMEWORK_APPS) {
    log(`${app}: the built example app vs plain Node`);
    const variants = [{ key: 'framework', label }, NODE_VARIANT];
    apps.push({ app, variants, ...(await measureApp(app, variants, config)) });
  }
  return { config, apps };
}

/** Both variants against one example app's database: saturated, then at a fixed rate both sustain. */
async function measureApp(appName, variants, config) {
  const node24 = join(execFileSync('bash', [join(ROOT, 'scripts/node.sh')], { encoding: 'utf8' }).trim(), 'node');
  // Sign-ups and organizations come fast from one address; the default limits are for people.
  const app = await up(appName, { APP_AUTH_RATE_LIMIT: '1000/10' });
  const writer = forkAsk(join(ROOT, 'bench/fanout/writer.mjs'));
  const clients = forkAsk(join(ROOT, 'bench/fanout/clients.mjs'), { execArgv: ['--max-old-space-size=4096'] });
  const runs = [];
  const rates = {};
  try {
    const client = new AppClient(app.APP_URL);
    const owner = await client.signUp('Bench');
    // The writer acts as the owner (a member of every organization), with the app's own signing key.
    const token = exampleBroker(app).mint({ sub: owner.user.id }, { ttlSeconds: 3600 });
    await writer.ask({ cmd: 'init', uri: app.SPACETIMEDB_URL, database: app.SPACETIMEDB_DB, token, identity: deriveIdentity(app.issuer, owner.user.id) });
    await writer.ask({ cmd: 'feed', path: null });
    const n = config.clients;
    let runNo = 0;

    const run = async (variant, load) => {
      const tenants = await organizations(client, owner, `bench-${runNo++}`, config.tenants);
      await writer.ask({ cmd: 'tenants', tenants, existing: true });
      let gw;
      let target;
      if (variant.key === 'framework') {
        target = { pid: Number(app.APP_PID), port: Number(new URL(app.APP_URL).port), path: '/api/events', query: 'tenant', headers: { cookie: owner.cookie } };
      } else {
        gw = forkAsk(join(ROOT, 'bench/fanout/gw-ours.mjs'), { execPath: node24, execArgv: ['--expose-gc'] });
        const { port, path } = await gw.ask({ cmd: 'start', uri: app.SPACETIMEDB_URL, database: app.SPACETIMEDB_DB, tenants });
        target = { pid: gw.child.pid, port, path, gc: () => gw.ask({ cmd: 'gc' }), stats: () => gw.ask({ cmd: 'stats' }) };
      }
      try {
        const name = `${variant.key}-${n}-${load.mode}`;
        const r = await measureWindow({ target, clients, writer, tenants, n, load, drainMs: config.drainMs, drainCapMs: config.drainCapMs, name, spacetimedbPid: Number(app.SPACETIMEDB_PID) });
        runs.push({ variant: variant.key, ...r });
      } finally {
        await clients.ask({ cmd: 'close' });
        if (gw) await gw.ask({ cmd: 'stop' }, 15_000).catch(() => gw.child.kill('SIGKILL'));
      }
    };

    const saturate = { mode: 'saturate', seconds: config.seconds, batch: config.batch, inflight: config.inflight, maxOutstanding: config.maxOutstanding };
    for (let rep = 0; rep < config.repeats; rep++) for (const v of variants) await run(v, saturate);
    // Latency at a rate both sustain: 80 % of the slower variant's median saturated delivery, as
    // transactions/s of one row (each reaches n / tenants clients).
    const medianOf = (k) => quantile(runs.filter((r) => r.variant === k).map((r) => r.deliveredPerSec), 0.5);
    const slower = Math.min(...variants.map((v) => medianOf(v.key)));
    const rate = Math.max(10, Math.min(config.maxRate, Math.floor((0.8 * slower) / (n / config.tenants))));
    rates[n] = { slowerSaturatedPerSec: slower, rate };
    log(`${appName}: fixed rate ${rate} tx/s (80 % of the slower median ${Math.round(slower)} ev/s)`);
    for (let rep = 0; rep < config.repeats; rep++) for (const v of variants) await run(v, { mode: 'fixed', seconds: config.seconds, rate });
  } finally {
    await writer.ask({ cmd: 'close' }).catch(() => {});
    writer.child.kill();
    clients.child.kill();
    await app.down();
  }
  return { rates, runs };
}
