// A SpacetimeDB server of a test's own (so it can be killed and restarted without disturbing the other
// suites), started with the project's tooling and the binary/module the suite's server uses.

import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { down, restart, up } from '../../tools/spacetimedb-dev/instance.mjs';

/** `config`: TOML for the server's config.toml (e.g. shorter websocket ping and idle timeouts). */
export async function startPrivateServer({ config } = {}) {
  const serverBin = process.env.SPACETIMEDB_SERVER_BIN;
  const modulePath = process.env.SPACETIMEDB_MODULE;
  if (!serverBin || !modulePath) throw new Error('SPACETIMEDB_SERVER_BIN / SPACETIMEDB_MODULE are not set: run with `npm test`');
  const env = await up({ serverBin, modulePath, envFile: null, config });
  // SpacetimeDB 1.3.0 records a newly published database in its registry asynchronously: a kill -9
  // within about a second of publishing loses the database (measured: 6 of 12 restarts answered "No such
  // database"; none after waiting 1.2 s). Tests that kill the server must not start before that.
  await new Promise((r) => setTimeout(r, 1500));
  let pid = Number(env.SPACETIMEDB_PID);
  return {
    url: env.SPACETIMEDB_URL,
    db: env.SPACETIMEDB_DB,
    ownerToken: env.SPACETIMEDB_OWNER_TOKEN,
    /** Kills the server process without warning (SIGKILL) and waits until it is gone. */
    async kill() {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
    },
    /** Freezes the server process (SIGSTOP): it neither answers nor closes anything, like a network black hole. */
    freeze: () => process.kill(pid, 'SIGSTOP'),
    thaw: () => process.kill(pid, 'SIGCONT'),
    /**
     * Starts it again on the same port and data directory, and waits until the database is loaded
     * (polling every `pollMs`). Resolves `performance.now()` of the first answer.
     */
    async restart({ pollMs = 20 } = {}) {
      pid = await restart(env.SPACETIMEDB_INSTANCE);
      const deadline = Date.now() + 20_000;
      while ((await fetch(`${env.SPACETIMEDB_URL}/v1/database/${env.SPACETIMEDB_DB}/schema?version=9`)).status !== 200) {
        if (Date.now() > deadline) throw new Error('the database did not come back after the restart');
        await new Promise((r) => setTimeout(r, pollMs));
      }
      return performance.now();
    },
    stop: () => down(env.SPACETIMEDB_INSTANCE),
  };
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Serves a TokenBroker's discovery document and JWKS on 127.0.0.1, so SpacetimeDB accepts its tokens.
 * `makeBroker(issuer)` builds the broker once the issuer URL (with the port) is known.
 */
export async function serveIssuer(makeBroker) {
  let broker;
  const server = createServer(async (req, res) => {
    const response = broker.handleWellKnown(new Request(`http://127.0.0.1${req.url}`));
    if (!response) return res.writeHead(404).end();
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  broker = makeBroker(`http://127.0.0.1:${server.address().port}/auth`);
  return { broker, close: () => new Promise((r) => server.close(r)) };
}

/** The rows of `query` on `server` over HTTP SQL (as the owner). */
export async function sqlOn(server, query) {
  const r = await fetch(`${server.url}/v1/database/${server.db}/sql`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.ownerToken}` },
    body: query,
  });
  if (!r.ok) throw new Error(`SQL ${query}: HTTP ${r.status} ${await r.text()}`);
  const [first] = await r.json();
  const names = first.schema.elements.map((e) => e.name?.some);
  return first.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i], v])));
}

/** Calls a reducer over HTTP on `server`; resolves the HTTP status (200 committed, 530 reducer error). */
export async function httpCallOn(server, reducer, args, token) {
  const r = await fetch(`${server.url}/v1/database/${server.db}/call/${reducer}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  });
  await r.arrayBuffer();
  return r.status;
}
