// Starts, publishes to and stops local SpacetimeDB servers for the project's tests, examples and benchmarks.
//
// Used by scripts/spacetimedb.sh (which builds the server and the module first) and importable from tests
// that need a server of their own (e.g. to kill and restart it). Every server gets a fresh data directory
// and its own JWT key files under one instance directory; `down` stops exactly the process `up` started
// (checked by pid and command line) and removes that directory.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STATE_DIR = process.env.SPACETIMEDB_STATE_DIR ?? join(ROOT, '.spacetimedb');
export const DEFAULT_ENV_FILE = join(STATE_DIR, 'env');

/** An error whose message is meant for a person; the CLI prints it without a stack. */
export class DevServerError extends Error {}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function ping(url, timeoutMs = 1000) {
  try {
    const r = await fetch(`${url}/v1/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok;
  } catch {
    return false;
  }
}

/** True while `pid` exists (EPERM: it does, owned by someone else). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** The pid's command line, or null when the process is gone (Linux /proc). */
export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

function randomName() {
  return `gateway-ref-${randomBytes(4).toString('hex')}`;
}

/**
 * Starts a server process for `inst` on `port` and waits until it answers /v1/ping.
 * Resolves `{ pid }`; rejects with a DevServerError naming the cause (port busy, crash, timeout).
 */
async function startProcess(serverBin, inst, port, timeoutMs) {
  const log = openSync(join(inst, 'server.log'), 'a');
  const child = spawn(
    serverBin,
    [
      'start',
      '--listen-addr', `127.0.0.1:${port}`,
      '--data-dir', join(inst, 'data'),
      '--jwt-pub-key-path', join(inst, 'keys', 'id_ecdsa.pub'),
      '--jwt-priv-key-path', join(inst, 'keys', 'id_ecdsa'),
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exitCode = null;
  child.once('exit', (code, signal) => (exitCode = code ?? signal));
  const spawnError = new Promise((res) => child.once('error', res));
  child.unref();

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, sleep(50).then(() => null)]);
    if (failed) throw new DevServerError(`could not start ${serverBin}: ${failed.message}`);
    if (exitCode !== null) {
      const text = readFileSync(join(inst, 'server.log'), 'utf8');
      if (/address already in use|AddrInUse/i.test(text)) {
        throw Object.assign(new DevServerError(`port ${port} on 127.0.0.1 is busy`), { portBusy: true });
      }
      throw new DevServerError(`the server exited (${exitCode}) during start-up:\n${text.split('\n').slice(-15).join('\n')}`);
    }
    if (await ping(url, 500)) return { pid: child.pid, url };
  }
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {}
  throw new DevServerError(`the server did not answer ${url}/v1/ping within ${timeoutMs} ms (log: ${join(inst, 'server.log')})`);
}

/** Creates an identity on the server; resolves `{ identity, token }`. */
export async function createIdentity(url) {
  const r = await fetch(`${url}/v1/identity`, { method: 'POST' });
  if (!r.ok) throw new DevServerError(`POST ${url}/v1/identity failed: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/**
 * Publishes `wasmPath` as database `name` (created, or updated when `token` owns it).
 * Resolves `{ identity, token, databaseIdentity }`.
 */
export async function publish(url, name, wasmPath, token) {
  const owner = token ? { token } : await createIdentity(url);
  const body = readFileSync(wasmPath);
  let r;
  try {
    r = await fetch(`${url}/v1/database/${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${owner.token}` },
      body,
    });
  } catch (e) {
    throw new DevServerError(`publish rejected: could not reach ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  if (!r.ok || !json?.Success) {
    throw new DevServerError(`publish rejected: PUT ${url}/v1/database/${name} answered HTTP ${r.status}: ${text.slice(0, 500)}`);
  }
  return { identity: owner.identity, token: owner.token, databaseIdentity: json.Success.database_identity };
}

/** Deletes database `name` (its owner's `token`); rejects when the server refuses. */
export async function deleteDatabase(url, name, token) {
  const r = await fetch(`${url}/v1/database/${encodeURIComponent(name)}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) throw new DevServerError(`delete rejected: DELETE ${url}/v1/database/${name} answered HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
}

function envLines(env) {
  return Object.entries(env)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}

/** Reads a `KEY=value` file. */
export function readEnvFile(path) {
  const env = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** `NAME=PATH` of a further module to publish (`--also`), checked: `{ name, path }`. */
export function parseAlso(spec) {
  const m = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(spec ?? '');
  if (!m) throw new DevServerError(`--also takes NAME=PATH (NAME in capitals, e.g. COOKBOOK=/path/module.wasm), got ${spec}`);
  return { name: m[1], path: m[2] };
}

/**
 * Starts a fresh server (or uses `url`, e.g. a user's own `spacetime start`), publishes the module and
 * writes the connection facts to `<instance>/env` and to `envFile` (unless null).
 *
 * Options: `serverBin` (needed unless `url`), `modulePath`, `url`, `database`, `port`, `envFile`,
 * `timeoutMs`, `config` (TOML text for the server's `config.toml`, e.g. `[websocket]` timeouts), `also`
 * (further modules `[{ name, path }]`, each published into its own database `<database>-<name>` on the
 * same server, with its own owner: env SPACETIMEDB_<NAME>_DB, _OWNER_TOKEN, _OWNER_IDENTITY, _MODULE).
 * Resolves the env object: SPACETIMEDB_URL, SPACETIMEDB_DB, SPACETIMEDB_OWNER_TOKEN, …
 */
export async function up(opts) {
  const { serverBin, modulePath, url: externalUrl, envFile = DEFAULT_ENV_FILE, timeoutMs = 20000, also = [] } = opts;
  const database = opts.database || randomName();
  for (const { path } of [{ path: modulePath }, ...also]) {
    if (!path || !existsSync(path)) throw new DevServerError(`module not found: ${path}`);
  }
  const inst = join(STATE_DIR, 'instances', `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(inst, 'keys'), { recursive: true });

  const env = { SPACETIMEDB_URL: undefined, SPACETIMEDB_DB: database, SPACETIMEDB_INSTANCE: inst };
  if (externalUrl) {
    const url = externalUrl.replace(/\/+$/, '');
    if (!(await ping(url, 3000))) {
      rmSync(inst, { recursive: true, force: true });
      throw new DevServerError(`SPACETIMEDB_URL=${url} does not answer /v1/ping; start that server or unset SPACETIMEDB_URL`);
    }
    env.SPACETIMEDB_URL = url;
    env.SPACETIMEDB_EXTERNAL = '1';
  } else {
    if (!serverBin || !existsSync(serverBin)) throw new DevServerError(`server binary not found: ${serverBin}`);
    if (opts.config) {
      mkdirSync(join(inst, 'data'), { recursive: true });
      writeFileSync(join(inst, 'data', 'config.toml'), opts.config);
    }
    const fixedPort = opts.port ? Number(opts.port) : null;
    let started;
    for (let attempt = 0; !started; attempt++) {
      const port = fixedPort ?? (await freePort());
      try {
        started = await startProcess(serverBin, inst, port, timeoutMs);
      } catch (e) {
        // A port picked by us can be taken by someone else before the server binds it: pick another.
        if (!(e.portBusy && !fixedPort && attempt < 4)) {
          rmSync(inst, { recursive: true, force: true });
          throw e;
        }
      }
    }
    env.SPACETIMEDB_URL = started.url;
    env.SPACETIMEDB_PID = String(started.pid);
    env.SPACETIMEDB_SERVER_BIN = serverBin;
    env.SPACETIMEDB_JWT_PUB_KEY = join(inst, 'keys', 'id_ecdsa.pub');
    env.SPACETIMEDB_JWT_PRIV_KEY = join(inst, 'keys', 'id_ecdsa');
  }
  writeFileSync(join(inst, 'env'), envLines(env));

  let owner;
  try {
    owner = await publish(env.SPACETIMEDB_URL, database, modulePath);
  } catch (e) {
    await down(inst).catch(() => {});
    throw e;
  }
  env.SPACETIMEDB_OWNER_IDENTITY = owner.identity;
  env.SPACETIMEDB_OWNER_TOKEN = owner.token;
  env.SPACETIMEDB_MODULE = modulePath;
  writeFileSync(join(inst, 'env'), envLines(env));
  for (const { name, path } of also) {
    const db = `${database}-${name.toLowerCase()}`;
    let published;
    try {
      published = await publish(env.SPACETIMEDB_URL, db, path);
    } catch (e) {
      await down(inst).catch(() => {});
      throw e;
    }
    Object.assign(env, {
      [`SPACETIMEDB_${name}_DB`]: db,
      [`SPACETIMEDB_${name}_OWNER_IDENTITY`]: published.identity,
      [`SPACETIMEDB_${name}_OWNER_TOKEN`]: published.token,
      [`SPACETIMEDB_${name}_MODULE`]: path,
    });
    writeFileSync(join(inst, 'env'), envLines(env));
  }
  if (envFile) {
    mkdirSync(dirname(envFile), { recursive: true });
    writeFileSync(envFile, envLines(env));
  }
  return env;
}

/** Stops a server we started: SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(pid, expectArg, graceMs = 3000) {
  const args = cmdline(pid);
  if (!args) return; // already gone
  if (expectArg && !args.includes(expectArg)) return; // the pid was reused by another process: not ours
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(25);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    while (isAlive(pid)) await sleep(10);
  }
}

/**
 * Stops the instance named by `target` (an instance directory or an env file; default: the default env
 * file), removes its data, and for an external server deletes the published database.
 */
export async function down(target = DEFAULT_ENV_FILE) {
  let inst = target;
  let envFile = null;
  if (existsSync(target) && statSync(target).isFile()) {
    envFile = target;
    inst = readEnvFile(target).SPACETIMEDB_INSTANCE;
    if (!inst) throw new DevServerError(`${target} names no SPACETIMEDB_INSTANCE`);
  }
  if (!existsSync(inst)) {
    if (envFile) rmSync(envFile, { force: true });
    return false;
  }
  const env = existsSync(join(inst, 'env')) ? readEnvFile(join(inst, 'env')) : {};
  if (env.SPACETIMEDB_PID) {
    await stopProcess(Number(env.SPACETIMEDB_PID), join(inst, 'data'));
  } else if (env.SPACETIMEDB_EXTERNAL) {
    // Every database `up` published there: the main one and each `--also` one (SPACETIMEDB_<NAME>_DB).
    for (const [key, db] of Object.entries(env)) {
      const token = env[key.replace(/_DB$/, '_OWNER_TOKEN')];
      if (/^SPACETIMEDB_(?:[A-Z0-9_]+_)?DB$/.test(key) && token) {
        await deleteDatabase(env.SPACETIMEDB_URL, db, token).catch(() => {});
      }
    }
  }
  rmSync(inst, { recursive: true, force: true });
  if (envFile) rmSync(envFile, { force: true });
  return true;
}

/**
 * The newest instance of this clone whose server still runs (a local one whose pid is still the server
 * started for it) or whose database is still published (an external one); null when there is none. `up`
 * twice then `down` twice stops both: each `down` takes the newest one still live.
 */
export function newestLiveInstance() {
  const dir = join(STATE_DIR, 'instances');
  if (!existsSync(dir)) return null;
  const live = readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((inst) => {
      if (!existsSync(join(inst, 'env'))) return false;
      const env = readEnvFile(join(inst, 'env'));
      if (env.SPACETIMEDB_PID) return cmdline(Number(env.SPACETIMEDB_PID))?.includes(join(inst, 'data')) ?? false;
      return env.SPACETIMEDB_EXTERNAL === '1';
    })
    // `up` names an instance `<Date.now() in base 36>-<random>`: the name tells when it started.
    .map((inst) => ({ inst, started: parseInt(basename(inst).split('-')[0], 36) }));
  live.sort((a, b) => a.started - b.started);
  return live.at(-1)?.inst ?? null;
}

/** Removes the default env file if it names `inst` (its server is gone). */
function forgetDefaultEnv(inst) {
  if (existsSync(DEFAULT_ENV_FILE) && readEnvFile(DEFAULT_ENV_FILE).SPACETIMEDB_INSTANCE === inst) {
    rmSync(DEFAULT_ENV_FILE, { force: true });
  }
}

/** Stops every instance under the state directory. */
export async function downAll() {
  const dir = join(STATE_DIR, 'instances');
  if (!existsSync(dir)) return 0;
  const all = readdirSync(dir).map((d) => join(dir, d));
  for (const inst of all) await down(inst);
  rmSync(DEFAULT_ENV_FILE, { force: true });
  return all.length;
}

/**
 * Restarts a stopped (or killed) local instance on the same port and data directory — for tests of
 * outages. Resolves the new pid.
 */
export async function restart(inst, timeoutMs = 20000) {
  const env = readEnvFile(join(inst, 'env'));
  if (!env.SPACETIMEDB_PID) throw new DevServerError(`${inst} is not a local instance`);
  const port = Number(new URL(env.SPACETIMEDB_URL).port);
  const { pid } = await startProcess(env.SPACETIMEDB_SERVER_BIN, inst, port, timeoutMs);
  env.SPACETIMEDB_PID = String(pid);
  writeFileSync(join(inst, 'env'), envLines(env));
  return pid;
}

// ---------------------------------------------------------------------------------------------------
// Command line (called by scripts/spacetimedb.sh)
// ---------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const out = { _: [], also: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      const next = argv[i + 1];
      const value = next === undefined || next.startsWith('--') ? true : argv[++i];
      if (key === 'also') out.also.push(parseAlso(value === true ? '' : value));
      else out[key] = value;
    } else out._.push(a);
  }
  return out;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const args = parseArgs(rest);
  switch (cmd) {
    case 'up': {
      const env = await up({
        serverBin: args.server,
        modulePath: args.module,
        url: process.env.SPACETIMEDB_URL || undefined,
        database: args.database || process.env.SPACETIMEDB_DB || undefined,
        port: args.port || process.env.SPACETIMEDB_PORT || undefined,
        envFile: args['env-out'] === 'none' ? null : args['env-out'] || DEFAULT_ENV_FILE,
        also: args.also,
      });
      process.stdout.write(envLines(env));
      break;
    }
    case 'down': {
      if (args.all) {
        const n = await downAll();
        console.error(`spacetimedb-dev: stopped ${n} instance(s)`);
      } else {
        const named = args._[0] || process.env.SPACETIMEDB_INSTANCE || args['env-out'];
        // Without a name: the newest instance still live (the default env file names only the last `up`).
        const target = named || newestLiveInstance();
        if (!target) {
          console.error(`spacetimedb-dev: no live instance under ${join(STATE_DIR, 'instances')}`);
          break;
        }
        const stopped = await down(target);
        if (!named) forgetDefaultEnv(target);
        console.error(stopped ? `spacetimedb-dev: stopped ${target}` : `spacetimedb-dev: nothing to stop at ${target}`);
      }
      break;
    }
    case 'publish': {
      const url = process.env.SPACETIMEDB_URL;
      if (!url) throw new DevServerError('publish needs SPACETIMEDB_URL');
      const name = args.database || process.env.SPACETIMEDB_DB || randomName();
      const r = await publish(url, name, args.module, process.env.SPACETIMEDB_OWNER_TOKEN || undefined);
      process.stdout.write(envLines({ SPACETIMEDB_URL: url, SPACETIMEDB_DB: name, SPACETIMEDB_OWNER_TOKEN: r.token }));
      break;
    }
    default:
      throw new DevServerError(`unknown command ${cmd ?? '(none)'}; use up | down | publish`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`spacetimedb-dev: error: ${e instanceof DevServerError ? e.message : e.stack}`);
    process.exit(1);
  });
}
