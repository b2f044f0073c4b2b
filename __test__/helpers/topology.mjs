// Helpers of the actor-attribution suites: an app issuer SpacetimeDB accepts (served on 127.0.0.1 by the
// CLI), its broker, the module's owner-only setup calls, and reading who did what back over SQL.

import { TokenBroker, generateKeyPair } from '../../lib/index.js';
import { startIssuer } from './auth.mjs';
import { httpCall, serverEnv, sql } from './spacetimedb.mjs';

export const AUDIENCE = 'spacetimedb';

/** Starts an issuer and a broker for it: `{ issuer, broker, stop }`. */
export async function appIssuer() {
  const key = generateKeyPair({ alg: 'ES256' });
  const issuer = await startIssuer([key], { path: '/api/auth' });
  const broker = new TokenBroker({ issuer: issuer.issuer, audience: AUDIENCE, keys: key, ttlSeconds: 900 });
  return { issuer, broker, key, stop: () => issuer.stop() };
}

/** An Identity as a reducer argument in SpacetimeDB's own JSON (for the raw HTTP helper). */
export const satsIdentity = (hex) => ({ __identity__: `0x${hex}` });

/** Calls an owner-only reducer over HTTP as the database owner; throws unless it committed. */
export async function asOwner(reducer, args) {
  const r = await httpCall(reducer, args, serverEnv().ownerToken);
  if (r.status !== 200) throw new Error(`${reducer} as owner: HTTP ${r.status} ${r.text}`);
}

/** An Identity column as SQL returns it (`["0x…"]` in module tables, `"0x…"` in system tables), as the
 * gateway's 64 hex digits. */
export const identityOf = (sqlValue) => (Array.isArray(sqlValue) ? sqlValue[0] : sqlValue).replace(/^0x/, '').padStart(64, '0');

/** An `Option<Identity>` column as SQL returns it (`[0, ["0x…"]]` or `[1, []]`): hex or null. */
export const optionalIdentityOf = (sqlValue) => (sqlValue[0] === 0 ? identityOf(sqlValue[1]) : null);

/** The document titled `title` in `tenant` and its `document.create` audit row, both read over SQL. */
export async function documentAndAudit(tenant, title) {
  const docs = await sql(`SELECT * FROM document WHERE tenant_id = '${tenant}'`);
  const doc = docs.find((d) => d.title === title);
  if (!doc) throw new Error(`no document '${title}' in tenant ${tenant}`);
  const audits = await sql(`SELECT * FROM audit_event WHERE tenant_id = '${tenant}'`);
  const audit = audits.find((a) => a.action === 'document.create' && a.subject === String(doc.id));
  return { owner: identityOf(doc.owner), actor: identityOf(audit.actor), via: optionalIdentityOf(audit.via) };
}

/** The connection ids SpacetimeDB lists for `identity` (its `st_client` system table). */
export async function serverConnections(identity) {
  const rows = await sql('SELECT * FROM st_client');
  return rows.filter((r) => identityOf(r.identity) === identity);
}
