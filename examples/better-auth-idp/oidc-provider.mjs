// Better Auth as the OIDC provider whose access tokens SpacetimeDB validates itself (docs/better-auth.md,
// "Better Auth as the OIDC provider"): the `jwt` plugin signs ES256 and publishes its keys, and
// `@better-auth/oauth-provider` issues the tokens. __test__/better-auth-oidc.test.mjs runs this file
// against a real SpacetimeDB.
import { oauthProvider } from '@better-auth/oauth-provider';
import { jwt } from 'better-auth/plugins';

/**
 * The two plugins, for `betterAuth({ baseURL, plugins: [...spacetimeOidcProvider({ issuer, resource })] })`
 * with Better Auth mounted under `/api/auth`:
 * - `issuer`: `<baseURL>/api/auth`, exactly (no trailing `/`). Every Identity derives from this string;
 *   SpacetimeDB fetches `<issuer>/.well-known/openid-configuration` and the `jwks_uri` it names.
 * - `resource`: what clients request as RFC 8707 `resource` (an absolute URI, e.g. your SpacetimeDB URL).
 *   Only a request naming it gets a JWT (its `aud`); without it the provider issues opaque tokens.
 */
export function spacetimeOidcProvider({ issuer, resource, accessTokenTtlSeconds = 300, loginPage = '/sign-in', consentPage = '/consent' }) {
  return [
    jwt({
      // SpacetimeDB verifies ES256 and RS256 only (Better Auth's default is EdDSA), and needs a `kid` on
      // every key (the plugin sets one). The JWKS next to discovery: <issuer>/.well-known/jwks.json.
      jwks: { keyPairConfig: { alg: 'ES256' }, jwksPath: '/.well-known/jwks.json' },
      // The session JWTs of the plugin's own /api/auth/token get the same issuer and audience.
      jwt: { issuer, audience: resource, expirationTime: `${accessTokenTtlSeconds}s` },
      // Sessions stay cookies: no JWT in the `set-auth-jwt` header of every response.
      disableSettingJwtHeader: true,
    }),
    oauthProvider({
      loginPage,
      consentPage,
      // SpacetimeDB checks a token only when a connection or request starts: keep access tokens short.
      resources: [{ identifier: resource, accessTokenTtl: accessTokenTtlSeconds }],
      accessTokenExpiresIn: accessTokenTtlSeconds,
      // Only clients linked to the resource (registerSpacetimeClient below) may request it.
      enforcePerClientResources: true,
    }),
  ];
}

/**
 * Registers an OAuth client that may request `resource`: a public client (PKCE, no secret) such as a CLI
 * or desktop app receiving the code on a loopback `redirectUri`. `headers` carry the session of the admin
 * registering it. Resolves Better Auth's client record (`client_id`, …).
 */
export async function registerSpacetimeClient(auth, { headers, name, redirectUri, resource }) {
  const client = await auth.api.adminCreateOAuthClient({
    headers,
    body: { client_name: name, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', application_type: 'native' },
  });
  await auth.api.adminLinkClientResource({ headers, params: { identifier: resource, client_id: client.client_id } });
  return client;
}
