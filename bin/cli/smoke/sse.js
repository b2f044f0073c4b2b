'use strict';
// A real SSE round trip for `smoke`: the gateway's stream served by a local HTTP server on 127.0.0.1
// (`stream.pipe(res)`, what an app's route does) and read by a plain HTTP client that parses frames the
// way EventSource does. The parser is shared with the test helpers.

const http = require('node:http');

/** Parses complete SSE blocks out of `text`; returns the frames and the unparsed rest. `data` is JSON. */
function parseSse(text) {
  const frames = [];
  let rest = text;
  for (let end = rest.indexOf('\n\n'); end !== -1; end = rest.indexOf('\n\n')) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const frame = { id: undefined, event: 'message', data: undefined, comment: undefined, retry: undefined };
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === '') frame.comment = value;
      else if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') frame.data = JSON.parse(value);
      else if (field === 'retry') frame.retry = Number(value);
    }
    frames.push(frame);
  }
  return { frames, rest };
}

/**
 * Serves `open()` (which returns a gateway SSE stream) on 127.0.0.1 and connects one client to it.
 * Resolves `{ frames, status, waitFor(predicate, ms, what), close() }`; `frames` fills as they arrive.
 */
async function openStreamRoundTrip(open) {
  const server = http.createServer((req, res) => {
    try {
      open().pipe(res);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${e.code ?? 'ERROR'}: ${e.message}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const client = { frames: [], status: undefined, ended: false, error: undefined };
  const waiters = new Set();
  const notify = () => waiters.forEach((w) => w());
  const req = http.get(`http://127.0.0.1:${server.address().port}/`, { headers: { accept: 'text/event-stream' } });
  await new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      client.status = res.statusCode;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (text) => {
        if (client.status !== 200) {
          client.error = (client.error ?? '') + text;
          return;
        }
        try {
          const parsed = parseSse(buffer + text);
          buffer = parsed.rest;
          client.frames.push(...parsed.frames);
        } catch (e) {
          client.error = `unparsable SSE: ${e.message}`;
        }
        notify();
      });
      res.on('close', () => {
        client.ended = true;
        notify();
      });
      resolve();
    });
  });
  client.waitFor = (predicate, ms, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        let value;
        try {
          value = predicate(client.frames, client);
        } catch (e) {
          return done(() => reject(e));
        }
        if (value) done(() => resolve(value));
        else if (client.ended) done(() => reject(new Error(`the stream ended before ${what}`)));
      };
      const timer = setTimeout(() => done(() => reject(Object.assign(new Error(`no ${what} within ${ms} ms`), { timeout: true }))), ms);
      const done = (settle) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  client.close = () =>
    new Promise((resolve) => {
      req.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return client;
}

module.exports = { parseSse, openStreamRoundTrip };
