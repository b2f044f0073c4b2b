// The SSE clients of the fan-out benchmark, in their own process: N plain TCP connections doing
// `GET <path>?t=<tenant>` and reading the response bytes. No HTTP parser and no SSE parser: every change
// frame of every variant carries exactly one `"updated_at":"<RFC 3339 µs>"` (the row's commit time), so
// counting that marker counts delivered events and the timestamp after it gives commit-to-client latency.
// (Chunked-encoding size lines sit between writes, and every variant writes whole frames, so they never
// split a marker; TCP segments may, hence the carry-over.) The same cheap client for every variant keeps
// the clients' share of the 2 cores equal. Each client counts its own events, so losses and repeats are
// checked per client against the rows its tenant committed.
import net from 'node:net';
import { Histogram } from './histogram.mjs';

const MARK = Buffer.from('"updated_at":"');
const STAMP = 26; // 2026-11-29T05:00:00.123456
const RESYNC = Buffer.from('event: resync');

let conns = [];
let perTenant = new Float64Array(0); // events received, by tenant index
let histogram = new Histogram();
let resyncs = 0;
let disconnects = 0;
let lastStamp = '';
let lastMicros = 0;

/** Microseconds since the epoch of `2026-11-29T05:00:00.123456` (cached: a tenant's clients see the same). */
function micros(text) {
  if (text !== lastStamp) {
    lastStamp = text;
    lastMicros = Date.parse(text.slice(0, 23) + 'Z') * 1000 + Number(text.slice(23, 26));
  }
  return lastMicros;
}

/** One client of `tenant`: `GET <path>?<query>=<tenant>` with the extra `headers` (e.g. a session cookie). */
function open(port, path, tenantIndex, tenant, query = 't', headers = {}) {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const conn = { socket, closedByUs: false, tenantIndex, received: 0 };
    let carry = null;
    let opened = false;
    socket.on('connect', () => {
      socket.write(`GET ${path}?${query}=${encodeURIComponent(tenant)} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n${extra}\r\n`);
    });
    socket.on('data', (chunk) => {
      if (!opened) {
        opened = true; // the response headers arrived: the stream is open
        resolve(true);
      }
      const now = (performance.timeOrigin + performance.now()) * 1000; // µs, same clock as the server's
      const buf = carry === null ? chunk : Buffer.concat([carry, chunk]);
      carry = null;
      if (buf.indexOf(RESYNC) !== -1) resyncs++;
      let pos = 0;
      for (;;) {
        const at = buf.indexOf(MARK, pos);
        if (at === -1) break;
        const end = at + MARK.length + STAMP;
        if (end > buf.length) {
          carry = buf.subarray(at);
          break;
        }
        perTenant[tenantIndex]++;
        conn.received++;
        histogram.record((now - micros(buf.toString('latin1', at + MARK.length, end))) / 1000);
        pos = end;
      }
      // A marker may start in the last bytes of this chunk.
      if (carry === null && buf.length - pos >= MARK.length) carry = Buffer.from(buf.subarray(buf.length - MARK.length + 1));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!conn.closedByUs) disconnects++;
      if (!opened) resolve(false);
    });
    conns.push(conn);
  });
}

const counts = () => ({ received: perTenant.reduce((a, b) => a + b, 0), perTenant: Array.from(perTenant), resyncs, disconnects });

process.on('message', async (msg) => {
  if (msg.cmd === 'open') {
    // { port, path, query?, headers?, tenants, from, to }: clients from..to-1, client i of tenant i % tenants.length.
    // Connect in waves so the accept queue never overflows (a dropped SYN costs a 1 s retransmit).
    if (perTenant.length !== msg.tenants.length) perTenant = new Float64Array(msg.tenants.length);
    let ok = 0;
    for (let i = msg.from; i < msg.to; i += 500) {
      const wave = [];
      for (let j = i; j < Math.min(msg.to, i + 500); j++) wave.push(open(msg.port, msg.path, j % msg.tenants.length, msg.tenants[j % msg.tenants.length], msg.query, msg.headers));
      ok += (await Promise.all(wave)).filter(Boolean).length;
    }
    process.send({ opened: ok });
  } else if (msg.cmd === 'reset') {
    perTenant.fill(0);
    for (const c of conns) c.received = 0;
    histogram = new Histogram();
    resyncs = 0;
    disconnects = 0;
    process.send({ ok: true });
  } else if (msg.cmd === 'count') {
    process.send(counts());
  } else if (msg.cmd === 'latency') {
    // The latency summary since the last reset or `latency`, and a fresh histogram (counts stay).
    process.send(histogram.summary());
    histogram = new Histogram();
  } else if (msg.cmd === 'report') {
    // { rows: confirmed rows per tenant }: every client of tenant t must have exactly rows[t] events, so a
    // loss at one client cannot hide behind a repeat at another.
    let lost = 0;
    let duplicates = 0;
    for (const c of conns) {
      const diff = c.received - (msg.rows[c.tenantIndex] ?? 0);
      if (diff < 0) lost -= diff;
      else duplicates += diff;
    }
    process.send({ ...counts(), lost, duplicates, latency: histogram.summary() });
  } else if (msg.cmd === 'close') {
    perTenant = new Float64Array(0);
    for (const c of conns) {
      c.closedByUs = true;
      c.socket.destroy();
    }
    conns = [];
    process.send({ ok: true });
  }
});
