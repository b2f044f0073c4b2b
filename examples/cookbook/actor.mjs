// Who the module should see as acting: the `actor` argument of every cookbook reducer, built from what
// the app itself verified — never from anything the browser sent.
//
// Quoted by docs/authorization-cookbook.md and docs/machine-actors.md; exercised by the cookbook tests.

/**
 * The module's `ActorClaim` (`{ sub, act }`) from the claims of a token the app verified
 * (`broker.verify(token)` or `verifyToken`): `sub`, and `act.sub` when someone acts for `sub` — an API
 * key's robot (delegated access) or an admin (impersonation).
 */
export function actorFromClaims(claims) {
  if (typeof claims?.sub !== 'string' || claims.sub === '') throw new TypeError('verified claims need a sub');
  const act = claims.act?.sub;
  return { sub: claims.sub, act: typeof act === 'string' && act !== '' ? act : null };
}

/**
 * The same from an app session (e.g. Better Auth's: `session.userId`, and `session.impersonatedBy` while
 * an admin impersonates with the admin plugin).
 */
export function actorFromSession(session) {
  return actorFromClaims({ sub: session.userId, act: session.impersonatedBy ? { sub: session.impersonatedBy } : undefined });
}

/**
 * Calls a cookbook reducer for a verified actor through the service connection: the gateway fills the
 * reducer's `actor` parameter, and the module accepts it because the gateway is trusted.
 */
export function callAs(gateway, claims, reducer, args) {
  return gateway.callReducer(reducer, args, { actor: actorFromClaims(claims) });
}
