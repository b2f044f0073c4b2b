// Test helpers that talk to the real SpacetimeDB started by scripts/test.sh (over its plain HTTP API).

export function serverEnv() {
  const url = process.env.SPACETIMEDB_URL;
  const db = process.env.SPACETIMEDB_DB;
  if (!url || !db) {
    throw new Error('SPACETIMEDB_URL / SPACETIMEDB_DB are not set: run the suite with `npm test` (scripts/test.sh starts the server)');
  }
  return { url, db, ownerToken: process.env.SPACETIMEDB_OWNER_TOKEN, ownerIdentity: process.env.SPACETIMEDB_OWNER_IDENTITY };
}

/** A fresh identity on the server: `{ identity, token }`. */
export async function newIdentity() {
  const { url } = serverEnv();
  const r = await fetch(`${url}/v1/identity`, { method: 'POST' });
  if (!r.ok) throw new Error(`POST /v1/identity: HTTP ${r.status}`);
  return r.json();
}

/**
 * Calls a reducer over HTTP (on the reference module's database unless `db` names another); resolves
 * `{ status, text }` (200 = committed, 530 = reducer error).
 * `args` is an array/object (sent as JSON) or a string sent as the raw JSON body.
 */
export async function httpCall(reducer, args, token, db = serverEnv().db) {
  const { url } = serverEnv();
  const r = await fetch(`${url}/v1/database/${db}/call/${reducer}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof args === 'string' ? args : JSON.stringify(args),
  });
  return { status: r.status, text: await r.text() };
}

/** Runs SQL over HTTP (as the database owner by default; on the reference module's database unless
 * `db` names another); resolves the raw JSON text. */
export async function sqlText(query, token, db = serverEnv().db) {
  const { url, ownerToken } = serverEnv();
  const r = await fetch(`${url}/v1/database/${db}/sql`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token ?? ownerToken}` },
    body: query,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`SQL ${query}: HTTP ${r.status}: ${text}`);
  return text;
}

/** Runs SQL over HTTP; resolves the rows of the first statement as objects keyed by column name. */
export async function sql(query, token, db) {
  const [first] = JSON.parse(await sqlText(query, token, db));
  const names = first.schema.elements.map((e) => e.name?.some ?? null);
  return first.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i] ?? String(i), v])));
}

/** A unique id for test data, so suites and reruns never collide in the shared database. */
export function uniqueId(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
