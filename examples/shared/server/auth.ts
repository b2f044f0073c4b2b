// Better Auth (sessions, organizations, API keys) on PostgreSQL, wired to SpacetimeDB through
// spacetime-gateway/better-auth: an organization is a tenant, its members are mirrored into the module's
// `membership` table by the organization hooks, and sessions and API keys become SpacetimeDB tokens.
import { apiKey } from '@better-auth/api-key';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { organization } from 'better-auth/plugins';
import pg from 'pg';
import { betterAuthGateway } from 'spacetime-gateway/better-auth';
import { getConfig } from './config';
import { getBroker, getGateway } from './gateway';

/** Serializes the schema migrations of replicas that start together (any constant shared by them). */
const MIGRATION_LOCK = 725_161;

const KEY = Symbol.for('spacetime-gateway-example.auth');
type Auth = ReturnType<typeof betterAuth<ReturnType<typeof options>>>;
type Holder = { auth?: Promise<Auth>; spacetime?: ReturnType<typeof betterAuthGateway> };
const holder = ((globalThis as Record<symbol, Holder>)[KEY] ??= {});

/**
 * Sessions → tokens, API keys → robot/delegated tokens, organization hooks → memberships. `auth` and
 * `gateway` are functions: the hooks are part of Better Auth's options, so they exist before the instance.
 */
export function getSpacetime() {
  holder.spacetime ??= betterAuthGateway({ auth: getAuth, gateway: getGateway, broker: getBroker() });
  return holder.spacetime;
}

function options(pool: pg.Pool) {
  const { appUrl, authSecret, apiKeyLimit, authLimit } = getConfig();
  const keyRateLimit = { enabled: true, timeWindow: apiKeyLimit.windowMs, maxRequests: apiKeyLimit.max };
  const signIn = { window: authLimit.windowMs / 1000, max: authLimit.max };
  return {
    database: pool,
    baseURL: appUrl,
    secret: authSecret,
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: true, customRules: { '/sign-up/email': signIn, '/sign-in/email': signIn } },
    plugins: [
      organization({ organizationHooks: getSpacetime().organizationHooks }),
      apiKey([
        // An organization's key (the default: `POST /api/auth/api-key/create { name, organizationId }`)
        // acts as its own robot; a user's key (`configId: 'user'`) acts for the user.
        { configId: 'default', references: 'organization', rateLimit: keyRateLimit },
        { configId: 'user', references: 'user', rateLimit: keyRateLimit },
      ]),
    ],
  } satisfies BetterAuthOptions;
}

async function create(): Promise<Auth> {
  const pool = new pg.Pool({ connectionString: getConfig().databaseUrl });
  const opts = options(pool);
  // Better Auth's tables, created or extended at start-up (idempotent). Replicas starting together take
  // turns: a transaction-level advisory lock, released at commit.
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const { runMigrations } = await getMigrations(opts);
    await runMigrations();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return betterAuth(opts);
}

/** The Better Auth instance, created (and its schema migrated) on first use. */
export function getAuth(): Promise<Auth> {
  holder.auth ??= create().catch((error: unknown) => {
    holder.auth = undefined;
    throw error;
  });
  return holder.auth;
}
