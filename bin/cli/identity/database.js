'use strict';
// The database side of `identity migrate` and `identity retire-check`: the module's links read with
// SpacetimeDB's HTTP SQL route and written through its reducer over the HTTP call route, as the database
// owner. Plain HTTP rather than a gateway connection: a one-shot command needs one snapshot of a few
// rows, not a subscription, and `identity_link` / `actor_identity_map` are private tables that only the
// owner can read — SQL says so plainly ("not a valid table"), a subscription would just see nothing.

const { tokenOption } = require('../args.js');
const { CliError, EXIT, environment, usage } = require('../output.js');

const TIMEOUT_MS = 10_000;

/** The parseArgs options naming the database and the owner's token. */
const DATABASE_OPTIONS = {
  url: { type: 'string' },
  database: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
};

/** `{ url, name, token }` from the options, or null when none is given (`required`: a usage error). */
function databaseOf(values, { required }) {
  const given = ['url', 'database', 'token', 'token-file'].filter((k) => values[k] !== undefined);
  if (!given.length && !required) return null;
  if (!values.url || !values.database || (values.token === undefined) === (values['token-file'] === undefined)) {
    throw usage('the database needs --url URL, --database NAME and the owner\'s token (--token JWT or --token-file FILE)');
  }
  if (!/^https?:\/\//.test(values.url)) throw usage(`--url must be an http(s):// URL, got ${values.url}`);
  return { url: values.url.replace(/\/+$/, ''), name: values.database, token: tokenOption(values) };
}

async function post(db, path, body, contentType) {
  const url = `${db.url}/v1/database/${encodeURIComponent(db.name)}/${path}`;
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${db.token}`, 'Content-Type': contentType },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { status: r.status, text: await r.text() };
  } catch (e) {
    throw environment('SERVER_UNREACHABLE', `cannot reach ${db.url}: ${e.cause?.message ?? e.message}`);
  }
}

/** A string as a SQL literal. */
const literal = (value) => `'${value.replaceAll("'", "''")}'`;

/** Runs one SQL query; resolves its rows as objects keyed by column name. */
async function sqlRows(db, query) {
  const { status, text } = await post(db, 'sql', query, 'text/plain');
  if (status === 400 && /is not a valid table/.test(text)) {
    throw environment('NOT_OWNER', `${text.trim()}: the module's link tables are private, so the token must be the database owner's`);
  }
  if (status === 404) throw environment('NO_DATABASE', `no database ${db.name} on ${db.url}`);
  if (status !== 200) throw environment('SQL_FAILED', `SQL on ${db.name} answered HTTP ${status}: ${text.slice(0, 300)}`);
  const [first] = JSON.parse(text);
  const names = first.schema.elements.map((e) => e.name?.some);
  return first.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i], v])));
}

/** SQL's JSON of an Identity (`["0x…"]`) as 64 hex digits; of a Timestamp (`[micros]`) as a Date. */
const hexOf = (value) => value[0].replace(/^0x/, '').padStart(64, '0');
const dateOf = (value) => new Date(Number(value[0]) / 1000);
/** `Option<T>` in SQL's JSON: `[0, value]` (some) or `[1, []]` (none). */
const optional = (value, of) => (value[0] === 0 ? of(value[1]) : null);

/** The `identity_link` rows of `issuers`: `[{ identity, issuer, subject, actor, linkedAt, lastSeenAt }]`. */
async function readLinks(db, issuers) {
  const where = issuers.map((i) => `issuer = ${literal(i)}`).join(' OR ');
  const rows = await sqlRows(db, `SELECT * FROM identity_link WHERE ${where}`);
  return rows.map((r) => ({
    identity: hexOf(r.identity),
    issuer: r.issuer,
    subject: r.subject,
    actor: r.actor,
    linkedAt: dateOf(r.linked_at),
    lastSeenAt: optional(r.last_seen_at, dateOf),
  }));
}

/** The app actors the module knows (`actor_identity_map`): actor id → active. */
async function readActors(db) {
  const rows = await sqlRows(db, 'SELECT actor, active FROM actor_identity_map');
  return new Map(rows.map((r) => [r.actor, r.active]));
}

/** Calls a reducer; throws a CliError (exit 1) with the module's message when it refuses. */
async function callReducer(db, reducer, args) {
  const { status, text } = await post(db, `call/${reducer}`, JSON.stringify(args), 'application/json');
  if (status === 200) return;
  if (status === 530) throw new CliError(EXIT.PROBLEMS, 'REDUCER_FAILED', `${reducer} refused: ${text.trim()}`);
  throw environment('CALL_FAILED', `${reducer} answered HTTP ${status}: ${text.slice(0, 300)}`);
}

module.exports = { DATABASE_OPTIONS, databaseOf, readLinks, readActors, callReducer };
