// Runs the stand-in identity providers: one `oidc-provider` (a certified OpenID Provider) per shape,
// each on its own 127.0.0.1 port, with real discovery, a JWKS with `kid`s, and the authorization-code
// flow. Sign-in needs no browser: the login step accepts the user named by `login_hint` (these are test
// stand-ins; there are no passwords), and consent is implied for the stand-in's one client.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';
import { DEFAULT_NAMES, REDIRECT_URI, SHAPES, pairwiseSubject } from './shapes.mjs';

/** ID token lifetime: as long as Keycloak's default access token would be short, long enough for a test. */
const ID_TOKEN_TTL_SECONDS = 600;

/** A private signing JWK for `alg`, with a `kid` (SpacetimeDB refuses a JWKS key without one). */
function signingJwk(alg, name) {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `${name}-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
}

/** The oidc-provider configuration of one shape. */
function configuration(shape, { clientSecret, salt, interactionPath, redirectUris }) {
  const accounts = new Map(shape.users.map((u) => [u.accountId, u]));
  return {
    clients: [
      {
        client_id: shape.clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: shape.alg,
        ...(shape.pairwise ? { subject_type: 'pairwise' } : {}),
      },
    ],
    jwks: { keys: [signingJwk(shape.alg, shape.name)] },
    enabledJwaAlgorithms: { idTokenSigningAlgValues: [shape.alg] },
    subjectTypes: shape.pairwise ? ['public', 'pairwise'] : ['public'],
    pairwiseIdentifier: async (ctx, accountId, client) => pairwiseSubject(accountId, client.clientId, salt),
    claims: { ...shape.scopes, openid: ['sub', ...shape.scopes.openid] },
    // The claims of the granted scopes go into the ID token itself (as Keycloak, Entra and Google do),
    // not only to the userinfo endpoint.
    conformIdTokenClaims: false,
    async findAccount(ctx, id) {
      const user = accounts.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...shape.claims(user) }) };
    },
    // Consent is implied: the stand-in's single client is first-party.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (!oidc.session.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(oidc.params.scope ?? 'openid');
      await grant.save();
      oidc.session.grantIdFor(oidc.client.clientId, grant.jti);
      return grant;
    },
    interactions: { url: async (ctx, interaction) => `${interactionPath}/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    ttl: { IdToken: ID_TOKEN_TTL_SECONDS, AccessToken: ID_TOKEN_TTL_SECONDS, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
    cookies: { keys: [randomBytes(32).toString('hex')] },
  };
}

/** The login step: the user named by `login_hint`, or the OAuth error `access_denied` naming the problem. */
async function interaction(provider, shape, req, res) {
  const { prompt, params } = await provider.interactionDetails(req, res);
  if (prompt.name !== 'login') {
    // Consent is implied by loadExistingGrant; any other prompt means the request asked for more.
    const result = { error: 'access_denied', error_description: `the stand-in answers only the login prompt, not ${prompt.name}` };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  const user = shape.users.find((u) => u.username === params.login_hint);
  if (!user) {
    const known = shape.users.map((u) => u.username).join(', ');
    const result = { error: 'access_denied', error_description: `no user ${JSON.stringify(params.login_hint ?? null)} in the ${shape.name} stand-in (login_hint one of: ${known})` };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  return provider.interactionFinished(req, res, { login: { accountId: user.accountId } }, { mergeWithLastSubmission: false });
}

/**
 * Starts one stand-in on `host:port` (0: any free port). Its client accepts `redirectUris` (default the
 * never-contacted REDIRECT_URI; an app's callbacks, e.g. Better Auth SSO's, as a customer's admin would
 * register them — on one host: pairwise subjects allow one sector without a sector_identifier_uri).
 * Resolves `{ name, issuer, …, redirectUri (the first), stop() }`.
 */
export async function startProvider(shape, { host = '127.0.0.1', port = 0, redirectUris = [REDIRECT_URI] } = {}) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const base = `http://${host}:${server.address().port}`;
  const issuer = `${base}${shape.path}`;
  const interactionPath = `${shape.path}/interaction`;
  const clientSecret = randomBytes(24).toString('base64url');
  const provider = new Provider(issuer, configuration(shape, { clientSecret, salt: randomBytes(16).toString('hex'), interactionPath, redirectUris }));
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const path = req.url.split('?')[0];
    if (path.startsWith(`${interactionPath}/`)) {
      interaction(provider, shape, req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${e.message}\n`);
      });
      return;
    }
    if (shape.path && !(path === shape.path || path.startsWith(`${shape.path}/`))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    // Mounted under the issuer's path, as an Express `app.use(path, provider.callback())` would be.
    req.originalUrl = req.url;
    req.url = req.url.slice(shape.path.length) || '/';
    handle(req, res);
  });
  return {
    name: shape.name,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    alg: shape.alg,
    clientId: shape.clientId,
    clientSecret,
    redirectUri: redirectUris[0],
    redirectUris,
    users: shape.users.map((u) => u.username),
    ...(shape.tenantId ? { tenantId: shape.tenantId } : {}),
    stop: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * Starts the named stand-ins (default: the four of DEFAULT_NAMES), each on its own port (`ports[name]`,
 * default any free one), their clients accepting `redirectUris` (see startProvider). Resolves
 * `{ providers: { name: {...} }, stop() }`.
 */
export async function startStandIns({ names = DEFAULT_NAMES, host = '127.0.0.1', ports = {}, redirectUris } = {}) {
  const providers = {};
  try {
    for (const name of names) {
      const shape = SHAPES[name];
      if (!shape) throw new Error(`no stand-in named ${JSON.stringify(name)} (known: ${Object.keys(SHAPES).join(', ')})`);
      providers[name] = await startProvider(shape, { host, port: ports[name] ?? 0, redirectUris });
    }
  } catch (e) {
    await Promise.all(Object.values(providers).map((p) => p.stop()));
    throw e;
  }
  return { providers, stop: () => Promise.all(Object.values(providers).map((p) => p.stop())).then(() => undefined) };
}
