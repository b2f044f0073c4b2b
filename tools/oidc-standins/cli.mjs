#!/usr/bin/env node
// Stand-in enterprise identity providers for local development and tests (scripts/oidc.sh runs this).
//
//   serve [--provider NAME]... [--port NAME=PORT]... [--redirect-uri URI]... [--host 127.0.0.1] [--state-out FILE]
//       Runs the stand-ins in the foreground until SIGINT/SIGTERM; prints one JSON line describing them
//       when ready (and writes it to FILE). --redirect-uri: a callback their clients accept instead of
//       the default (an app's, e.g. Better Auth SSO's <baseURL>/sso/callback/<providerId>; all on one host).
//   up [serve options]
//       Starts `serve` in the background; its pid and description go to .oidc/<pid>/standins.json,
//       whose path is printed (OIDC_STANDINS=…), with each issuer (OIDC_<NAME>_ISSUER=…).
//   down [STATE_FILE] | --all
//       Stops exactly the process `up` started (checked by pid and command line) and removes its state.
//       Without an argument: the newest live instance.
//   token PROVIDER USER [--state STATE_FILE] [--json]
//       Signs USER in at PROVIDER (authorization-code flow over HTTP) and prints the ID token
//       (--json: { idToken, header, claims }).
//
// NAME: keycloak, entra, google, workos (the default), entra-fabrikam (a second Entra tenant). Users:
// `serve` lists them per provider.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmdline, isAlive } from '../spacetimedb-dev/instance.mjs';
import { DEFAULT_NAMES, SHAPES } from './shapes.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '../..');
const STATE_DIR = process.env.OIDC_STANDINS_STATE_DIR ?? join(ROOT, '.oidc');
const READY_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A usage error: printed with the usage, exit 2. */
class UsageError extends Error {}

function usage() {
  return readFileSync(SELF, 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

/** Parses `serve`'s options into startStandIns' options. */
function serveOptions(args) {
  const names = [];
  const ports = {};
  const redirectUris = [];
  let host = '127.0.0.1';
  let stateOut;
  for (let i = 0; i < args.length; i += 1) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    i += 1;
    if (flag === '--provider') {
      if (!SHAPES[value]) throw new UsageError(`unknown provider ${value} (known: ${Object.keys(SHAPES).join(', ')})`);
      names.push(value);
    } else if (flag === '--port') {
      const m = /^([a-z-]+)=(\d+)$/.exec(value);
      if (!m || !SHAPES[m[1]] || Number(m[2]) > 65535) throw new UsageError(`--port takes NAME=PORT, got ${value}`);
      ports[m[1]] = Number(m[2]);
    } else if (flag === '--redirect-uri') {
      if (!URL.canParse(value)) throw new UsageError(`--redirect-uri takes an absolute URL, got ${value}`);
      redirectUris.push(value);
    } else if (flag === '--host') {
      host = value;
    } else if (flag === '--state-out') {
      stateOut = value;
    } else {
      throw new UsageError(`unknown option ${flag}`);
    }
  }
  return { names: names.length ? names : DEFAULT_NAMES, ports, redirectUris: redirectUris.length ? redirectUris : undefined, host, stateOut };
}

async function serve(args) {
  const { stateOut, ...options } = serveOptions(args);
  const { startStandIns } = await import('./server.mjs'); // loads oidc-provider only when serving
  const standIns = await startStandIns(options);
  const description = { pid: process.pid, providers: Object.fromEntries(Object.entries(standIns.providers).map(([name, { stop, ...p }]) => [name, p])) };
  const line = JSON.stringify(description);
  if (stateOut) writeFileSync(stateOut, `${line}\n`, { mode: 0o600 }); // holds the client secrets
  process.stdout.write(`${line}\n`);
  const stop = async () => {
    await standIns.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** True when `pid` is still this tool's `serve` (a recycled pid is left alone). */
function isOurServe(pid) {
  const argv = cmdline(pid);
  return argv !== null && argv.includes(SELF) && argv.includes('serve');
}

async function up(args) {
  serveOptions(args); // usage errors before anything starts
  mkdirSync(STATE_DIR, { recursive: true });
  const staging = join(STATE_DIR, `starting-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  const stateFile = join(staging, 'standins.json');
  const log = openSync(join(staging, 'serve.log'), 'a');
  const child = spawn(process.execPath, [SELF, 'serve', '--state-out', stateFile, ...args], { detached: true, stdio: ['ignore', 'ignore', log] });
  closeSync(log);
  child.unref();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(stateFile)) {
    if (!isAlive(child.pid) || Date.now() > deadline) {
      const tail = readFileSync(join(staging, 'serve.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
      if (isAlive(child.pid)) process.kill(child.pid, 'SIGTERM');
      throw new Error(`the stand-ins did not start: ${tail || 'no output'}`);
    }
    await sleep(50);
  }
  const dir = join(STATE_DIR, String(child.pid));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const state = join(dir, 'standins.json');
  const { providers } = JSON.parse(readFileSync(state, 'utf8'));
  console.log(`OIDC_STANDINS=${state}`);
  for (const [name, p] of Object.entries(providers)) console.log(`OIDC_${name.toUpperCase().replaceAll('-', '_')}_ISSUER=${p.issuer}`);
}

/** The state files of live instances, newest first. */
function instances() {
  if (!existsSync(STATE_DIR)) return [];
  return readdirSync(STATE_DIR)
    .filter((d) => /^\d+$/.test(d))
    .map((d) => join(STATE_DIR, d, 'standins.json'))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

async function stopInstance(stateFile) {
  const { pid } = JSON.parse(readFileSync(stateFile, 'utf8'));
  if (isAlive(pid) && isOurServe(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(50);
  }
  rmSync(dirname(stateFile), { recursive: true, force: true });
  console.error(`oidc: stopped the stand-ins of pid ${pid}`);
}

async function down(args) {
  if (args[0] === '--all') {
    for (const f of instances()) await stopInstance(f);
    return;
  }
  const target = args[0] ? resolve(args[0]) : instances()[0];
  if (!target) {
    console.error('oidc: no stand-ins running');
    return;
  }
  await stopInstance(target);
}

async function token(args) {
  const positional = [];
  let stateFile;
  let json = false;
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--state') stateFile = args[(i += 1)];
    else if (args[i] === '--json') json = true;
    else positional.push(args[i]);
  }
  const [name, user] = positional;
  if (!name || !user) throw new UsageError('token needs PROVIDER and USER');
  stateFile ??= process.env.OIDC_STANDINS ?? instances()[0];
  if (!stateFile) throw new Error('no stand-ins running: start them with `scripts/oidc.sh up`');
  const provider = JSON.parse(readFileSync(stateFile, 'utf8')).providers[name];
  if (!provider) throw new UsageError(`no ${name} stand-in in ${stateFile}`);
  const { signIn } = await import('./sign-in.mjs');
  const { idToken, header, claims } = await signIn(provider, user);
  console.log(json ? JSON.stringify({ idToken, header, claims }) : idToken);
}

const COMMANDS = { serve, up, down, token };

const [command, ...rest] = process.argv.slice(2);
if (!COMMANDS[command]) {
  console.error(usage());
  process.exit(command === undefined || command === '--help' ? 0 : 2);
}
COMMANDS[command](rest).catch((e) => {
  console.error(`oidc ${command}: ${e.message}`);
  if (e instanceof UsageError) console.error(`\n${usage()}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
