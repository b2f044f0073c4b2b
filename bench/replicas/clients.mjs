// The resume storm's SSE clients, in their own process: N plain TCP connections to one replica opened at
// once (waves of 500, so the accept queue never overflows), `GET /events?tenant=<t>` with or without a
// `Last-Event-ID`. No SSE parser, markers counted in the bytes (split markers found with a carry-over):
//   resume     done after `events` change frames (`\nevent: document.`); a `resync` frame is counted
//   snapshot   done at the snapshot's end frame (`"phase":"end"`); its rows (`"updated_at":"`) counted
import net from 'node:net';

const MARK = {
  change: Buffer.from('\nevent: document.'),
  resync: Buffer.from('\nevent: resync'),
  row: Buffer.from('"updated_at":"'),
  end: Buffer.from('"phase":"end"'),
};
const CARRY = Math.max(...Object.values(MARK).map((m) => m.length)) - 1;

let conns = [];
let t0 = 0;

/**
 * Occurrences of `marker` in `buf` ending after `from` (the carry's length: one wholly inside the carry
 * was counted with the previous chunk) and at or before `limit`.
 */
function count(buf, marker, from, limit = buf.length) {
  let n = 0;
  for (let at = buf.indexOf(marker); at !== -1 && at + marker.length <= limit; at = buf.indexOf(marker, at + marker.length)) if (at + marker.length > from) n++;
  return n;
}

function open(port, tenant, lastEventId, want) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const conn = { socket, tenant, changes: 0, resyncs: 0, rows: 0, doneMs: null, closedByUs: false, disconnected: false };
    let carry = Buffer.alloc(0);
    let opened = false;
    socket.on('connect', () => {
      const header = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : '';
      socket.write(`GET /events?tenant=${encodeURIComponent(tenant)} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n${header}\r\n`);
    });
    socket.on('data', (chunk) => {
      if (!opened) {
        opened = true;
        resolve(true);
      }
      if (conn.doneMs !== null) return;
      // The carry (one byte shorter than the longest marker) finds markers split between reads.
      const from = carry.length;
      const buf = from ? Buffer.concat([carry, chunk]) : chunk;
      conn.resyncs += count(buf, MARK.resync, from);
      if (want.snapshot) {
        const end = buf.indexOf(MARK.end);
        conn.rows += count(buf, MARK.row, from, end === -1 ? buf.length : end);
        if (end !== -1) conn.doneMs = performance.now() - t0;
      } else {
        conn.changes += count(buf, MARK.change, from);
        if (conn.changes >= want.events) conn.doneMs = performance.now() - t0;
      }
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
  if (msg.cmd === 'storm') {
    // { port, clients: [{ tenant, lastEventId }], want: { events } | { snapshot: true } }: the storm starts now.
    t0 = performance.now();
    let ok = 0;
    for (let i = 0; i < msg.clients.length; i += 500) {
      const wave = msg.clients.slice(i, i + 500).map((c) => open(msg.port, c.tenant, c.lastEventId, msg.want));
      ok += (await Promise.all(wave)).filter(Boolean).length;
    }
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
    for (const c of conns) {
      c.closedByUs = true;
      c.socket.destroy();
    }
    conns = [];
    process.send({ ok: true });
  }
});
