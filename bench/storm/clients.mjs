// The storm's SSE clients, in their own process: N plain TCP connections `GET <path>?t=<tenant>&sub=<sub>`
// opened at once (in waves of 500, so the accept queue never overflows), each reading until its
// snapshot's `end` frame. Like the fan-out clients there is no HTTP or SSE parser: every row carries one
// `"updated_at":"` (counted up to the end frame: the snapshot's rows) and the end frame one
// `"phase":"end"`; markers split between reads are found with a carry-over.
import { closeAll, count, openInWaves, openRaw } from '../lib/raw-sse.mjs';

const ROW = Buffer.from('"updated_at":"');
const END = Buffer.from('"phase":"end"');
const CARRY = Math.max(ROW.length, END.length) - 1;

let conns = [];
let t0 = 0;

function open(port, path, tenant, sub) {
  const conn = { bytes: 0, rows: 0 };
  conns.push(conn);
  const request = `GET ${path}?t=${encodeURIComponent(tenant)}${sub ? `&sub=${encodeURIComponent(sub)}` : ''} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`;
  return openRaw(port, request, conn, CARRY, (buf, from, chunk) => {
    conn.bytes += chunk.length;
    const end = buf.indexOf(END);
    conn.rows += count(buf, ROW, from, end === -1 ? buf.length : end);
    if (end !== -1) conn.doneMs = performance.now() - t0;
  });
}

process.on('message', async (msg) => {
  if (msg.cmd === 'open') {
    // { port, path, tenant, sub, n }: the storm starts now.
    t0 = performance.now();
    const ok = await openInWaves(msg.n, () => open(msg.port, msg.path, msg.tenant, msg.sub));
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
    closeAll(conns);
    conns = [];
    process.send({ ok: true });
  }
});
