// Helpers of the cookbook suites: the cookbook module's database (published beside the reference module
// by scripts/test.sh), an app issuer SpacetimeDB accepts, the app's trusted gateway, the database owner,
// linked users, and reading the module's records back.

import http from 'node:http';
import { Gateway } from '../../lib/index.js';
import { memberEventsRoute } from '../../examples/cookbook/events-route.mjs';
import { connectCookbookGateway } from '../../examples/cookbook/gateway.mjs';
import { connectSse } from './sse.mjs';
import { uniqueId } from './spacetimedb.mjs';
import { appIssuer } from './topology.mjs';

/** The cookbook database: `{ url, db, ownerToken }`. */
export function cookbookEnv() {
  const url = process.env.SPACETIMEDB_URL;
  const db = process.env.SPACETIMEDB_COOKBOOK_DB;
  const ownerToken = process.env.SPACETIMEDB_COOKBOOK_OWNER_TOKEN;
  if (!url || !db || !ownerToken) {
    throw new Error('SPACETIMEDB_COOKBOOK_DB is not set: run the suite with `npm test` (scripts/test.sh publishes the cookbook module)');
  }
  return { url, db, ownerToken };
}

/** Resolves once `probe()` returns a truthy value (polling); rejects after `timeoutMs` naming `what`. */
export async function eventually(probe, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The world of one suite: the app's issuer and broker, the owner's connection (subscribed to the audit
 * trail, which only the owner sees whole), the app's trusted gateway, and `user(name)` to create linked
 * users. `close()` ends it all.
 */
export async function cookbookWorld({ gatewayOptions } = {}) {
  const { url, db, ownerToken } = cookbookEnv();
  const app = await appIssuer();
  const issuer = app.issuer.issuer;
  const owner = await Gateway.connect({ uri: url, database: db, token: ownerToken, subscriptions: ['SELECT * FROM audit_event'] });
  const gatewayId = uniqueId('gateway');
  const gatewayIdentity = app.broker.identityFor(`robot:${gatewayId}`);
  await owner.callReducer('trust_gateway', [gatewayIdentity, 'cookbook tests']);
  const gateway = await connectCookbookGateway({ uri: url, database: db, broker: app.broker, gatewayId, ...gatewayOptions });
  const world = {
    url,
    db,
    app,
    broker: app.broker,
    issuer,
    owner,
    gateway,
    gatewayIdentity,
    /** A user linked to its identity under the app issuer: `{ sub, identity, token() }`. */
    async user(name) {
      const sub = uniqueId(name);
      await gateway.callReducer('link_identity', [issuer, sub, sub]);
      return { sub, identity: app.broker.identityFor(sub), token: (claims = {}) => app.broker.mint({ sub, ...claims }) };
    },
    /** A fresh tenant owned by `user` (created over the user's own connection). */
    async tenant(user) {
      const id = uniqueId('t');
      await gateway.callReducer('create_tenant', [null, id, `Tenant ${id}`], { token: user.token() });
      await eventually(() => gateway.rows('role', { tenant_id: id }).length === 4, `the roles of ${id}`);
      return id;
    },
    /** The id of role `name` in `tenantId` (as the gateway sees it). */
    roleId(tenantId, name) {
      const role = gateway.rows('role', { tenant_id: tenantId }).find((r) => r.name === name);
      if (!role) throw new Error(`no role ${name} in ${tenantId}`);
      return role.id;
    },
    /** The audit rows of `tenantId` (as the owner sees them), oldest first. */
    audit(tenantId) {
      return owner.rows('audit_event', { tenant_id: tenantId }).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    },
    /**
     * The newest audit row of `tenantId` with `action`, once it has the fields of `expected`: the call
     * resolved when *its* connection saw the commit, and the owner's subscription may get the row a
     * moment later. After the deadline, the newest row as it is (the test's assertion then shows why).
     */
    async lastAudit(tenantId, action, expected = {}) {
      const newest = () => world.audit(tenantId).filter((a) => a.action === action).at(-1);
      const fits = (row) => row && Object.entries(expected).every(([k, v]) => JSON.stringify(row[k]) === JSON.stringify(v));
      return eventually(() => fits(newest()) && newest(), `an audit row ${action} in ${tenantId}`).catch(newest);
    },
    async close() {
      await gateway.close();
      await owner.close();
      await app.stop();
    },
  };
  return world;
}

/** An audit row reduced to who did what, for exact comparisons. */
export const who = (row) => ({
  actor: row.actor,
  effective_actor: row.effective_actor,
  via: row.via,
  key_id: row.key_id,
  impersonation_grant: row.impersonation_grant,
  gateway: row.gateway,
});

/**
 * Serves the cookbook's SSE route (examples/cookbook/events-route.mjs) on 127.0.0.1; the app's session
 * check is a bearer token verified by the app's broker. `open(user token, tenant, lastEventId?)` connects
 * a real SSE client.
 */
export async function serveEvents(gateway, broker) {
  const authenticate = (req) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    try {
      return token ? broker.verify(token) : null;
    } catch {
      return null;
    }
  };
  const server = http.createServer(memberEventsRoute(gateway, authenticate));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: (tenant) => `${base}/events?tenant=${encodeURIComponent(tenant)}`,
    async open(token, tenant, lastEventId) {
      return connectSse(`${base}/events?tenant=${encodeURIComponent(tenant)}`, { lastEventId, headers: { authorization: `Bearer ${token}` } }).opened;
    },
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}
