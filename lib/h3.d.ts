// `spacetime-gateway/h3`: see lib/h3.js and docs/frameworks.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway, StreamResponseOptions } from './index.js';

/**
 * What `serveStream` reads of an h3 event: on h3 v2 `event.req` (a Web `Request`), on h3 v1
 * `event.node.req` / `event.node.res` (Node's). Both versions' `H3Event` fit.
 */
export type H3EventLike = { req: Request } | { node: { req: IncomingMessage; res: ServerResponse } };

/**
 * Serves a gateway SSE stream from an h3 event (a Nitro API route): return its result from the handler.
 *
 * ```ts
 * export default defineEventHandler(async (event) => {
 *   const who = await authorize(event); // your auth: never trust the URL's tenant
 *   return serveStream(event, getGateway(), { tenantId: who.tenantId, principal: who.principal });
 * });
 * ```
 *
 * The stream resumes after the request's `Last-Event-ID` header, else after its `?after=` query
 * parameter (`options.resumeParam`), and ends when the client goes away. h3 v2 (a Web `Request`): resolves
 * to the `Response` of `gateway.streamResponse(event.req, options)`. h3 v1 (Node's req/res): writes the
 * stream to `event.node.res` and resolves to `undefined` (the event is handled).
 *
 * A `GatewayError` becomes a JSON response `{ error: { code, message } }` — 400 for INVALID_ARGUMENT,
 * 503 for CLOSED, CONNECT_FAILED, DISCONNECTED and TIMEOUT, else 500 — and never a stack trace; any
 * other error is thrown for h3 to answer.
 *
 * @param event the h3 event (v1 or v2)
 * @param gateway the gateway, or a promise of it (a failed connect answers 503)
 * @param options the stream's options, as for `gateway.streamResponse`
 */
export declare function serveStream(
  event: H3EventLike,
  gateway: Gateway | PromiseLike<Gateway>,
  options: StreamResponseOptions,
): Promise<Response | undefined>;
