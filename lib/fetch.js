'use strict';
// The Fetch-`Request` entry of streams (TanStack Start server routes, Nitro/h3 v2, Hono, any handler
// that turns a `Request` into a `Response`): where a stream resumes, and when it ends, come from the
// request itself.

const { invalidArgument: invalid } = require('./errors.js');
const { describe, readingArgument, readOptions } = require('./args.js');

/** The query parameter a page's first request names its resume position with, by default. */
const DEFAULT_RESUME_PARAM = 'after';

/**
 * Splits `streamResponse` options into the stream's own options and the request's resume position.
 * `Last-Event-ID` (sent by `EventSource` on every reconnect) wins over the query parameter (which the
 * page sets on its first request, where `EventSource` cannot send a header, and which stays in the URL on
 * reconnects).
 */
function streamRequestOptions(request, options) {
  const { url, header, signal } = readingArgument('streamResponse request', () => {
    if (request === null || typeof request !== 'object' || typeof request.url !== 'string' || typeof request.headers?.get !== 'function') {
      return {};
    }
    return { url: request.url, header: request.headers.get('last-event-id'), signal: request.signal };
  });
  if (url === undefined) throw invalid(`streamResponse needs a Fetch API Request (with url, headers and signal), got ${describe(request)}`);
  return { ...resumeOptions(url, header, options, 'streamResponse'), signal };
}

/**
 * The stream options of a request for `url` (absolute, or a path with its query) whose `Last-Event-ID`
 * header is `header` (`null` or `undefined` when absent): `options` without `resumeParam` and `headers`,
 * plus `lastEventId` (the header, else the query parameter); and `options.headers` as `Headers`. `name`
 * is the caller's, for messages.
 */
function resumeOptions(url, header, options, name) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${name} needs an options object, e.g. { tenantId }, got ${describe(options)}`);
  }
  const { resumeParam = DEFAULT_RESUME_PARAM, headers, ...streamOptions } = readOptions(options, `${name} options`);
  if (streamOptions.lastEventId !== undefined) {
    throw invalid(`${name} reads the resume position from the request (Last-Event-ID, or the resumeParam query parameter); do not pass lastEventId`);
  }
  if (resumeParam !== null && (typeof resumeParam !== 'string' || resumeParam === '')) {
    throw invalid(`resumeParam must be a non-empty string or null, got ${describe(resumeParam)}`);
  }
  let lastEventId = header === null || header === undefined || header === '' ? undefined : header;
  if (lastEventId === undefined && resumeParam !== null) {
    const param = readingArgument(`${name} request url`, () => new URL(url, 'http://localhost').searchParams.get(resumeParam));
    if (param !== null && param !== '') lastEventId = param;
  }
  // Read before any stream is opened: headers that cannot be read must not leave an unconsumed stream.
  const extra = headers === undefined ? undefined : readingArgument(`${name} options.headers`, () => new Headers(headers));
  return { streamOptions: lastEventId === undefined ? streamOptions : { ...streamOptions, lastEventId }, headers: extra };
}

/** Ends `stream` when `signal` aborts (the client went away), or at once when it already has. */
function closeOnAbort(stream, signal) {
  if (signal === undefined || signal === null || typeof signal.addEventListener !== 'function') return;
  if (signal.aborted) {
    stream.close();
    return;
  }
  signal.addEventListener('abort', () => stream.close(), { once: true });
}

module.exports = { streamRequestOptions, resumeOptions, closeOnAbort, DEFAULT_RESUME_PARAM };
