// A real SSE client over HTTP (what EventSource does, minus the automatic reconnect), a frame parser, and
// a client model that rebuilds a stream's rows from its frames and fails on anything repeated or lost.

import http from 'node:http';
import smokeExpect from '../../bin/cli/smoke/expect.js';
import smokeSse from '../../bin/cli/smoke/sse.js';

/** Parses complete SSE blocks out of `text`; returns the frames and the unparsed rest (shared with the
 * `smoke` CLI, which reads streams the same way). */
export const { parseSse } = smokeSse;

/** A short label: `snapshot/begin`, `resync/gap`, `document.insert`, `: hb`, `retry`. */
export function label(frame) {
  if (frame.comment !== undefined) return `: ${frame.comment}`;
  if (frame.retry !== undefined && frame.data === undefined) return 'retry';
  const p = frame.data.payload;
  if (frame.event === 'snapshot') return `snapshot/${p.phase}`;
  if (['resync', 'revoked', 'closed'].includes(frame.event)) return `${frame.event}/${p.reason}`;
  return frame.event;
}

/** `k` of an id `<prefix>-<k>` (read as the `smoke` CLI reads it). */
export const idK = (id) => smokeExpect.positionOf(id).k;
/** What an id's position counts from: its transaction (database ids, `t…`) or its process (local ids). */
export const idPrefix = (id) => smokeExpect.positionOf(id).prefix;

/**
 * Connects to an SSE endpoint. `client.frames` fills as frames arrive (each with `at`, the arrival time
 * from performance.now()); `until(predicate)` waits for a condition on them.
 */
export function connectSse(url, { lastEventId, headers = {} } = {}) {
  const client = {
    frames: [],
    status: undefined,
    headers: undefined,
    lastEventId: undefined,
    ended: false,
    complete: false, // the body ended as HTTP framing says (not cut off)
    bytes: 0,
    res: undefined,
    req: undefined,
  };
  const waiters = new Set();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  client.opened = new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}), ...headers } }, (res) => {
      client.res = res;
      client.status = res.statusCode;
      client.headers = res.headers;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (text) => {
        client.bytes += Buffer.byteLength(text);
        const parsed = parseSse(buffer + text);
        buffer = parsed.rest;
        const at = performance.now();
        for (const f of parsed.frames) {
          f.at = at;
          if (f.id !== undefined) client.lastEventId = f.id;
          client.frames.push(f);
        }
        if (parsed.frames.length > 0) notify();
      });
      res.on('end', () => {
        client.complete = res.complete;
      });
      res.on('close', () => {
        client.ended = true;
        notify();
      });
      resolve(client);
    });
    req.on('error', (e) => {
      client.ended = true;
      notify();
      reject(e);
    });
    client.req = req;
  });
  client.until = (predicate, timeoutMs = 10_000, what = 'a condition') =>
    new Promise((resolve, reject) => {
      const check = () => {
        let ok = false;
        try {
          ok = predicate(client.frames, client);
        } catch (e) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(e);
          return;
        }
        if (ok) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(client.frames);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; frames: ${client.frames.slice(-8).map(label).join(', ')} (${client.frames.length} in all)`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  client.close = () => client.req?.destroy();
  /** Stops reading the socket (TCP backpressure reaches the server), or starts again. */
  client.stall = () => client.res.pause();
  client.unstall = () => client.res.resume();
  return client;
}

/** Rebuilds rows (by table and id) from frames; throws on a repeat, a loss, or an id that goes back. */
export class StreamModel {
  rows = new Map();
  pending = null;
  resyncing = false;
  lastK = -1n;
  lastPrefix = undefined;
  lastId = undefined;
  seen = 0;
  ended = undefined;

  apply(frames) {
    for (const f of frames.slice(this.seen)) this.#one(f);
    this.seen = frames.length;
    return this;
  }

  #one(f) {
    if (this.ended) throw new Error(`a frame after the end: ${label(f)}`);
    if (f.id !== undefined) {
      // Ids of one transaction (database ids) or one process (local ids) count up; others only differ.
      const k = idK(f.id);
      const prefix = idPrefix(f.id);
      if (f.id === this.lastId) throw new Error(`an id twice: ${f.id}`);
      if (prefix === this.lastPrefix && k <= this.lastK) throw new Error(`ids went back: ${this.lastId} then ${f.id}`);
      [this.lastK, this.lastPrefix, this.lastId] = [k, prefix, f.id];
    }
    if (f.data === undefined) return;
    const p = f.data.payload;
    const key = (table, row) => `${table}:${row.id}`;
    if (f.event === 'snapshot') {
      if (p.phase === 'begin') this.pending = new Map();
      else if (p.phase === 'rows') {
        for (const row of p.rows) {
          if (this.pending.has(key(p.table, row))) throw new Error(`row twice in a snapshot: ${key(p.table, row)}`);
          this.pending.set(key(p.table, row), row);
        }
      } else {
        this.rows = this.pending;
        this.pending = null;
        this.resyncing = false;
      }
    } else if (f.event === 'resync') {
      this.resyncing = true;
      this.pending = null;
    } else if (f.event === 'revoked' || f.event === 'closed') {
      this.ended = label(f);
    } else {
      const [table, op] = [f.event.slice(0, f.event.lastIndexOf('.')), f.event.slice(f.event.lastIndexOf('.') + 1)];
      const k = key(table, p.row);
      if (op === 'insert') {
        if (this.rows.has(k)) throw new Error(`insert of a held row ${k}`);
        this.rows.set(k, p.row);
      } else if (op === 'update') {
        if (JSON.stringify(this.rows.get(k)) !== JSON.stringify(p.oldRow)) throw new Error(`update of ${k} not held as its oldRow`);
        this.rows.set(k, p.row);
      } else {
        if (JSON.stringify(this.rows.get(k)) !== JSON.stringify(p.row)) throw new Error(`delete of ${k} not held`);
        this.rows.delete(k);
      }
    }
  }

  /** The held rows of `table`, sorted by id. */
  table(table) {
    return [...this.rows.entries()]
      .filter(([k]) => k.startsWith(`${table}:`))
      .map(([, row]) => row)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }
}
