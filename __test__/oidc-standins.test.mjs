// The stand-in enterprise identity providers (tools/oidc-standins: real `oidc-provider` instances shaped
// like Keycloak, Entra ID, Google Workspace and a WorkOS-style broker): their ID tokens, obtained by the
// authorization-code flow over HTTP, carry the claim shapes they claim, and the real SpacetimeDB 1.3.0
// accepts them by OIDC discovery, deriving the Identity from `iss` and `sub`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, TokenVerifier, deriveIdentity } from '../lib/index.js';
import { issuerOptions, startStandIns, verifierFor } from './helpers/oidc.mjs';
import { serverEnv } from './helpers/spacetimedb.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';

let idp; // the stand-ins
const tokens = {}; // provider → the first user's sign-in

beforeAll(async () => {
  idp = await startStandIns();
  for (const [name, provider] of Object.entries(idp.providers)) tokens[name] = await idp.signIn(name, provider.users[0]);
});

afterAll(async () => {
  await idp?.stop();
});

describe('each stand-in publishes discovery and a JWKS SpacetimeDB can use', () => {
  it.each(['keycloak', 'entra', 'google', 'workos'])('%s: discovery names its issuer, one algorithm and a JWKS whose keys all have a kid', async (name) => {
    const provider = idp.providers[name];
    const discovery = await (await fetch(provider.discoveryUrl)).json();
    expect(discovery.issuer).toBe(provider.issuer);
    expect(discovery.jwks_uri.startsWith(`${provider.issuer}/`)).toBe(true);
    expect(discovery.id_token_signing_alg_values_supported).toEqual([provider.alg]);
    const { keys } = await (await fetch(discovery.jwks_uri)).json();
    expect(keys.map((k) => [k.kty, k.alg, typeof k.kid])).toEqual([[provider.alg === 'ES256' ? 'EC' : 'RSA', provider.alg, 'string']]);
    expect(keys[0]).not.toHaveProperty('d');
    expect(tokens[name].header).toEqual({ alg: provider.alg, kid: keys[0].kid });
  });
});

describe('claim shapes', () => {
  it('Keycloak: realm issuer, a UUID sub, preferred_username and email, RS256', () => {
    const { claims } = tokens.keycloak;
    expect(claims.iss).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/realms\/acme$/);
    expect(claims.sub).toMatch(UUID);
    expect(claims).toMatchObject({ aud: 'spacetime-app', preferred_username: 'alice', email: 'alice@acme.example', email_verified: true, name: 'Alice Archer' });
  });

  it('Entra ID: tenant issuer …/<tid>/v2.0, tid, oid, ver 2.0, and a pairwise sub that is not the oid', () => {
    const { claims } = tokens.entra;
    const { tenantId, clientId } = idp.providers.entra;
    expect(claims.iss).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${tenantId}/v2\\.0$`));
    expect(claims).toMatchObject({ tid: tenantId, ver: '2.0', aud: clientId, preferred_username: 'alice@contoso.example' });
    expect(claims.oid).toMatch(UUID);
    expect(claims.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(claims.sub).not.toBe(claims.oid);
  });

  it('Entra ID: the same user gets the same sub on every sign-in (pairwise per application, stable)', async () => {
    const again = await idp.signIn('entra', 'alice');
    expect(again.claims.sub).toBe(tokens.entra.claims.sub);
    const carol = await idp.signIn('entra', 'carol');
    expect(carol.claims.sub).not.toBe(tokens.entra.claims.sub);
    expect(carol.claims.tid).toBe(tokens.entra.claims.tid);
  });

  it('Google Workspace: root issuer, a numeric sub, hd the Workspace domain', () => {
    const { claims } = tokens.google;
    expect(claims.iss).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(claims.sub).toMatch(/^\d{1,21}$/);
    expect(claims).toMatchObject({ hd: 'example.org', email: 'alice@example.org', email_verified: true });
  });

  it('WorkOS-style broker: user_<ULID> sub, org_id, role and permissions, ES256', () => {
    const { claims } = tokens.workos;
    expect(claims.iss).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/user_management/${idp.providers.workos.clientId}$`));
    expect(claims.sub).toMatch(new RegExp(`^user_${ULID}$`));
    expect(claims.org_id).toMatch(new RegExp(`^org_${ULID}$`));
    expect(claims).toMatchObject({ role: 'admin', permissions: ['documents:read', 'documents:write', 'members:manage'] });
  });

  it('an unknown user is refused by the provider, naming the known ones', async () => {
    await expect(idp.signIn('keycloak', 'mallory')).rejects.toThrow(/access_denied: no user "mallory" in the keycloak stand-in \(login_hint one of: alice, bob\)/);
  });
});

describe('SpacetimeDB 1.3.0 accepts their ID tokens', () => {
  it.each(['keycloak', 'entra', 'google', 'workos'])('%s: a websocket connection gets Identity = deriveIdentity(iss, sub)', async (name) => {
    const { idToken, claims } = tokens[name];
    const { url, db } = serverEnv();
    const gateway = await Gateway.connect({ uri: url, database: db, token: idToken });
    try {
      expect(gateway.identity).toBe(deriveIdentity(claims.iss, claims.sub));
    } finally {
      await gateway.close();
    }
    const verify = await fetch(`${url}/v1/identity/${gateway.identity}/verify`, { headers: { authorization: `Bearer ${idToken}` } });
    expect(verify.status).toBe(204);
  });
});

describe('one verifier for all four issuers', () => {
  it('verifies each provider\'s token with that provider\'s keys, audience and algorithm', async () => {
    const all = verifierFor(Object.values(idp.providers));
    expect(all.issuers).toEqual(Object.values(idp.providers).map((p) => p.issuer));
    for (const [name, { idToken, claims }] of Object.entries(tokens)) {
      const payload = await all.verify(idToken);
      expect(payload.sub, name).toBe(claims.sub);
    }
  });

  it('a token of a provider it does not trust is refused, naming that issuer', async () => {
    const { keycloak, entra, google } = idp.providers;
    const two = verifierFor([keycloak, entra]);
    const err = await two.verify(tokens.google.idToken).catch((e) => e);
    expect(err.code).toBe('TOKEN_ISSUER_UNTRUSTED');
    expect(err.message).toBe(`the token's issuer \`${google.issuer}\` is not trusted; trusted issuers: \`${keycloak.issuer}\`, \`${entra.issuer}\``);
  });

  it('algorithms are pinned per issuer: RS256, allowed for Google, is refused for a Keycloak entry that allows ES256 only', async () => {
    const { keycloak } = idp.providers;
    // Keycloak's entry allows only ES256 here; its RS256 token is refused although another issuer of
    // the same verifier accepts RS256.
    const verifier = new TokenVerifier({ issuers: [{ ...issuerOptions(keycloak), algorithms: ['ES256'] }, issuerOptions(idp.providers.google)] });
    await expect(verifier.verify(tokens.keycloak.idToken)).rejects.toMatchObject({ code: 'TOKEN_ALG_REJECTED' });
    await expect(verifier.verify(tokens.google.idToken)).resolves.toMatchObject({ sub: tokens.google.claims.sub });
  });
});
