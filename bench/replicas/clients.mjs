// The resume storm's SSE clients, in their own process: N plain TCP connections to one replica opened at
// once (waves of 500, so the accept queue never overflows), `GET /events?tenant=<t>` with or without a
// `Last-Event-ID`. No SSE parser, markers counted in the bytes (split markers found with a carry-over):
//   resume     done after `events` change frames (`\nevent: document.`); after a `resync` (counted),
//              at the end of the snapshot that follows it
//   snapshot   done at the snapshot's end frame (`"phase":"end"`); its rows (`"updated_at":"`) counted
import { closeAll, count, openInWaves, openRaw } from '../lib/raw-sse.mjs';

const MARK = {
  change: Buffer.from('\nevent: document.'),
  resync: Buffer.from('\nevent: resync'),
  row: Buffer.from('"updated_at":"'),
  end: Buffer.from('"phase":"end"'),
};
const CARRY = Math.max(...Object.values(MARK).map((m) => m.length)) - 1;

let conns = [];
let t0 = 0;

function open(port, tenant, lastEventId, want) {
  const conn = { tenant, changes: 0, resyncs: 0, rows: 0 };
  conns.push(conn);
  const header = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : '';
  const request = `GET /events?tenant=${encodeURIComponent(tenant)} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n${header}\r\n`;
  return openRaw(port, request, conn, CARRY, (buf, from) => {
    conn.resyncs += count(buf, MARK.resync, from);
    if (want.snapshot) {
      const end = buf.indexOf(MARK.end);
      conn.rows += count(buf, MARK.row, from, end === -1 ? buf.length : end);
      if (end !== -1) conn.doneMs = performance.now() - t0;
    } else {
      conn.changes += count(buf, MARK.change, from);
      // A resync instead of a resume: caught up once its snapshot is complete.
      if (conn.changes >= want.events || (conn.resyncs > 0 && buf.includes(MARK.end))) conn.doneMs = performance.now() - t0;
    }
  });
}

process.on('message', async (msg) => {
  if (msg.cmd === 'storm') {
    // { port, clients: [{ tenant, lastEventId }], want: { events } | { snapshot: true } }: the storm starts now.
    t0 = performance.now();
    const ok = await openInWaves(msg.clients.length, (i) => open(msg.port, msg.clients[i].tenant, msg.clients[i].lastEventId, msg.want));
    process.send({ opened: ok, openMs: performance.now() - t0 });
  } else if (msg.cmd === 'status') {
    process.send({ done: conns.filter((c) => c.doneMs !== null).length, n: conns.length });
  } else if (msg.cmd === 'report') {
    const done = conns.filter((c) => c.doneMs !== null);
    process.send({
      n: conns.length,
      done: done.length,
      lastMs: Math.max(...done.map((c) => c.doneMs)),
      firstMs: Math.min(...done.map((c) => c.doneMs)),
      resyncs: conns.reduce((s, c) => s + c.resyncs, 0),
      disconnects: conns.filter((c) => c.disconnected).length,
      changes: { min: Math.min(...conns.map((c) => c.changes)), max: Math.max(...conns.map((c) => c.changes)) },
      rows: { min: Math.min(...conns.map((c) => c.rows)), max: Math.max(...conns.map((c) => c.rows)) },
    });
  } else if (msg.cmd === 'close') {
    closeAll(conns);
    conns = [];
    process.send({ ok: true });
  }
});
