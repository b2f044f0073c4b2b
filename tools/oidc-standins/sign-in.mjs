// Signs a user in at an OpenID Provider without a browser: the real authorization-code flow with PKCE
// over plain HTTP — discovery, the authorization request, the provider's redirects (login interaction,
// resume), the code at the redirect URI, and the token request with the client's secret. Works against
// the stand-ins (tools/oidc-standins/server.mjs), whose login step accepts the user named by `login_hint`.

import { createHash, randomBytes } from 'node:crypto';

/** The most redirects one sign-in follows (authorize → interaction → resume → callback is 3). */
const MAX_REDIRECTS = 10;

/** How long one request of the flow may take: a provider that stops answering fails the sign-in with
 * the step named, instead of hanging the caller. */
const REQUEST_TIMEOUT_MS = 10_000;

/** `fetch` bounded by REQUEST_TIMEOUT_MS; a timeout or network failure names `step`. */
async function request(step, url, init = {}) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    const why = e.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : e.cause?.message ?? e.message;
    throw new Error(`${step} (${init.method ?? 'GET'} ${url}): ${why}`, { cause: e });
  }
}

/** Decodes a JWT's header and payload (no verification: the caller's verifier does that). */
export function decodeJwt(token) {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

/** A minimal cookie jar: one flow, one host, so names are enough (paths and expiry are the provider's). */
function cookieJar() {
  const cookies = new Map();
  return {
    store(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
    },
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
  };
}

async function discover(issuer) {
  const response = await request(`discovery at ${issuer}`, `${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${issuer} answered HTTP ${response.status}`);
  return response.json();
}

/**
 * Signs `username` in at `provider` (`{ issuer, clientId, clientSecret, redirectUri }`, as the stand-ins
 * describe themselves) and resolves `{ idToken, accessToken, header, claims }` — the ID token's decoded
 * header and payload, its `nonce` checked.
 */
export async function signIn(provider, username, { scope = 'openid email profile' } = {}) {
  const { issuer, clientId, clientSecret, redirectUri } = provider;
  const metadata = await discover(issuer);
  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(metadata.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    login_hint: username,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  const jar = cookieJar();
  let url = authorize.href;
  let callback;
  for (let hop = 0; hop < MAX_REDIRECTS && !callback; hop += 1) {
    const response = await request(`sign-in of ${username} at ${issuer}`, url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(response);
    const location = response.headers.get('location');
    // Read every body, so the connection goes back to the pool instead of waiting for the GC.
    const body = (await response.text()).replace(/\s+/g, ' ').slice(0, 300);
    if (!location) {
      throw new Error(`sign-in of ${username} at ${issuer}: HTTP ${response.status} at ${new URL(url).pathname} without a redirect: ${body}`);
    }
    const next = new URL(location, url);
    if (next.href.startsWith(redirectUri)) callback = next;
    else url = next.href;
  }
  if (!callback) throw new Error(`sign-in of ${username} at ${issuer}: more than ${MAX_REDIRECTS} redirects`);
  const error = callback.searchParams.get('error');
  if (error) throw new Error(`sign-in of ${username} at ${issuer} refused: ${error}: ${callback.searchParams.get('error_description')}`);
  if (callback.searchParams.get('state') !== state) throw new Error(`sign-in of ${username} at ${issuer}: the state came back altered`);

  const response = await request(`token request for ${username} at ${issuer}`, metadata.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier }),
  });
  const tokens = await response.json();
  if (!response.ok) throw new Error(`token request for ${username} at ${issuer}: HTTP ${response.status} ${JSON.stringify(tokens)}`);
  const { header, payload } = decodeJwt(tokens.id_token);
  if (payload.nonce !== nonce) throw new Error(`the ID token of ${username} at ${issuer} carries another nonce`);
  return { idToken: tokens.id_token, accessToken: tokens.access_token, header, claims: payload };
}
