// The API-key → short-lived token exchange of an app using the cookbook module, for any key store.
// `verifyKey(presented)` is the app's own check — a hash lookup in its database, a secrets service, … —
// and resolves `{ keyId, userId? }` for a valid key, or null. (With Better Auth's api-key plugin,
// `spacetime-gateway/better-auth` has this built in: `apiKeyToken`.) The token says only who the key is;
// what it may do lives in the module's `api_key_grant`, re-read on every call.
//
// Quoted by docs/machine-actors.md; exercised by __test__/cookbook.machine.test.mjs.

import { GatewayError } from '../../lib/index.js';

/**
 * `exchange(presentedKey, { forUser })` → `{ token, kind, sub, act }`. A key acts as its robot
 * (`sub = robot:<keyId>`); with `forUser: true` a user's key acts for its user (`sub` = the user,
 * `act = { sub: robot:<keyId> }`), which the module allows only if the grant says `can_delegate`.
 */
export function keyExchange({ broker, verifyKey, ttlSeconds = 300 }) {
  return async function exchange(presented, { forUser = false } = {}) {
    if (typeof presented !== 'string' || presented === '') throw new GatewayError('API_KEY_INVALID', 'no API key in the request');
    const key = await verifyKey(presented);
    if (!key) throw new GatewayError('API_KEY_INVALID', 'the API key was refused');
    const robot = `robot:${key.keyId}`;
    if (!forUser) return { token: broker.mintRobot({ id: key.keyId }, { ttlSeconds }), kind: 'robot', sub: robot, act: null };
    if (!key.userId) throw new GatewayError('API_KEY_INVALID', `API key ${key.keyId} belongs to no user: it acts only as itself`);
    const token = broker.mintDelegated({ sub: key.userId, actor: robot }, { ttlSeconds });
    return { token, kind: 'delegated', sub: key.userId, act: robot };
  };
}
