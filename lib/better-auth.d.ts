// `spacetime-gateway/better-auth`: Better Auth sessions, organizations and API keys → SpacetimeDB tokens
// and memberships. See docs/better-auth.md. No Better Auth type is imported: the shapes below are what
// this module uses of a Better Auth instance (1.7), so any instance with those plugins fits.
import type { Gateway, GatewayError } from './index.js';
import type { TokenBroker } from './auth.js';

/** The module's roles (the reference module's `Role` enum). */
export type ModuleRole = 'Owner' | 'Admin' | 'Member' | 'Viewer';

/** The parts of a Better Auth instance this module uses (`organization` plugin; `apiKey` for API keys). */
export interface BetterAuthLike {
  api: {
    getSession(input: { headers: Headers }): Promise<{ user: { id: string }; session: { id: string; activeOrganizationId?: string | null } } | null>;
    // Better Auth types its endpoints as overloads (a `Response` with `asResponse: true`), which no exact
    // result type here would match: the result is read as `{ valid, error, key }` at run time.
    verifyApiKey?(input: { body: { key: string } }): Promise<any>;
  };
  $context: Promise<{ adapter: { findOne(input: { model: string; where: { field: string; value: unknown }[] }): Promise<any> } }>;
}

export interface BetterAuthGatewayOptions {
  /** The Better Auth instance, or a function returning it (hooks are set up before the instance exists). */
  auth: BetterAuthLike | (() => BetterAuthLike | Promise<BetterAuthLike>);
  /** The service gateway: trusted by the module (`trust_gateway`), subscribed to `membership`. */
  gateway: Gateway | (() => Gateway | Promise<Gateway>);
  /** Mints the tokens; its issuer must be served so SpacetimeDB can validate them. */
  broker: TokenBroker;
  /** Token lifetime in seconds (default: the broker's). */
  ttlSeconds?: number;
  /** Better Auth role (`owner`, `admin`, `member`, custom, comma-separated) → module role. Default: the
   * highest of owner/admin/member named, else `Viewer`. */
  roleOf?: (role: string) => ModuleRole;
  /** The module role of an organization's API key (its robot). Default `Member`. */
  robotRole?: ModuleRole;
  /** Reducer names, if your module names them otherwise. */
  reducers?: { syncTenant?: string; syncMember?: string; removeMember?: string };
}

/** Who a verified request is, in one organization. */
export interface Authorization {
  userId: string;
  sessionId: string;
  organizationId: string;
  /** Better Auth's member id (the token's `actor_ref`). */
  memberId: string;
  /** Better Auth's role string. */
  role: string;
  /** The user's SpacetimeDB identity under the broker's issuer. */
  identity: string;
  /** For `gateway.stream({ principal })`, so `revoke({ sub })` finds the stream. */
  principal: { sub: string; sid: string };
}

export interface SessionToken extends Authorization {
  /** The SpacetimeDB access token. */
  token: string;
  /** The module's membership row id the token was minted against (its `membership_version`). */
  membershipVersion: number;
}

export interface ApiKeyToken {
  token: string;
  /** `robot`: an organization's key acting as itself; `delegated`: a user's key acting for the user. */
  kind: 'robot' | 'delegated';
  /** The token's `sub`: `robot:<keyId>`, or the user id. */
  sub: string;
  /** `robot:<keyId>` (the token's `act.sub` when delegated). */
  actor: string;
  keyId: string;
  organizationId: string;
  /** The SpacetimeDB identity of `sub`. */
  identity: string;
  membershipVersion: number;
}

/** Better Auth hooks, for `organization({ organizationHooks })`. */
export interface SpacetimeOrganizationHooks {
  afterCreateOrganization(data: { organization: { id: string; name?: string }; member: { userId: string; role: string } }): Promise<void>;
  afterAddMember(data: { organization: { id: string; name?: string }; member: { userId: string; role: string } }): Promise<void>;
  afterAcceptInvitation(data: { organization: { id: string; name?: string }; member: { userId: string; role: string } }): Promise<void>;
  afterUpdateMemberRole(data: { organization: { id: string; name?: string }; member: { userId: string; role: string } }): Promise<void>;
  afterRemoveMember(data: { organization: { id: string }; member: { userId: string } }): Promise<void>;
}

/** A SCIM Group as @better-auth/scim hands it to a projection. */
export interface ScimGroup {
  type: 'group';
  /** The SCIM Group's id (Better Auth's). */
  id: string;
  /** The directory's id of the Group: key role mappings on it. */
  externalId?: string;
  /** Renameable by directory admins: never a role by itself. */
  displayName: string;
}

/** The transaction-bound database @better-auth/scim passes to projections (the parts used here). */
export interface ScimTransactionContext {
  database: {
    findOne(input: { model: string; where: { field: string; value: unknown }[] }): Promise<any>;
    create(input: { model: string; data: Record<string, unknown> }): Promise<any>;
    update(input: { model: string; where: { field: string; value: unknown }[]; update: Record<string, unknown> }): Promise<any>;
    delete(input: { model: string; where: { field: string; value: unknown }[] }): Promise<void>;
  };
}

/** `scim({ projection })` of @better-auth/scim (its `SCIMProjection`). */
export interface ScimMembershipProjection {
  roles: {
    map(input: { source: ScimGroup; provisioningDomainId: string; connectionId: string }, context: ScimTransactionContext): Promise<readonly string[]>;
    exists(input: { provisioningDomainId: string; role: string }, context: ScimTransactionContext): Promise<boolean>;
  };
  reconcileUser(
    state: { provisioningDomainId: string; userId: string; active: boolean; grants: readonly { role: string }[] },
    context: ScimTransactionContext,
  ): Promise<void>;
}

/** The Better Auth plugin `ssoMembership()` returns (an after hook on the SSO sign-in endpoints). */
export interface SsoMembershipPlugin {
  id: 'spacetime-sso-membership';
  hooks: { after: Array<{ matcher(context: { path?: string }): boolean; handler(context: unknown): Promise<unknown> }> };
}

export interface BetterAuthGateway {
  /** Keeps the module's `tenant` and `membership` in step; a removal also revokes the user's streams of
   * that organization. Errors reject (the Better Auth call then fails after its own change). */
  organizationHooks: SpacetimeOrganizationHooks;
  /** For `scim({ projection })`: SCIM Group memberships → Better Auth organization members (a connection's
   * `provisioningDomainId` is the organization id), written in the SCIM transaction; the matching
   * organization hook runs after commit (a removal revokes the user's streams of that organization).
   * `roleOfGroup` names the Better Auth role a Group grants there, or `undefined` for none. */
  scimProjection(options: {
    roleOfGroup: (group: ScimGroup, where: { organizationId: string; connectionId: string }) => string | undefined | Promise<string | undefined>;
  }): ScimMembershipProjection;
  /** A Better Auth plugin to list after `sso()` of `@better-auth/sso`: its organization provisioning
   * writes members without the organization hooks, so after each SSO sign-in the user's memberships are
   * brought into the module through `organizationHooks` (those the module lacks or holds with another role). */
  ssoMembership(): SsoMembershipPlugin;
  /** Session (request headers) → the verified user in `organizationId` (default: the active organization),
   * checked against Better Auth's `member` table. Throws `UNAUTHENTICATED`, `NO_ORGANIZATION`,
   * `NOT_A_MEMBER`. */
  authorize(input: { headers: Headers; organizationId?: string }): Promise<Authorization>;
  /** `authorize`, then a token with `sub`, `sid`, `tenant_id`, `actor_ref`, `membership_version`, `aud`.
   * Also throws `MEMBERSHIP_NOT_SYNCED`. */
  accessToken(input: { headers: Headers; organizationId?: string; ttlSeconds?: number }): Promise<SessionToken>;
  /** An API key (`key`, or the `x-api-key` header) verified by Better Auth → a robot or delegated token.
   * Throws `API_KEY_INVALID`, `API_KEY_RATE_LIMITED`, `NO_ORGANIZATION`, `NOT_A_MEMBER`. */
  apiKeyToken(input: { key?: string; headers?: Headers; organizationId?: string; ttlSeconds?: number }): Promise<ApiKeyToken>;
  /** Mirrors one membership now (backfills, repairs), as the hooks do. */
  syncMember(organization: { id: string; name?: string }, userId: string, role: string): Promise<void>;
}

/** Connects Better Auth to a gateway (docs/better-auth.md). */
export declare function betterAuthGateway(options: BetterAuthGatewayOptions): BetterAuthGateway;

/** The default `roleOf`. */
export declare function defaultRoleOf(role: string): ModuleRole;

/** Codes of the errors this module throws (besides the gateway's own). */
export type BetterAuthErrorCode =
  | 'UNAUTHENTICATED'
  | 'NO_ORGANIZATION'
  | 'NOT_A_MEMBER'
  | 'MEMBERSHIP_NOT_SYNCED'
  | 'API_KEY_INVALID'
  | 'API_KEY_RATE_LIMITED';
export type { GatewayError };
