// The signed-in user, from the request's Better Auth session cookie — never from anything the browser
// says about itself.
import { GatewayError } from 'spacetime-gateway/serialization';
import { setResponseStatus } from '@tanstack/react-start/server';
import { getSpacetime } from './auth';
import type { Writer } from './documents';
import { publicError } from './errors';
import { takeWrite } from './rate-limit';

/** The user's SpacetimeDB token in `organizationId` (member checked), after the per-user write limit. */
export async function sessionWriter(headers: Headers, organizationId: string): Promise<Writer> {
  const { token, identity, userId } = await getSpacetime().accessToken({ headers, organizationId });
  takeWrite(userId);
  return { token, identity };
}

/**
 * Runs a server function's body: what it throws reaches the browser as a coded GatewayError without a
 * stack (unexpected errors as INTERNAL, logged here), and the response gets the matching status — on a
 * server-rendered page that is the page's status (403 for a non-member).
 */
export async function serverFn<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const { status, code, message } = publicError(error);
    setResponseStatus(status);
    throw new GatewayError(code, message);
  }
}
