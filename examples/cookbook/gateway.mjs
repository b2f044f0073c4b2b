// The gateway of an app using the cookbook module (examples/cookbook-module): one service connection
// (a trusted gateway in the module), subscribed to every table the app streams or decides streams with,
// and per-user calls checked by the app's own broker.
//
// Quoted by docs/authorization-cookbook.md; exercised by __test__/cookbook.*.test.mjs.

import { Gateway } from '../../lib/index.js';

/** The tables the gateway subscribes to. Each is filtered by the module's row-level security: a trusted
 * gateway holds every read grant, so it sees every tenant's rows (its streams narrow them per user). */
export const COOKBOOK_TABLES = [
  'tenant',
  'role',
  'role_permission',
  'membership',
  'document',
  'audit_event',
  'session_context',
  'impersonation_grant',
  'api_key_grant',
];

/** Where each table keeps its tenant (`tenant` itself is the tenant). */
export const COOKBOOK_TENANT_COLUMNS = Object.fromEntries(COOKBOOK_TABLES.map((t) => [t, t === 'tenant' ? 'id' : 'tenant_id']));

/**
 * Connects the app's gateway: `broker` is the app's TokenBroker; the service connection is the robot
 * `robot:<gatewayId>`, which the database owner trusted with `trust_gateway`.
 */
export function connectCookbookGateway({ uri, database, broker, gatewayId = 'gateway', ...options }) {
  return Gateway.connect({
    uri,
    database,
    token: () => broker.mintRobot({ id: gatewayId }),
    subscriptions: COOKBOOK_TABLES.map((table) => `SELECT * FROM ${table}`),
    tenantColumn: COOKBOOK_TENANT_COLUMNS,
    userCalls: { verifier: broker },
    ...options,
  });
}
