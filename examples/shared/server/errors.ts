// Every error a caller can hit leaves as a code, a clear message and an HTTP status — never a stack
// trace. Routes answer `{ error: { code, message } }`; server functions throw a GatewayError that the
// serialization adapter (src/start.ts) hands to the browser with its code.
import { GatewayError, isGatewayError } from 'spacetime-gateway/serialization';

/** The HTTP status of each code callers may see; any other error is a bug, answered 500 INTERNAL. */
const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  NO_ORGANIZATION: 400,
  UNAUTHENTICATED: 401,
  API_KEY_INVALID: 401,
  NOT_A_MEMBER: 403,
  NOT_FOUND: 404,
  REDUCER_FAILED: 422, // the module refused the write; its message says why
  RATE_LIMITED: 429,
  API_KEY_RATE_LIMITED: 429,
  MEMBERSHIP_NOT_SYNCED: 503,
  UNAVAILABLE: 503,
};

/** The gateway's codes for "SpacetimeDB cannot be reached right now": the caller may retry. */
const UNAVAILABLE = new Set(['CONNECT_FAILED', 'DISCONNECTED', 'CLOSED', 'TIMEOUT']);

/** An error for the caller. `retryAfterSeconds` becomes a Retry-After header on HTTP routes. */
export function appError(code: keyof typeof STATUS, message: string, retryAfterSeconds?: number): GatewayError {
  return Object.assign(new GatewayError(code, message), { retryAfterSeconds });
}

export interface PublicError {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** Any thrown value as what the caller may see. Unexpected errors are logged here and hidden. */
export function publicError(error: unknown): PublicError {
  if (isGatewayError(error)) {
    const { code, message } = error as GatewayError;
    if (STATUS[code]) return { status: STATUS[code], code, message, retryAfterSeconds: (error as { retryAfterSeconds?: number }).retryAfterSeconds };
    if (UNAVAILABLE.has(code)) return { status: 503, code: 'UNAVAILABLE', message: `SpacetimeDB is not reachable right now (${code}); try again` };
  }
  // Better Auth's own refusals (APIError: e.g. a taken slug, a missing permission) keep their status and code.
  const auth = error as { name?: string; statusCode?: number; body?: { code?: string; message?: string } };
  if (auth?.name === 'APIError' && typeof auth.statusCode === 'number' && auth.statusCode >= 400 && auth.statusCode < 500) {
    return { status: auth.statusCode, code: auth.body?.code ?? 'AUTH_REFUSED', message: auth.body?.message ?? 'Better Auth refused the request' };
  }
  console.error('unexpected error:', error);
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

/** The JSON error response of an HTTP route. */
export function errorResponse(error: unknown): Response {
  const { status, code, message, retryAfterSeconds } = publicError(error);
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return Response.json({ error: { code, message } }, { status, headers });
}

/** Wraps a route handler: whatever it throws becomes a JSON error response. */
export function jsonRoute(handler: (request: Request) => Promise<Response>) {
  return async ({ request }: { request: Request }): Promise<Response> => {
    try {
      return await handler(request);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
