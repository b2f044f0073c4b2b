// The app's SSE route for the cookbook module, as plain Node (`(req, res)`; with Nitro/h3 pass
// `event.node.req` / `event.node.res`): GET /events?tenant=<id>. `authenticate(req)` is the app's own
// session check and returns the verified claims (or null) — the browser never names its actor.
//
// Quoted by docs/authorization-cookbook.md; exercised by the cookbook suites through a real HTTP server.

import { actorFromClaims } from './actor.mjs';
import { openMemberStream } from './streams.mjs';

export function memberEventsRoute(gateway, authenticate) {
  return (req, res) => {
    const claims = authenticate(req);
    if (!claims) return void res.writeHead(401).end();
    const tenantId = new URL(req.url, 'http://localhost').searchParams.get('tenant');
    const stream = openMemberStream(gateway, {
      actor: actorFromClaims(claims),
      tenantId,
      sid: claims.sid,
      lastEventId: req.headers['last-event-id'],
    });
    if (!stream) return void res.writeHead(403).end();
    stream.pipe(res);
  };
}
