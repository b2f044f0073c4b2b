'use strict';
// `spacetime-gateway/h3`: a gateway SSE stream from an h3 event (Nitro API routes), for h3 v1 (nitropack 2,
// Analog) and h3 v2 (Nitro 3, TanStack Start), told apart by the event's shape at runtime:
//
// - h3 v2: `event.req` is a Web `Request` (srvx). The handler returns `gateway.streamResponse(event.req)`:
//   the resume position comes from the request, `request.signal` ends the stream when the client goes.
// - h3 v1: `event.node.req` / `event.node.res` are Node's. A returned `Response` would be written by h3 v1
//   without backpressure and never cancelled when the client goes (its `sendStream` pipes the body into a
//   `WritableStream` that ignores both), so the stream is piped into `event.node.res` instead, which
//   closes it on the response's `close`.
//
// The gateway's coded errors (`GatewayError`) become a JSON error response with a matching status.

const { GatewayError, invalidArgument } = require('./errors.js');
const { describe, readingArgument } = require('./args.js');
const { resumeOptions } = require('./fetch.js');
const { Gateway } = require('./gateway.js');

/** Codes that mean "the gateway cannot serve right now": 503, the client may retry. */
const UNAVAILABLE = new Set(['CLOSED', 'CONNECT_FAILED', 'DISCONNECTED', 'TIMEOUT']);

/** The HTTP status of a `GatewayError` code: 400 for a bad argument, 503 when unavailable, else 500. */
function statusOf(code) {
  if (code === 'INVALID_ARGUMENT') return 400;
  return UNAVAILABLE.has(code) ? 503 : 500;
}

/** The headers of an error response: JSON, never stored. */
const ERROR_HEADERS = Object.freeze({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });

/** How to answer `event`: `{ web: Request }` (h3 v2) or `{ node: { req, res } }` (h3 v1); else INVALID_ARGUMENT. */
function sideOf(event) {
  const side = readingArgument('serveStream event', () => {
    if (event === null || typeof event !== 'object') return undefined;
    const req = event.req;
    // h3 v1 has a deprecated `event.req` too: Node's IncomingMessage, whose headers have no `get`.
    if (req !== null && typeof req === 'object' && typeof req.url === 'string' && typeof req.headers?.get === 'function') return { web: req };
    const node = event.node;
    if (node !== null && typeof node === 'object' && typeof node.res?.write === 'function' && typeof node.req?.headers === 'object') return { node };
    return undefined;
  });
  if (side === undefined) throw invalidArgument(`serveStream needs an h3 event (h3 v2: event.req, a Request; h3 v1: event.node.req/res), got ${describe(event)}`);
  return side;
}

/**
 * Serves a gateway SSE stream from an h3 event: return its result from the handler.
 *
 * ```js
 * defineEventHandler(async (event) => {
 *   const who = await authorize(event); // your auth: never trust the URL's tenant
 *   return serveStream(event, getGateway(), { tenantId: who.tenantId, principal: who.principal });
 * });
 * ```
 * (No `export` keyword in this file, not even in a comment: bundlers' externals detection — mlly's
 * `isValidNodeImport`, used by nitropack 2 — reads such text as ESM syntax and then bundles this CommonJS
 * file instead of leaving the package external, which drags in the `.node` file.)
 *
 * `options` are `gateway.streamResponse`'s: the stream's options (`tenantId`, `tables`, …), `resumeParam`
 * and `headers`. The stream resumes after the request's `Last-Event-ID` header, else after its `?after=`
 * query parameter, and ends when the client goes away. On h3 v2 the result is the `Response`; on h3 v1
 * the stream is written to `event.node.res` and the result is `undefined` (the event is handled).
 *
 * A `GatewayError` (a bad option, a closed gateway, a gateway that failed to connect) becomes a JSON
 * response `{ error: { code, message } }`: 400 for INVALID_ARGUMENT, 503 for CLOSED, CONNECT_FAILED,
 * DISCONNECTED and TIMEOUT, else 500. Any other error is thrown, for h3 to answer.
 *
 * @param {object} event the h3 event (v1 or v2)
 * @param {import('./index.js').Gateway | PromiseLike<import('./index.js').Gateway>} gateway the gateway, or a promise of it
 * @param {import('./index.js').StreamResponseOptions} options the stream's options
 * @returns {Promise<Response | undefined>}
 */
async function serveStream(event, gateway, options) {
  const side = sideOf(event);
  try {
    const thenable = readingArgument('serveStream gateway', () => gateway !== null && typeof gateway === 'object' && typeof gateway.then === 'function');
    const g = thenable ? await gateway : gateway;
    if (!readingArgument('serveStream gateway', () => g instanceof Gateway)) {
      throw invalidArgument(`serveStream needs a Gateway (or a promise of one), got ${describe(g)}`);
    }
    if (side.web !== undefined) return g.streamResponse(side.web, options);
    const { req, res } = side.node;
    // The client left while the handler awaited (auth, the gateway): open nothing.
    if (res.destroyed) return undefined;
    const { streamOptions, headers } = resumeOptions(req.url ?? '/', req.headers['last-event-id'], options, 'serveStream');
    g.stream(streamOptions).pipe(res, { headers });
    return undefined;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return errorReply(side, error);
  }
}

/** Answers `error` as JSON: a `Response` for h3 v2, written to `event.node.res` for h3 v1. */
function errorReply(side, error) {
  const status = statusOf(error.code);
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  if (side.web !== undefined) return new Response(body, { status, headers: ERROR_HEADERS });
  const { res } = side.node;
  if (res.headersSent) {
    // The stream's headers are out: nothing else can be said on this response.
    res.destroy();
  } else {
    res.writeHead(status, ERROR_HEADERS);
    res.end(body);
  }
  return undefined;
}

module.exports = { serveStream };
