'use strict';
// SSE streams: the JS side of the relay. The native relay produces every byte; this layer only moves
// them to consumers. One wake per batch (a coalesced threadsafe call), one `take()` per wake that returns
// the output of every ready stream in one Buffer, then one write per stream: JS is entered a bounded
// number of times per batch, never once per event per client.

const { GatewayError, invalidArgument, callNative } = require('./errors.js');
const { toWireJson } = require('./values.js');
const { readOptions, readingArgument } = require('./args.js');
const TAKE = require('./take-layout.js');

/** Headers of an SSE response: an event stream that no cache or proxy may store, transform or buffer. */
const SSE_HEADERS = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

/**
 * The headers of an SSE response with `given` (any `HeadersInit`) added: the SSE headers are set unless
 * `given` names them. `name` is the option's, for messages.
 */
function sseHeaders(given, name) {
  const headers = readingArgument(name, () => new Headers(given));
  for (const [header, value] of Object.entries(SSE_HEADERS)) if (!headers.has(header)) headers.set(header, value);
  return headers;
}

/** Bytes a `toResponse()` body or an async iterator buffers before pausing the native stream. */
const HIGH_WATER_BYTES = 64 * 1024;

/** The relay of one gateway: the native handle, and the consumers of its streams by id. */
class RelayHub {
  #native;
  #streams = new Map();
  #pumpScheduled = false;
  #closed = false;
  // Consumers' pauses and resumes since the last take: applied by the next take, under one lock.
  #pauses = [];
  #resumes = [];

  constructor(nativeRelay) {
    this.#native = nativeRelay;
    nativeRelay.setWaker(() => this.#pump());
  }

  get native() {
    return this.#native;
  }

  open(options) {
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    const id = callNative(() => this.#native.open(toWireJson(options, 'stream options')));
    const stream = new SseStream(this, id);
    this.#streams.set(id, stream);
    if (this.#streams.size === 1) this.#native.keepAlive(true);
    return stream;
  }

  revoke(selector, reason) {
    return callNative(() => this.#native.revoke(toWireJson(selector, 'the revoke selector'), reason));
  }

  /** `gateway.snapshot()`: the selected rows and the id the page's stream resumes after. */
  snapshot(options) {
    if (this.#closed) throw new GatewayError('CLOSED', 'the gateway is closed');
    return JSON.parse(callNative(() => this.#native.snapshot(toWireJson(options, 'snapshot options'))));
  }

  stats() {
    return this.#native.stats();
  }

  narrow(selector, narrowing) {
    return callNative(() => this.#native.narrow(toWireJson(selector, 'the narrow selector'), toWireJson(narrowing, 'the narrowing')));
  }

  /** The consumer of stream `id` cannot take more; applied before the next take drains anything. */
  pause(id) {
    this.#pauses.push(id);
  }

  /** The consumer of stream `id` can take more; takes soon. */
  resume(id) {
    this.#resumes.push(id);
    this.#schedule();
  }

  #schedule() {
    if (!this.#pumpScheduled && !this.#closed) {
      this.#pumpScheduled = true;
      setImmediate(() => this.#pump());
    }
  }

  /** A stream ended or its consumer went away: forget it natively and here. */
  forget(id) {
    this.#native.closeStream(id);
    this.#drop(id);
  }

  #drop(id) {
    if (this.#streams.delete(id) && this.#streams.size === 0 && !this.#closed) this.#native.keepAlive(false);
  }

  /** Takes all ready output (one Buffer: a header, the bytes, an index; see take-layout.js) and hands each stream its slice. */
  #pump() {
    this.#pumpScheduled = false;
    const pauses = Uint32Array.from(this.#pauses.splice(0));
    const resumes = Uint32Array.from(this.#resumes.splice(0));
    const out = this.#native.take(pauses, resumes);
    const entries = out.readUInt32LE(TAKE.ENTRIES_AT);
    const more = out.readUInt32LE(TAKE.MORE_AT) === 1;
    let at = TAKE.HEADER_BYTES;
    for (let entry = out.length - entries * TAKE.ENTRY_BYTES; entry < out.length; entry += TAKE.ENTRY_BYTES) {
      const id = out.readUInt32LE(entry + TAKE.ID_AT);
      const length = out.readUInt32LE(entry + TAKE.LENGTH_AT);
      const flags = out.readUInt32LE(entry + TAKE.FLAGS_AT);
      const stream = this.#streams.get(id);
      if (stream !== undefined) {
        if (length > 0) stream._push(out.subarray(at, at + length));
        if (flags & TAKE.ENDED) {
          this.#drop(id);
          stream._end();
        }
      }
      at += length;
    }
    // More than one take's worth: let sockets drain first; their 'drain' events
    // resume paused streams.
    if (more) this.#schedule();
  }

  /**
   * Ends every stream (what was taken is delivered) and stops the relay; nothing of it keeps Node alive.
   * With `farewell` (`{ reason, retryMs }`) each stream ends with `retry:` and a `closed` frame instead.
   */
  close(farewell) {
    if (this.#closed) return;
    this.#native.close(farewell?.reason, farewell?.retryMs);
    this.#pump();
    this.#closed = true;
    for (const stream of this.#streams.values()) stream._end();
    this.#streams.clear();
    this.#native.keepAlive(false);
    this.#native.release();
  }
}

/**
 * One SSE stream. Consume it exactly once: `pipe(res)`, `toResponse()`, or `for await`. Until then it is
 * paused in the native relay (its snapshot is taken when opened; live events queue within its limits).
 */
class SseStream {
  #hub;
  #id;
  #mode = null;
  #pending = [];
  #ended = false;
  #paused = true;
  #sink = null;
  #onEnd = null;

  constructor(hub, id) {
    this.#hub = hub;
    this.#id = id;
  }

  /** The stream's id, for `gateway.revoke({ streamId })` / `gateway.narrow({ streamId }, …)`. */
  get id() {
    return this.#id;
  }

  /** Whether the stream has ended (revoked, closed, or the gateway closed). */
  get ended() {
    return this.#ended;
  }

  /** @internal Output from the relay; `chunk` is a view of the take's shared buffer. */
  _push(chunk) {
    if (this.#sink !== null) this.#sink(chunk);
    else this.#pending.push(Buffer.from(chunk));
  }

  /** @internal The relay ended the stream. */
  _end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd?.();
  }

  #attach(mode, sink, onEnd) {
    if (this.#mode !== null) {
      throw invalidArgument(`this stream is already consumed (${this.#mode}); consume a stream once`);
    }
    this.#mode = mode;
    this.#sink = sink;
    this.#onEnd = onEnd;
    for (const chunk of this.#pending.splice(0)) sink(chunk);
    if (this.#ended) onEnd();
    else this.#resume();
  }

  #pause() {
    if (!this.#paused && !this.#ended) {
      this.#paused = true;
      this.#hub.pause(this.#id);
    }
  }

  #resume() {
    if (this.#paused && !this.#ended) {
      this.#paused = false;
      this.#hub.resume(this.#id);
    }
  }

  /**
   * Writes the stream to a Node `http.ServerResponse` (plain Node, Nitro/h3 `event.node.res`): sets the
   * SSE headers unless already sent (`options.headers` are added; the SSE ones are set unless named
   * there), respects backpressure, ends the response when the stream ends, and closes the stream when
   * the client goes away.
   *
   * On HTTP/1.1 the body is delimited by closing the connection rather than chunked (`options.chunked`
   * keeps Node's chunked encoding): an SSE response holds its connection until it ends anyway, and every
   * write then leaves without chunk framing — about a tenth less CPU per write with 10,000 clients
   * (docs/performance.md).
   */
  pipe(res, options) {
    const isResponse = readingArgument('pipe', () => !!res && typeof res.write === 'function' && typeof res.on === 'function');
    if (!isResponse) throw invalidArgument('pipe needs a Node http.ServerResponse');
    if (options === null) throw invalidArgument('pipe options must be an object like { chunked: true }, got null');
    const { chunked, headers: given } = readOptions(options, 'pipe options', ['chunked', 'headers']);
    if (chunked !== undefined && typeof chunked !== 'boolean') {
      throw invalidArgument('pipe options must be an object like { chunked: true }');
    }
    let head = SSE_HEADERS;
    if (given !== undefined) {
      const headers = sseHeaders(given, 'pipe options.headers');
      head = {};
      for (const [header, value] of headers) head[header] = header === 'set-cookie' ? headers.getSetCookie() : value;
    }
    if (!res.headersSent) {
      if (chunked !== true && 'useChunkedEncodingByDefault' in res) res.useChunkedEncodingByDefault = false;
      res.writeHead(200, head);
      res.flushHeaders?.();
    }
    res.on('drain', () => this.#resume());
    res.on('close', () => this.close());
    this.#attach(
      'pipe',
      (chunk) => {
        // A copy: a view would pin the whole take's buffer (every stream's bytes) for as long as this
        // socket keeps it unsent.
        if (!res.write(Buffer.from(chunk))) this.#pause();
      },
      () => {
        // A client that does not read would hold the response open forever: cut it.
        if (res.writableNeedDrain) res.destroy();
        else res.end();
      },
    );
    return res;
  }

  /** A Web `Response` streaming the events (TanStack Start API routes, any Fetch-style handler). */
  toResponse(init) {
    const { headers: given, status = 200, statusText } = readOptions(init, 'toResponse init', ['headers', 'status', 'statusText']);
    const headers = sseHeaders(given, 'toResponse init.headers');
    // Checked before the stream is consumed: a status or statusText the Response refuses must not leave
    // an attached stream behind.
    readingArgument('toResponse init', () => new Response('', { status, statusText, headers }));
    let controller;
    const body = new ReadableStream(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => this.#resume(),
        cancel: () => this.close(),
      },
      { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
    this.#attach(
      'response',
      (chunk) => {
        // A copy: the take's buffer is shared by every stream of the batch.
        controller.enqueue(new Uint8Array(chunk));
        if (controller.desiredSize <= 0) this.#pause();
      },
      () => {
        try {
          controller.close();
        } catch {
          // Already cancelled by the reader.
        }
      },
    );
    return new Response(body, { status, statusText, headers });
  }

  /** The SSE bytes as `Uint8Array` chunks; leaving the loop closes the stream. */
  [Symbol.asyncIterator]() {
    const chunks = [];
    let buffered = 0;
    let wakeReader = null;
    const signal = () => {
      const w = wakeReader;
      wakeReader = null;
      w?.();
    };
    this.#attach(
      'iterator',
      (chunk) => {
        chunks.push(new Uint8Array(chunk));
        buffered += chunk.byteLength;
        if (buffered >= HIGH_WATER_BYTES) this.#pause();
        signal();
      },
      signal,
    );
    const next = async () => {
      for (;;) {
        if (chunks.length > 0) {
          const value = chunks.shift();
          buffered -= value.byteLength;
          if (buffered < HIGH_WATER_BYTES) this.#resume();
          return { value, done: false };
        }
        if (this.#ended) return { value: undefined, done: true };
        await new Promise((resolve) => {
          wakeReader = resolve;
        });
      }
    };
    return {
      next,
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Restricts this stream (fewer tables, more `where` constraints) without disconnecting it. */
  narrow(narrowing) {
    return this.#hub.narrow({ streamId: this.#id }, narrowing);
  }

  /** Ends the stream from the server side (the client is gone or no longer wanted). Idempotent. */
  close() {
    if (this.#ended) return;
    this.#hub.forget(this.#id);
    this._end();
  }
}

module.exports = { RelayHub, SseStream, SSE_HEADERS };
