// The app's h3 (v1, nitropack 2) routes speak the same contract as the TanStack Start app's: a JSON body
// or `{ error: { code, message } }` with a status, never a stack trace. The handlers themselves work on a
// Web `Request` — the shared code (examples/shared) is framework-free — so this is the only h3 glue.
import { defineEventHandler, type H3Event, toWebRequest } from 'h3';
import { appError, jsonRoute } from '../../../../shared/server/errors';

/** An h3 handler from a `Request → Response` one; whatever it throws becomes the JSON error response. */
export function defineJsonRoute(handler: (request: Request, event: H3Event) => Promise<Response>) {
  return defineEventHandler((event) => jsonRoute((request) => handler(request, event))({ request: toWebRequest(event) }));
}

/**
 * Browser writes are JSON requests: a cross-site page can post a form to this origin (and the session
 * cookie is SameSite=Lax, sent with top-level navigations only), but it cannot send
 * `content-type: application/json` without a CORS preflight, which this app never answers.
 */
export function requireJson(request: Request): void {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw appError('INVALID_INPUT', `the body must be sent as application/json (got ${JSON.stringify(type || 'none')})`);
}
