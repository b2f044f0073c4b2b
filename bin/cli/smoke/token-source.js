'use strict';
// Where `smoke` gets its SpacetimeDB token: a key file (minted here, like the app's TokenBroker), a
// ready-made token (a robot credential), or a token endpoint of the app or issuer (fetched like the app's
// own clients would). Key files and endpoints can mint again, so they support token refresh.

const { TokenBroker } = require('../../../lib/index.js');
const { tokenOption } = require('../args.js');
const { readKey } = require('../keyfile.js');
const { environment, usage } = require('../output.js');

const ENDPOINT_TIMEOUT_MS = 10_000;

/** `Name: value` of `--token-header`. */
function header(text) {
  const colon = text.indexOf(':');
  if (colon <= 0) throw usage(`--token-header takes "Name: value", got ${JSON.stringify(text)}`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

/** Fetches a token from `url`: a JSON body `{ token }` (or `{ access_token }`), or the token as text. */
async function fetchToken(url, headers) {
  let response;
  try {
    response = await fetch(url, { method: 'POST', headers, signal: AbortSignal.timeout(ENDPOINT_TIMEOUT_MS) });
  } catch (e) {
    throw environment('TOKEN_ENDPOINT_UNREACHABLE', `cannot reach the token endpoint ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = (await response.text()).trim();
  if (!response.ok) throw environment('TOKEN_ENDPOINT_FAILED', `the token endpoint ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  let token = text;
  if (text.startsWith('{')) {
    const body = JSON.parse(text);
    token = body.token ?? body.access_token;
  }
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw environment('TOKEN_ENDPOINT_FAILED', `the token endpoint ${url} returned no JWT (expected {"token": "…"} or the token as text)`);
  }
  return token;
}

/**
 * The token source named by the options: `{ kind, describe, refreshable, token() }`. `ttlSeconds`
 * applies to minted tokens.
 */
function tokenSource(values, { ttlSeconds }) {
  const given = ['key', 'token', 'token-file', 'token-url'].filter((k) => values[k] !== undefined);
  if (given.length !== 1) {
    throw usage(`give one token source: --key FILE (with --issuer), --token JWT, --token-file FILE or --token-url URL${given.length ? ` (got ${given.map((k) => `--${k}`).join(', ')})` : ''}`);
  }
  if (values.key !== undefined) {
    if (!values.issuer) throw usage('--key needs --issuer: the issuer URL where SpacetimeDB finds the key (its JWKS)');
    const audience = values.audience?.length ? values.audience : ['spacetimedb'];
    const broker = new TokenBroker({ issuer: values.issuer, audience, keys: readKey(values.key) });
    const sub = values.sub ?? 'robot:smoke';
    return { kind: 'key', describe: `${sub} minted with ${values.key}`, refreshable: true, token: async () => broker.mint({ sub }, { ttlSeconds }) };
  }
  if (values['token-url'] !== undefined) {
    const headers = Object.fromEntries((values['token-header'] ?? []).map(header));
    const url = values['token-url'];
    return { kind: 'url', describe: `fetched from ${url}`, refreshable: true, token: () => fetchToken(url, headers) };
  }
  const token = tokenOption(values);
  return { kind: 'token', describe: 'the given token', refreshable: false, token: async () => token };
}

module.exports = { tokenSource };
