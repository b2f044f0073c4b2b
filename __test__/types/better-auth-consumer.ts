// A real Better Auth instance (organization + apiKey plugins, as the example app has them) fits
// betterAuthGateway's `auth` as it is: Better Auth types its endpoints as overloads, which an exact
// result type in BetterAuthLike would not match. And scimProjection fits @better-auth/scim's `projection`,
// ssoMembership() fits `betterAuth({ plugins })` beside @better-auth/sso.
import type { apiKey } from '@better-auth/api-key';
import { scim } from '@better-auth/scim';
import { sso } from '@better-auth/sso';
import { betterAuth } from 'better-auth';
import type { organization } from 'better-auth/plugins';
import type { Gateway, TokenBroker } from 'spacetime-gateway';
import { betterAuthGateway } from 'spacetime-gateway/better-auth';

type RealAuth = ReturnType<typeof betterAuth<{ plugins: [ReturnType<typeof organization>, ReturnType<typeof apiKey>] }>>;

export async function realBetterAuth(auth: RealAuth, gateway: Gateway, broker: TokenBroker): Promise<string> {
  const spacetime = betterAuthGateway({ auth: () => Promise.resolve(auth), gateway: () => gateway, broker });
  return (await spacetime.apiKeyToken({ key: 'k' })).token;
}

export function scimPlugin(spacetime: ReturnType<typeof betterAuthGateway>) {
  return scim({
    connections: [],
    managedConnections: { credentialHashSecret: 'a credential hash secret of at least 32 characters' },
    projection: spacetime.scimProjection({ roleOfGroup: (group, { organizationId }) => (group.externalId === `${organizationId}-admins` ? 'admin' : undefined) }),
  });
}

export function ssoAuth(spacetime: ReturnType<typeof betterAuthGateway>) {
  return betterAuth({ plugins: [sso({ organizationProvisioning: { defaultRole: 'member' } }), spacetime.ssoMembership()] });
}
