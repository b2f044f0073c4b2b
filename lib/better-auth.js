'use strict';
// `spacetime-gateway/better-auth`: Better Auth (sessions, organizations, API keys) in front of
// SpacetimeDB. Better Auth decides who someone is and which organizations they belong to; this module
// turns those verified facts into short-lived SpacetimeDB tokens (TokenBroker) and keeps the module's
// `tenant` / `membership` tables in step through organization hooks. Nothing here imports Better Auth:
// it works on the `auth` instance the app passes in, so the main entry never loads it.

const { GatewayError, invalidArgument: invalid } = require('./errors.js');

/** The module's roles (examples/module: `Role`), from most to least privileged. */
const ROLES = ['Owner', 'Admin', 'Member', 'Viewer'];
/** Better Auth endpoints that sign a user in through SSO (`@better-auth/sso`) and may add memberships. */
const SSO_SIGN_IN_PATHS = ['/sso/callback', '/sso/saml2/sp/acs/', '/callback/'];
const DEFAULT_REDUCERS = { syncTenant: 'sync_tenant', syncMember: 'sync_member', removeMember: 'sync_remove_member' };

/**
 * Better Auth's role string (`owner`, `admin`, `member`, custom roles, or a comma-separated list) as the
 * module's role: the highest known role it names; unknown roles get the least privilege (`Viewer`).
 */
function defaultRoleOf(role) {
  const names = String(role ?? '').split(',').map((r) => r.trim().toLowerCase());
  if (names.includes('owner')) return 'Owner';
  if (names.includes('admin')) return 'Admin';
  if (names.includes('member')) return 'Member';
  return 'Viewer';
}

/** Resolves an option given as a value or as a (possibly async) function returning it. */
const resolve = async (value) => (typeof value === 'function' ? value() : value);

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw invalid('betterAuthGateway needs an options object: { auth, gateway, broker }');
  const { auth, gateway, broker } = options;
  if (auth === undefined || gateway === undefined) throw invalid('betterAuthGateway needs `auth` (the Better Auth instance, or a function returning it) and `gateway` (a Gateway, or a function returning one)');
  if (broker === null || typeof broker !== 'object' || typeof broker.mint !== 'function' || typeof broker.identityFor !== 'function') {
    throw invalid('betterAuthGateway needs `broker`: the TokenBroker that mints SpacetimeDB tokens for your issuer');
  }
  const roleOf = options.roleOf ?? defaultRoleOf;
  if (typeof roleOf !== 'function') throw invalid('roleOf must be a function from a Better Auth role to Owner | Admin | Member | Viewer');
  const robotRole = options.robotRole ?? 'Member';
  if (!ROLES.includes(robotRole)) throw invalid(`robotRole must be one of ${ROLES.join(', ')}, got ${String(robotRole)}`);
  return { auth, gateway, broker, roleOf, robotRole, ttlSeconds: options.ttlSeconds, reducers: { ...DEFAULT_REDUCERS, ...options.reducers } };
}

/**
 * Connects Better Auth to a gateway. `options`:
 * - `auth`: the Better Auth instance (with the `organization` plugin, and `apiKey` for API keys), or a
 *   function returning it — hooks are configured before the instance exists;
 * - `gateway`: the service `Gateway` (a trusted gateway of the module, subscribed to `membership`), or a
 *   function returning it or a promise of it;
 * - `broker`: the `TokenBroker` of your issuer; `ttlSeconds`: token lifetime (default: the broker's);
 * - `roleOf(role)`: Better Auth role → module role; `robotRole`: the role of organization API keys
 *   (default `Member`); `reducers`: other names for `sync_tenant` / `sync_member` / `sync_remove_member`.
 */
function betterAuthGateway(options) {
  const o = checkOptions(options);

  async function context() {
    const auth = await resolve(o.auth);
    if (!auth?.api || typeof auth.api.getSession !== 'function' || !auth.$context) {
      throw invalid('`auth` is not a Better Auth instance (expected auth.api.getSession and auth.$context)');
    }
    return { auth, adapter: (await auth.$context).adapter };
  }

  async function gateway() {
    const g = await resolve(o.gateway);
    if (g === null || typeof g !== 'object' || typeof g.callReducer !== 'function') throw invalid('`gateway` did not give a Gateway');
    return g;
  }

  const identityOf = (sub) => o.broker.identityFor(sub);

  /** The membership row (Better Auth's `member` table) of `userId` in `organizationId`, or a coded error. */
  async function memberOf(adapter, userId, organizationId) {
    const member = await adapter.findOne({
      model: 'member',
      where: [
        { field: 'userId', value: userId },
        { field: 'organizationId', value: organizationId },
      ],
    });
    if (!member) throw new GatewayError('NOT_A_MEMBER', `user ${userId} is not a member of organization ${organizationId}`);
    return member;
  }

  /** The module's membership row of `identity` in `tenantId`, from the gateway's projection, or undefined. */
  function membershipRow(g, tenantId, identity) {
    try {
      return g.rows('membership', { tenant_id: tenantId, member: identity })[0];
    } catch (e) {
      throw new GatewayError('INVALID_ARGUMENT', `the gateway cannot read the module's membership table (${e.message}): subscribe to it, e.g. subscriptions: ['SELECT * FROM membership']`);
    }
  }

  /** The module's membership row id for `identity` in `tenantId` (the token's `membership_version`). */
  function membershipVersion(g, tenantId, identity) {
    const row = membershipRow(g, tenantId, identity);
    if (row === undefined) {
      throw new GatewayError('MEMBERSHIP_NOT_SYNCED', `SpacetimeDB has no membership of ${identity} in tenant ${tenantId} yet: the organization hooks sync it (or call syncMember)`);
    }
    return Number(row.id);
  }

  /** Mirrors one Better Auth membership into the module (an owner also creates the tenant if missing). */
  async function syncMember(organization, userId, role) {
    const g = await gateway();
    const moduleRole = o.roleOf(role);
    if (!ROLES.includes(moduleRole)) throw invalid(`roleOf(${JSON.stringify(role)}) returned ${String(moduleRole)}; expected one of ${ROLES.join(', ')}`);
    const identity = identityOf(userId);
    if (moduleRole === 'Owner') await g.callReducer(o.reducers.syncTenant, [organization.id, organization.name ?? organization.id, identity]);
    else await g.callReducer(o.reducers.syncMember, [organization.id, identity, moduleRole]);
  }

  /**
   * Better Auth's session (from the request `headers`) → the verified user in `organizationId` (default:
   * the session's active organization), checked against Better Auth's `member` table — the active
   * organization alone is no proof of membership. Resolves `{ userId, sessionId, organizationId,
   * memberId, role, identity, principal }` (`principal` for `gateway.stream`, so revocation finds it).
   */
  async function authorize({ headers, organizationId } = {}) {
    if (!headers) throw invalid('authorize needs the request headers (they carry the Better Auth session)');
    const { auth, adapter } = await context();
    const session = await auth.api.getSession({ headers });
    if (!session?.user || !session.session) throw new GatewayError('UNAUTHENTICATED', 'no valid Better Auth session in the request');
    const orgId = organizationId ?? session.session.activeOrganizationId;
    if (typeof orgId !== 'string' || orgId === '') {
      throw new GatewayError('NO_ORGANIZATION', 'no organization given and the session has no active organization');
    }
    const member = await memberOf(adapter, session.user.id, orgId);
    return {
      userId: session.user.id,
      sessionId: session.session.id,
      organizationId: orgId,
      memberId: member.id,
      role: member.role,
      identity: identityOf(session.user.id),
      principal: { sub: session.user.id, sid: session.session.id },
    };
  }

  /**
   * A SpacetimeDB access token for the request's session in `organizationId`: `sub` = user id, `sid`,
   * `tenant_id`, `actor_ref` = Better Auth member id, `membership_version`, and the broker's `aud`.
   * Resolves the `authorize` result plus `{ token, membershipVersion }`.
   */
  async function accessToken(params = {}) {
    const who = await authorize(params);
    const version = membershipVersion(await gateway(), who.organizationId, who.identity);
    const claims = { sub: who.userId, sid: who.sessionId, tenant_id: who.organizationId, actor_ref: who.memberId, membership_version: version };
    const token = o.broker.mint(claims, { ttlSeconds: params.ttlSeconds ?? o.ttlSeconds });
    return { ...who, membershipVersion: version, token };
  }

  /** Verifies an API key with Better Auth; resolves the key record or throws API_KEY_* errors. */
  async function verifiedKey(auth, key) {
    if (typeof key !== 'string' || key === '') throw new GatewayError('API_KEY_INVALID', 'no API key in the request');
    if (typeof auth.api.verifyApiKey !== 'function') throw invalid('the Better Auth instance has no apiKey plugin (@better-auth/api-key)');
    let result;
    try {
      result = await auth.api.verifyApiKey({ body: { key } });
    } catch (e) {
      // Thrown (not answered `valid: false`): Better Auth cannot verify keys at all, e.g. no default
      // apiKey configuration. The app's setup, not the caller's key.
      throw new GatewayError('INVALID_ARGUMENT', `Better Auth could not verify API keys: ${e.body?.code ?? e.message}: ${e.body?.message ?? ''}`.trim(), { cause: e });
    }
    if (result?.valid && result.key) return result.key;
    const why = result?.error ?? {};
    if (why.code === 'RATE_LIMITED') {
      throw new GatewayError('API_KEY_RATE_LIMITED', `the API key is over its rate limit (Better Auth: ${why.message ?? why.code}); raise the apiKey plugin's rateLimit if this is normal traffic`);
    }
    throw new GatewayError('API_KEY_INVALID', `the API key was refused (Better Auth: ${why.code ?? 'invalid'}${why.message ? `, ${why.message}` : ''})`);
  }

  /** An organization's key: the robot `robot:<keyId>`, a member of that organization (synced on first use). */
  async function robotToken(g, record, organization, ttl) {
    const robot = `robot:${record.id}`;
    const identity = identityOf(robot);
    if (membershipRow(g, organization.id, identity) === undefined) {
      await g.callReducer(o.reducers.syncMember, [organization.id, identity, o.robotRole]);
    }
    const version = membershipVersion(g, organization.id, identity);
    const claims = { actor_ref: record.id, membership_version: version };
    const token = o.broker.mintRobot({ id: record.id, tenantId: organization.id, claims }, ttl);
    return { token, kind: 'robot', sub: robot, actor: robot, keyId: record.id, organizationId: organization.id, identity, membershipVersion: version };
  }

  /** A user's key: the user, with the key's robot as `act`, in one of the user's organizations. */
  async function delegatedToken(g, adapter, record, organizationId, ttl) {
    if (typeof organizationId !== 'string' || organizationId === '') {
      throw new GatewayError('NO_ORGANIZATION', "a user's API key acts in an organization of the user: pass organizationId");
    }
    const robot = `robot:${record.id}`;
    const userId = record.referenceId;
    const member = await memberOf(adapter, userId, organizationId);
    const identity = identityOf(userId);
    const version = membershipVersion(g, organizationId, identity);
    const claims = { sub: userId, actor: robot, tenant_id: organizationId, actor_ref: member.id, membership_version: version };
    const token = o.broker.mintDelegated(claims, ttl);
    return { token, kind: 'delegated', sub: userId, actor: robot, keyId: record.id, organizationId, identity, membershipVersion: version };
  }

  /**
   * An API key (from `key`, or the `x-api-key` header of `headers`) verified by Better Auth → a
   * short-lived token. An organization's key acts as itself: `sub = robot:<keyId>` in that organization
   * (its membership is synced with `robotRole`). A user's key acts for the user: `sub` = user id and
   * `act: { sub: robot:<keyId> }`, in `organizationId`, which the user must belong to. Resolves
   * `{ token, kind: 'robot' | 'delegated', sub, actor, keyId, organizationId, identity, membershipVersion }`.
   */
  async function apiKeyToken({ key, headers, organizationId, ttlSeconds } = {}) {
    const { auth, adapter } = await context();
    const record = await verifiedKey(auth, key ?? headers?.get?.('x-api-key') ?? undefined);
    const g = await gateway();
    const ttl = { ttlSeconds: ttlSeconds ?? o.ttlSeconds };
    // Who owns the key, from Better Auth's own tables: an organization, or else a user.
    const organization = await adapter.findOne({ model: 'organization', where: [{ field: 'id', value: record.referenceId }] });
    if (!organization) return delegatedToken(g, adapter, record, organizationId, ttl);
    if (organizationId !== undefined && organizationId !== organization.id) {
      throw new GatewayError('NOT_A_MEMBER', `the API key belongs to organization ${organization.id}, not ${organizationId}`);
    }
    return robotToken(g, record, organization, ttl);
  }

  /** Better Auth `organization({ organizationHooks })`: keeps the module's tenants and memberships in step. */
  const organizationHooks = {
    afterCreateOrganization: async ({ organization, member }) => syncMember(organization, member.userId, member.role),
    afterAddMember: async ({ organization, member }) => syncMember(organization, member.userId, member.role),
    afterAcceptInvitation: async ({ organization, member }) => syncMember(organization, member.userId, member.role),
    afterUpdateMemberRole: async ({ organization, member }) => syncMember(organization, member.userId, member.role),
    afterRemoveMember: async ({ organization, member }) => {
      const g = await gateway();
      await g.callReducer(o.reducers.removeMember, [organization.id, identityOf(member.userId)]);
      // Their open streams of this organization end now, not at their next reconnect.
      g.revoke({ sub: member.userId, tenantId: organization.id }, { reason: 'membership removed' });
    },
  };

  /** The Better Auth organization a SCIM provisioning domain names, or a coded error (rolls the SCIM change back). */
  async function scimOrganization(database, provisioningDomainId) {
    const organization = await database.findOne({ model: 'organization', where: [{ field: 'id', value: provisioningDomainId }] });
    if (!organization) {
      throw invalid(`SCIM provisioning domain ${provisioningDomainId} is not a Better Auth organization: set the connection's provisioningDomainId to the organization id`);
    }
    return organization;
  }

  /**
   * One SCIM-linked user's complete state in a provisioning domain (= an organization) → Better Auth's
   * `member` row, written in the SCIM transaction; the organization hook of the change runs after commit,
   * so SpacetimeDB never holds a membership that Better Auth rolled back. When Better Auth already agrees
   * but the module does not (a hook that failed after commit), the hook runs again: replaying the domain
   * (`auth.api.reconcileSCIMProjection`) repairs the module.
   */
  async function reconcileScimMember(state, database) {
    const organization = await scimOrganization(database, state.provisioningDomainId);
    // Inactive or in no mapped Group: no membership. Several Groups: Better Auth's comma-separated roles.
    const role = state.active ? [...new Set(state.grants.map((g) => g.role))].sort().join(',') : '';
    const where = [
      { field: 'userId', value: state.userId },
      { field: 'organizationId', value: organization.id },
    ];
    const member = await database.findOne({ model: 'member', where });
    const synced = membershipRow(await gateway(), organization.id, identityOf(state.userId));
    let hook;
    if (role === '') {
      if (member) await database.delete({ model: 'member', where: [{ field: 'id', value: member.id }] });
      if (member || synced) hook = () => organizationHooks.afterRemoveMember({ organization, member: member ?? { userId: state.userId } });
    } else if (!member) {
      const created = await database.create({ model: 'member', data: { organizationId: organization.id, userId: state.userId, role, createdAt: new Date() } });
      hook = () => organizationHooks.afterAddMember({ organization, member: created });
    } else if (member.role !== role) {
      await database.update({ model: 'member', where: [{ field: 'id', value: member.id }], update: { role } });
      hook = () => organizationHooks.afterUpdateMemberRole({ organization, member: { ...member, role } });
    } else if (synced?.role !== o.roleOf(role)) {
      hook = () => organizationHooks.afterUpdateMemberRole({ organization, member });
    }
    if (hook) {
      // Loaded here, not at the top: the package never loads Better Auth unless the app uses it.
      const { queueAfterTransactionHook } = await import('@better-auth/core/context');
      await queueAfterTransactionHook(hook);
    }
  }

  /**
   * `scim({ projection })` of @better-auth/scim: SCIM Groups → Better Auth organization members (the SCIM
   * plugin itself never touches organizations). A connection's `provisioningDomainId` is the organization
   * id; `roleOfGroup(group, { organizationId, connectionId })` names the Better Auth role a SCIM Group
   * (`{ id, externalId, displayName }`) grants there (`undefined`: none). Membership then reaches the
   * module through `organizationHooks`, a removal revoking the user's streams of that organization.
   */
  function scimProjection({ roleOfGroup } = {}) {
    if (typeof roleOfGroup !== 'function') throw invalid('scimProjection needs roleOfGroup(group, { organizationId, connectionId }): the Better Auth role a SCIM Group grants, or undefined');
    return {
      roles: {
        map: async ({ source, provisioningDomainId, connectionId }) => {
          const role = await roleOfGroup(source, { organizationId: provisioningDomainId, connectionId });
          return typeof role === 'string' && role !== '' ? [role] : [];
        },
        exists: async ({ provisioningDomainId }, { database }) => Boolean(await scimOrganization(database, provisioningDomainId)),
      },
      reconcileUser: (state, { database }) => reconcileScimMember(state, database),
    };
  }

  /**
   * One user's Better Auth memberships → the module: each one the module lacks, or holds with another
   * role, goes through its organization hook again. Idempotent; a user in step costs one query.
   */
  async function reconcileUserMemberships(adapter, userId) {
    const members = await adapter.findMany({ model: 'member', where: [{ field: 'userId', value: userId }] });
    const g = await gateway();
    for (const member of members) {
      if (membershipRow(g, member.organizationId, identityOf(userId))?.role === o.roleOf(member.role)) continue;
      const organization = await adapter.findOne({ model: 'organization', where: [{ field: 'id', value: member.organizationId }] });
      if (organization) await organizationHooks.afterAddMember({ organization, member });
    }
  }

  /**
   * A Better Auth plugin for `@better-auth/sso`: its organization provisioning writes the `member` row
   * itself (the adapter, not the organization plugin), so no organization hook runs. After each SSO
   * sign-in (OIDC callback, SAML ACS; `/callback/` too, where sso's domain-verified assignment runs on
   * social sign-in, so list this plugin after `sso()`), the signed-in user's memberships are brought
   * into the module through `organizationHooks`. A failure fails that sign-in (as a hook failure fails
   * its Better Auth call); the next sign-in repairs it.
   */
  function ssoMembership() {
    let middleware;
    const reconcile = async (ctx) => {
      const user = ctx.context.newSession?.user;
      if (user) await reconcileUserMemberships(ctx.context.adapter, user.id);
    };
    return {
      id: 'spacetime-sso-membership',
      hooks: {
        after: [
          {
            matcher: (ctx) => SSO_SIGN_IN_PATHS.some((path) => ctx.path?.startsWith(path)),
            handler: async (ctx) => {
              // Loaded on first use: the package never loads Better Auth unless the app uses it.
              middleware ??= (await import('better-auth/api')).createAuthMiddleware(reconcile);
              return middleware(ctx);
            },
          },
        ],
      },
    };
  }

  return {
    organizationHooks,
    scimProjection,
    ssoMembership,
    authorize,
    accessToken,
    apiKeyToken,
    /** Mirrors one membership now (backfills, repairs): Better Auth's role string, as the hooks do. */
    syncMember: (organization, userId, role) => syncMember(organization, userId, role),
  };
}

module.exports = { betterAuthGateway, defaultRoleOf };
