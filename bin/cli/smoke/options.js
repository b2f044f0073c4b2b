'use strict';
// `smoke` options → a plan: where to connect, what to subscribe and stream, which reducer to call, and
// what the SSE event must look like. Placeholders in arguments and expectations: `{run}` (this run's
// random id) and `{marker}` (unique per call: `smoke-<run>-<n>`), so the call's event can be recognised.

const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { parse, wholeNumber } = require('../args.js');
const { environment, usage } = require('../output.js');

const OPTIONS = {
  url: { type: 'string' },
  database: { type: 'string' },
  key: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string', multiple: true },
  sub: { type: 'string' },
  ttl: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'token-url': { type: 'string' },
  'token-header': { type: 'string', multiple: true },
  subscribe: { type: 'string', multiple: true },
  table: { type: 'string', multiple: true },
  tenant: { type: 'string' },
  'all-tenants': { type: 'boolean' },
  'tenant-column': { type: 'string' },
  'schema-version': { type: 'string' },
  setup: { type: 'string', multiple: true },
  call: { type: 'string' },
  actor: { type: 'string' },
  'expect-event': { type: 'string' },
  'expect-tenant': { type: 'string' },
  'expect-schema-version': { type: 'string' },
  'expect-payload': { type: 'string' },
  expect: { type: 'string' },
  simulate: { type: 'string' },
  'simulate-calls': { type: 'string' },
  timeout: { type: 'string' },
  progress: { type: 'boolean' },
};

const SIMULATIONS = ['expiry', 'disconnect'];

function json(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usage(`${what} is not JSON: ${e.message}`);
  }
}

/** `REDUCER JSON-ARGS` (args default `[]`). */
function reducerCall(text, what) {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/s.exec(text);
  if (!m) throw usage(`${what} takes "REDUCER [JSON arguments]", got ${JSON.stringify(text)}`);
  const args = m[2] === '' ? [] : json(m[2], `the arguments of ${what} ${m[1]}`);
  if (args === null || typeof args !== 'object') throw usage(`the arguments of ${what} ${m[1]} must be a JSON array or object`);
  return { reducer: m[1], args };
}

/** `value` with `{run}` and `{marker}` replaced in every string. */
function fill(value, run, marker) {
  if (typeof value === 'string') return value.replaceAll('{run}', run).replaceAll('{marker}', marker);
  if (Array.isArray(value)) return value.map((v) => fill(v, run, marker));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, run, marker)]));
  return value;
}

const mentionsMarker = (value) => JSON.stringify(value).includes('{marker}');

/** The expectations: `--expect FILE`, overridden by the `--expect-*` flags. */
function expectations(values) {
  let expect = {};
  if (values.expect !== undefined) {
    let text;
    try {
      text = readFileSync(values.expect, 'utf8');
    } catch (e) {
      throw environment('FILE_UNREADABLE', `cannot read ${values.expect}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
    expect = json(text, `--expect ${values.expect}`);
    if (expect === null || typeof expect !== 'object' || Array.isArray(expect)) throw usage('--expect must hold a JSON object');
    const unknown = Object.keys(expect).filter((k) => !['event', 'tenant_id', 'schema_version', 'payload'].includes(k));
    if (unknown.length) throw usage(`--expect: unknown key ${unknown[0]} (known: event, tenant_id, schema_version, payload)`);
  }
  if (values['expect-event'] !== undefined) expect.event = values['expect-event'];
  if (values['expect-tenant'] !== undefined) expect.tenant_id = values['expect-tenant'];
  if (values['expect-schema-version'] !== undefined) expect.schema_version = wholeNumber('expect-schema-version', values['expect-schema-version']);
  if (values['expect-payload'] !== undefined) expect.payload = json(values['expect-payload'], '--expect-payload');
  return expect;
}

/** Parses and checks the options; returns the plan (usage errors name the option). */
function smokePlan(argv) {
  const { values, positionals } = parse(argv, OPTIONS);
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  for (const required of ['url', 'database', 'call']) {
    if (!values[required]) throw usage(`--${required} is required (see spacetime-gateway smoke --help)`);
  }
  if (!/^(wss?|https?):\/\//.test(values.url)) throw usage(`--url must be an http(s):// or ws(s):// URL, got ${values.url}`);
  if (values.tenant === undefined && !values['all-tenants']) throw usage('give --tenant ID (the tenant the stream is for) or --all-tenants');
  if (values.tenant !== undefined && values['all-tenants']) throw usage('give either --tenant or --all-tenants, not both');
  const tables = values.table ?? [];
  const subscriptions = values.subscribe ?? tables.map((t) => `SELECT * FROM ${t}`);
  if (subscriptions.length === 0) throw usage('name what to subscribe: --subscribe SQL or --table NAME (repeatable)');
  const simulate = values.simulate;
  if (simulate !== undefined && !SIMULATIONS.includes(simulate)) throw usage(`--simulate takes ${SIMULATIONS.join(' or ')}, got ${simulate}`);
  const call = reducerCall(values.call, '--call');
  if (simulate && !mentionsMarker(call.args)) throw usage('--simulate needs {marker} in the --call arguments, to tell each call’s event apart');
  const timeoutMs = wholeNumber('timeout', values.timeout) ?? 10_000;
  if (timeoutMs < 100) throw usage('--timeout must be at least 100 ms');
  const run = randomBytes(4).toString('hex');
  const schemaVersion = wholeNumber('schema-version', values['schema-version']) ?? 1;
  const actor = values.actor === undefined ? undefined : values.actor.trim().startsWith('{') ? json(values.actor, '--actor') : values.actor;
  const expect = expectations(values);
  expect.schema_version ??= schemaVersion;
  if (values.tenant !== undefined) expect.tenant_id ??= values.tenant;
  return {
    values,
    run,
    url: values.url,
    database: values.database,
    ttlSeconds: wholeNumber('ttl', values.ttl) ?? (simulate === 'expiry' ? 6 : 300),
    subscriptions: fill(subscriptions, run, ''),
    stream: {
      ...(values.tenant !== undefined ? { tenantId: fill(values.tenant, run, '') } : { allTenants: true }),
      ...(tables.length ? { tables } : {}),
      schemaVersion,
    },
    tenantColumn: values['tenant-column'],
    setup: (values.setup ?? []).map((s) => reducerCall(s, '--setup')),
    call,
    actor,
    expect,
    marks: mentionsMarker(call.args),
    simulate,
    simulateCalls: wholeNumber('simulate-calls', values['simulate-calls']) ?? 6,
    timeoutMs,
    fill: (value, n) => fill(value, run, `smoke-${run}-${n}`),
    marker: (n) => `smoke-${run}-${n}`,
  };
}

module.exports = { smokePlan };
