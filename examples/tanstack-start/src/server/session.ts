// Server functions' error boundary: what a server function throws reaches the browser as a coded
// GatewayError without a stack.
import { GatewayError } from 'spacetime-gateway/serialization';
import { setResponseStatus } from '@tanstack/react-start/server';
import { publicError } from '../../../shared/server/errors';

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
