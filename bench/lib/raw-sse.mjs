// Raw SSE connections for the storm benchmarks' client processes (bench/storm, bench/replicas): plain TCP
// connections that send one GET and hand each read to a counter, no HTTP or SSE parser. Counters look for
// byte markers; a marker split between two reads is found through a carry-over of the previous read's
// tail, and `count` leaves out the markers wholly inside that carry (counted with the previous read).
import net from 'node:net';

/** Occurrences of `marker` in `buf` ending after `from` (the carry's length) and at or before `limit`. */
export function count(buf, marker, from, limit = buf.length) {
  let n = 0;
  for (let at = buf.indexOf(marker); at !== -1 && at + marker.length <= limit; at = buf.indexOf(marker, at + marker.length)) if (at + marker.length > from) n++;
  return n;
}

/**
 * Connects to 127.0.0.1:`port`, sends `request` and calls `onRead(buf, from, chunk)` for every read until
 * `conn.doneMs` is set: `buf` is the read with the carry (the last `carry` bytes of the previous one)
 * before it, `from` the carry's length. `conn` gets `socket`, `closedByUs` and `disconnected`. Resolves
 * true once the first bytes arrived, false if the connection closed before.
 */
export function openRaw(port, request, conn, carry, onRead) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    Object.assign(conn, { socket, doneMs: null, closedByUs: false, disconnected: false });
    let tail = Buffer.alloc(0);
    let opened = false;
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      if (!opened) {
        opened = true;
        resolve(true);
      }
      if (conn.doneMs !== null) return;
      const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      onRead(buf, tail.length, chunk);
      tail = Buffer.from(buf.subarray(Math.max(0, buf.length - carry)));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!conn.closedByUs) conn.disconnected = true;
      if (!opened) resolve(false);
    });
  });
}

/** Calls `open(i)` for i < n in waves of 500 (the accept queue never overflows); resolves how many opened. */
export async function openInWaves(n, open) {
  let ok = 0;
  for (let i = 0; i < n; i += 500) {
    const wave = Array.from({ length: Math.min(500, n - i) }, (_, j) => open(i + j));
    ok += (await Promise.all(wave)).filter(Boolean).length;
  }
  return ok;
}

/** Ends every connection of `conns` from our side. */
export function closeAll(conns) {
  for (const c of conns) {
    c.closedByUs = true;
    c.socket.destroy();
  }
}
