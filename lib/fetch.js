'use strict';
// The Fetch-`Request` entry of streams (TanStack Start server routes, Nitro/h3 v2, Hono, any handler
// that turns a `Request` into a `Response`): where a stream resumes, and when it ends, come from the
// request itself.

const { invalidArgument: invalid } = require('./errors.js');

/** The query parameter a page's first request names its resume position with, by default. */
const DEFAULT_RESUME_PARAM = 'after';

/**
 * Splits `streamResponse` options into the stream's own options and the request's resume position.
 * `Last-Event-ID` (sent by `EventSource` on every reconnect) wins over the query parameter (which the
 * page sets on its first request, where `EventSource` cannot send a header, and which stays in the URL on
 * reconnects).
 */
function streamRequestOptions(request, options) {
  if (request === null || typeof request !== 'object' || typeof request.url !== 'string' || typeof request.headers?.get !== 'function') {
    throw invalid('streamResponse needs a Fetch API Request (with url, headers and signal)');
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid('streamResponse needs an options object, e.g. { tenantId }');
  }
  const { resumeParam = DEFAULT_RESUME_PARAM, headers, ...streamOptions } = options;
  if (streamOptions.lastEventId !== undefined) {
    throw invalid('streamResponse reads the resume position from the request (Last-Event-ID, or the resumeParam query parameter); do not pass lastEventId');
  }
  if (resumeParam !== null && (typeof resumeParam !== 'string' || resumeParam === '')) {
    throw invalid(`resumeParam must be a non-empty string or null, got ${resumeParam === '' ? 'an empty string' : typeof resumeParam}`);
  }
  const header = request.headers.get('last-event-id');
  let lastEventId = header === null || header === '' ? undefined : header;
  if (lastEventId === undefined && resumeParam !== null) {
    const param = new URL(request.url, 'http://localhost').searchParams.get(resumeParam);
    if (param !== null && param !== '') lastEventId = param;
  }
  return { streamOptions: lastEventId === undefined ? streamOptions : { ...streamOptions, lastEventId }, headers };
}

/** Ends `stream` when `signal` aborts (the client went away), or at once when it already has. */
function closeOnAbort(stream, signal) {
  if (signal === undefined || signal === null) return;
  if (signal.aborted) {
    stream.close();
    return;
  }
  signal.addEventListener('abort', () => stream.close(), { once: true });
}

module.exports = { streamRequestOptions, closeOnAbort, DEFAULT_RESUME_PARAM };
