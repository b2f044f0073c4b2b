// The storm's SSE clients, in their own process: N plain TCP connections `GET <path>?t=<tenant>&sub=<sub>`
// opened at once (in waves of 500, so the accept queue never overflows), each reading until its
// snapshot's `end` frame. Like the fan-out clients there is no HTTP or SSE parser: every row carries one
// `"updated_at":"` (counted up to the end frame: the snapshot's rows) and the end frame one
// `"phase":"end"`; markers split between reads are found with a carry-over.
import net from 'node:net';

const ROW = Buffer.from('"updated_at":"');
const END = Buffer.from('"phase":"end"');
const CARRY = Math.max(ROW.length, END.length) - 1;

let conns = [];
let t0 = 0;

/** Occurrences of `marker` in `buf` before `limit`. */
function count(buf, marker, limit) {
  let n = 0;
  for (let at = buf.indexOf(marker); at !== -1 && at + marker.length <= limit; at = buf.indexOf(marker, at + marker.length)) n++;
  return n;
}

function open(port, path, tenant, sub) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const conn = { socket, bytes: 0, rows: 0, doneMs: null, closedByUs: false, disconnected: false };
    let carry = Buffer.alloc(0);
    let opened = false;
    socket.on('connect', () => {
      socket.write(`GET ${path}?t=${encodeURIComponent(tenant)}${sub ? `&sub=${encodeURIComponent(sub)}` : ''} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`);
    });
    socket.on('data', (chunk) => {
      if (!opened) {
        opened = true;
        resolve(true);
      }
      if (conn.doneMs !== null) return;
      conn.bytes += chunk.length;
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const end = buf.indexOf(END);
      // The carry is one byte shorter than a marker: no marker is counted twice.
      conn.rows += count(buf, ROW, end === -1 ? buf.length : end);
      if (end !== -1) conn.doneMs = performance.now() - t0;
      carry = Buffer.from(buf.subarray(Math.max(0, buf.length - CARRY)));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!conn.closedByUs) conn.disconnected = true;
      if (!opened) resolve(false);
    });
    conns.push(conn);
  });
}

process.on('message', async (msg) => {
  if (msg.cmd === 'open') {
    // { port, path, tenant, sub, n }: the storm starts now.
    t0 = performance.now();
    let ok = 0;
    for (let i = 0; i < msg.n; i += 500) {
      const wave = Array.from({ length: Math.min(500, msg.n - i) }, () => open(msg.port, msg.path, msg.tenant, msg.sub));
      ok += (await Promise.all(wave)).filter(Boolean).length;
    }
    process.send({ opened: ok, openMs: performance.now() - t0 });
  } else if (msg.cmd === 'status') {
    process.send({ complete: conns.filter((c) => c.doneMs !== null).length, n: conns.length });
  } else if (msg.cmd === 'report') {
    const done = conns.filter((c) => c.doneMs !== null);
    process.send({
      n: conns.length,
      complete: done.length,
      disconnects: conns.filter((c) => c.disconnected).length,
      lastMs: Math.max(...done.map((c) => c.doneMs)),
      firstMs: Math.min(...done.map((c) => c.doneMs)),
      snapshotBytes: conns.reduce((s, c) => s + c.bytes, 0),
      rows: { min: Math.min(...conns.map((c) => c.rows)), max: Math.max(...conns.map((c) => c.rows)) },
    });
  } else if (msg.cmd === 'close') {
    for (const c of conns) {
      c.closedByUs = true;
      c.socket.destroy();
    }
    conns = [];
    process.send({ ok: true });
  }
});
