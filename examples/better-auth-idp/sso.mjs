// Customer SSO into Better Auth organizations, and from there into the module's `membership`
// (docs/better-auth.md, "SSO with the customer's IdP"): an organization's admin registers the customer's
// own OpenID Provider (here Entra ID, one tenant) as the organization's provider; its users sign in
// through it and become members with a role. @better-auth/sso writes those members without the
// organization hooks, so `spacetime.ssoMembership()` carries them into SpacetimeDB after each SSO sign-in.
// __test__/better-auth-sso.test.mjs runs this file against a real SpacetimeDB and an Entra stand-in.
import { sso } from '@better-auth/sso';

/**
 * The plugins for customer SSO, after `organization({ organizationHooks: spacetime.organizationHooks })`.
 * `spacetime` is your `betterAuthGateway(…)`; `roleOf({ user, userInfo, token, provider })` names the
 * Better Auth role a signed-in user gets in the provider's organization (default `member`), e.g. from the
 * ID token's Entra app `roles`.
 */
export function customerSso({ spacetime, roleOf }) {
  return [
    sso({
      organizationProvisioning: { defaultRole: 'member', ...(roleOf ? { getRole: roleOf } : {}) },
      // An organization admin registers at most this many providers.
      providersLimit: 5,
    }),
    spacetime.ssoMembership(), // after sso(): its members reach the module
  ];
}

/**
 * An organization's admin (the session in `headers`) registers the customer's Entra tenant: its
 * tenant-specific issuer (tokens of other tenants carry another `iss` and are refused), the app
 * registration's client id and secret in that tenant, and the e-mail `domain` that finds the provider
 * at sign-in. The app's `trustedOrigins` must include the issuer's origin (`authority`) — Better Auth
 * fetches discovery only from trusted origins. Resolves Better Auth's provider, with the `redirectURI` to
 * enter in the app registration.
 */
export function registerEntraTenant(auth, { headers, organizationId, providerId, tenantId, domain, clientId, clientSecret, authority = 'https://login.microsoftonline.com' }) {
  return auth.api.registerSSOProvider({
    headers,
    body: {
      providerId,
      organizationId,
      domain,
      issuer: `${authority}/${tenantId}/v2.0`,
      oidcConfig: { clientId, clientSecret, pkce: true, scopes: ['openid', 'email', 'profile'] },
    },
  });
}
