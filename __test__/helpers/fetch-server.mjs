// A Fetch-style server on Node `http`, as frameworks build one (srvx, Nitro, Hono's node adapter): each
// request becomes a Web `Request` whose `signal` aborts when the client goes away, and the handler's
// `Response` body is written out with backpressure. The body is deliberately *not* cancelled when the
// client leaves: ending the stream is the job of `request.signal`, which is what this adapter exercises.

import http from 'node:http';

function toRequest(req, signal) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(new URL(req.url, `http://${req.headers.host}`), { method: req.method, headers, signal });
}

/** Writes `response` to `res`; resolves true when its body ended by itself (the handler ended it). */
async function writeResponse(response, res) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) return res.end(), true;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      if (!res.write(value)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
    }
  } finally {
    res.end();
  }
}

/**
 * Serves `handler(request) → Response` on a free 127.0.0.1 port; resolves `{ url, server, ended, close }`
 * (`ended`: the paths of requests whose response body the handler ended).
 */
export async function serveFetch(handler) {
  const ended = [];
  const server = http.createServer(async (req, res) => {
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    let response;
    try {
      response = await handler(toRequest(req, controller.signal));
    } catch (e) {
      res.writeHead(e.code === 'INVALID_ARGUMENT' ? 400 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: e.code ?? 'INTERNAL', message: e.message } }));
      return;
    }
    if (await writeResponse(response, res)) ended.push(req.url);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    server,
    ended,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}
