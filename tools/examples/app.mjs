// Example instances (scripts/example.sh) from code — `up`/`down` for tests and benchmarks — and the app
// process of an instance: its deploy-time set-up (signing key, the module owner trusting the gateway),
// starting it, waiting until it is ready, and stopping it — exactly the process that was started (by
// pid, checked against its command line). Tests kill and restart it with `stop`/`start`. Also a small
// CLI for scripts/example.sh.
//
//   node tools/examples/app.mjs setup <instance-dir> <server-entry> <port>   writes the app's settings
//   node tools/examples/app.mjs start <instance-dir>                         starts it, waits for /api/health
//   node tools/examples/app.mjs stop <instance-dir> [--kill]                 SIGTERM (or SIGKILL), waits
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readEnvFile, stopProcess } from '../spacetimedb-dev/instance.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const run = promisify(execFile);

/**
 * `scripts/example.sh <app> up`: resolves the facts it printed (APP_URL, SPACETIMEDB_URL, SPACETIMEDB_DB,
 * EXAMPLE_INSTANCE, …) plus `issuer` and `down()`. `settings` are APP_* settings for the app (limits).
 * The caller's CI, TEST, VITEST and NODE_ENV stay out of the build and the app.
 */
export async function up(app, settings = {}) {
  const dir = mkdtempSync(join(tmpdir(), `example-${app}-`));
  const envFile = join(dir, 'env');
  const { CI, TEST, VITEST, NODE_ENV, ...env } = process.env;
  await run('bash', [join(ROOT, 'scripts', 'example.sh'), app, 'up', '--env-out', envFile], { cwd: ROOT, env: { ...env, ...settings }, maxBuffer: 64 << 20 });
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

/** The robot id of the app's service connection (examples/shared/server/gateway.ts): `sub = robot:gateway`. */
const GATEWAY_SUB = 'robot:gateway';
const READY_TIMEOUT_MS = 90_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Settings of the app's environment that a caller may pass through (limits), besides ours. */
const passThrough = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('APP_') && k !== 'APP_URL'));

/**
 * The deploy-time steps of docs/tanstack-start.md, for a fresh instance: an ES256 signing key, a Better
 * Auth secret, and the database owner trusting the gateway's identity (`trust_gateway`), which derives
 * from the issuer `${APP_URL}/api/spacetime` and `robot:gateway`. Writes `<inst>/app.json` (the app's
 * settings) and `<inst>/spacetime-key.json`.
 */
export async function setup(inst, entry, port) {
  const db = readEnvFile(join(inst, 'spacetimedb.env'));
  const pg = readEnvFile(join(inst, 'postgres.env'));
  // The package as the built app carries it (.output/server/node_modules): same code the app runs.
  const pkg = createRequire(resolve(entry, '..', 'node_modules', 'spacetime-gateway', 'package.json'))('spacetime-gateway');
  const appUrl = `http://127.0.0.1:${port}`;
  const key = pkg.generateKeyPair({ alg: 'ES256' });
  const keyFile = join(inst, 'spacetime-key.json');
  writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
  const identity = pkg.deriveIdentity(`${appUrl}/api/spacetime`, GATEWAY_SUB);
  const trusted = await fetch(`${db.SPACETIMEDB_URL}/v1/database/${db.SPACETIMEDB_DB}/call/trust_gateway`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${db.SPACETIMEDB_OWNER_TOKEN}` },
    body: JSON.stringify([{ __identity__: `0x${identity}` }, `example app at ${appUrl}`]),
  });
  if (!trusted.ok) throw new Error(`trust_gateway refused: HTTP ${trusted.status} ${await trusted.text()}`);
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    APP_URL: appUrl,
    DATABASE_URL: pg.DATABASE_URL,
    SPACETIMEDB_URL: db.SPACETIMEDB_URL,
    SPACETIMEDB_DB: db.SPACETIMEDB_DB,
    BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
    SPACETIME_KEYS: JSON.stringify(key),
    ...passThrough(),
  };
  writeFileSync(join(inst, 'app.json'), JSON.stringify({ entry, env }, null, 1), { mode: 0o600 });
  return { appUrl, identity, keyFile };
}

/**
 * Starts the app of `inst` (its own process group, output appended to `<inst>/app.log`) and resolves its
 * pid once `/api/health` answers 200. Only the settings of app.json reach it: in particular no CI or TEST
 * (srvx skips its graceful shutdown then) and no test runner's NODE_ENV.
 */
export async function start(inst) {
  const { entry, env } = JSON.parse(readFileSync(join(inst, 'app.json'), 'utf8'));
  const log = openSync(join(inst, 'app.log'), 'a');
  const child = spawn(process.execPath, [entry], {
    cwd: resolve(entry, '..', '..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = null;
  child.once('exit', (code, signal) => (exited = code ?? signal));
  child.unref();
  writeFileSync(join(inst, 'app.pid'), String(child.pid));
  const health = `${env.APP_URL}/api/health`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the app exited (${exited}) during start-up:\n${tail(inst)}`);
    const response = await fetch(health, { signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: e.cause?.code ?? e.name }));
    if (response.status === 200) return child.pid;
    last = response.status;
    await sleep(200);
  }
  await stop(inst, { kill: true });
  throw new Error(`${health} did not answer 200 within ${READY_TIMEOUT_MS} ms (last: ${last}):\n${tail(inst)}`);
}

/**
 * Stops the app of `inst`: SIGTERM (a graceful shutdown; SIGKILL after 10 s) or, with `kill`, SIGKILL at
 * once, as a crash would. Only that process: the pid must still run the app's entry.
 */
export async function stop(inst, { kill = false } = {}) {
  const pidFile = join(inst, 'app.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const { entry } = JSON.parse(readFileSync(join(inst, 'app.json'), 'utf8'));
  if (!kill) return stopProcess(pid, entry, 10_000);
  const args = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
  })();
  if (!args.includes(entry)) return; // gone already, or the pid now belongs to another process
  process.kill(pid, 'SIGKILL');
  while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')) await sleep(10);
}

/** The last lines of the app's log. */
export function tail(inst, lines = 40) {
  const file = join(inst, 'app.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

async function main() {
  const [cmd, inst, ...rest] = process.argv.slice(2);
  if (cmd === 'setup') {
    const { appUrl, identity, keyFile } = await setup(inst, rest[0], Number(rest[1]));
    process.stdout.write(`APP_URL=${appUrl}\nGATEWAY_IDENTITY=${identity}\nSPACETIME_KEY_FILE=${keyFile}\n`);
  } else if (cmd === 'start') {
    process.stdout.write(`APP_PID=${await start(inst)}\n`);
  } else if (cmd === 'stop') {
    await stop(inst, { kill: rest.includes('--kill') });
  } else {
    throw new Error(`unknown command ${cmd}; use setup | start | stop`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`example app: error: ${e.message}`);
    process.exit(1);
  });
}
