// Better Auth for a suite: a database of its own in the PostgreSQL cluster scripts/test.sh starts
// (DATABASE_URL), so suites running in parallel never share Better Auth's tables (or race on their
// migrations), and an HTTP server mounting Better Auth under /api/auth, as an app's catch-all route does.

import { toNodeHandler } from 'better-auth/node';
import http from 'node:http';
import pg from 'pg';
import { Gateway, generateKeyPair, TokenBroker } from '../../lib/index.js';
import { httpCall, serverEnv, uniqueId } from './spacetimedb.mjs';

/** Creates a fresh database; resolves `{ pool, drop }` (`drop()` ends the pool and removes the database). */
export async function privateDatabase(prefix) {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set: run the suite with `npm test` (scripts/test.sh starts PostgreSQL)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.href });
  const drop = async () => {
    await pool.end();
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  return { pool, drop };
}

/**
 * Serves `getAuth()` (read per request: the instance is built after the port is known, for its baseURL)
 * under /api/auth on a free 127.0.0.1 port, and hands other requests to `otherRoutes(req, res)` (404 without
 * it); resolves `{ url, close }`.
 */
export async function serveAuth(getAuth, otherRoutes = (req, res) => res.writeHead(404).end()) {
  const handlers = new WeakMap();
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith('/api/auth/')) return otherRoutes(req, res);
    const auth = getAuth();
    if (!handlers.has(auth)) handlers.set(auth, toNodeHandler(auth));
    return handlers.get(auth)(req, res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

/** Serves a TokenBroker's discovery document and JWKS (`getBroker()`: built once the port is known), so
 * SpacetimeDB can validate the tokens it mints; resolves the `http.Server`. */
async function serveIssuer(getBroker) {
  const server = http.createServer((req, res) => {
    const response = getBroker().handleWellKnown({ method: req.method, url: req.url });
    if (!response) return res.writeHead(404).end();
    response.text().then((body) => res.writeHead(response.status, Object.fromEntries(response.headers)).end(body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/**
 * The app's side of SpacetimeDB: a TokenBroker whose issuer is served over HTTP (SpacetimeDB validates
 * every token it mints itself), and the service Gateway (`robot:gateway`) that the database owner trusts,
 * the deploy-time step of docs/actors.md. `optionsOf(broker)`: more of Gateway.connect's options
 * (subscriptions, userCalls). Resolves `{ broker, gateway, close }`.
 */
export async function trustedGateway(note, optionsOf) {
  const { url, db, ownerToken } = serverEnv();
  let broker;
  const issuer = await serveIssuer(() => broker);
  broker = new TokenBroker({ issuer: `http://127.0.0.1:${issuer.address().port}/spacetime`, audience: 'spacetimedb', keys: generateKeyPair() });
  const gateway = await Gateway.connect({ uri: url, database: db, token: () => broker.mintRobot({ id: 'gateway' }), ...optionsOf(broker) });
  const trusted = await httpCall('trust_gateway', [{ __identity__: `0x${gateway.identity}` }, note], ownerToken);
  if (trusted.status !== 200) throw new Error(`trust_gateway: HTTP ${trusted.status}: ${trusted.text}`);
  const close = async () => {
    await gateway.close();
    await new Promise((r) => issuer.close(r));
  };
  return { broker, gateway, close };
}

/** Signs a user up through the server API; resolves `{ user, headers }` (headers carry the session cookie). */
export async function signUp(auth, name) {
  const email = `${uniqueId(name)}@example.test`;
  const { headers, response } = await auth.api.signUpEmail({ body: { email, password: 'correct horse battery', name }, returnHeaders: true });
  const cookie = headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { user: response.user, headers: new Headers({ cookie }) };
}
