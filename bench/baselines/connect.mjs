// Connecting the official SDK (shared by sdk-gateway.mjs and sdk-decode.mjs), with the workarounds SDK
// 1.3.3 needs on Node: a promise for the connection, a promise for its end, and no console noise.
import { DbConnection } from './module-bindings/index.js';

/**
 * Connects one `DbConnection` (compression 'none' unless told otherwise: see the README for why gzip is
 * unfair and unsafe with SDK 1.3.3; Brotli is not implemented by it).
 *
 * Resolves `{ conn, identity, closed }` once the server has sent the identity token; `closed` resolves
 * (with the close event) when the WebSocket closes for any reason.
 *
 * @param {{ uri: string, database: string, token?: string, compression?: 'none' | 'gzip', timeoutMs?: number }} options
 */
export function connectSdk({ uri, database, token, compression = 'none', timeoutMs = 10_000 }) {
  let onClosed;
  const closed = new Promise((resolve) => (onClosed = resolve));
  return new Promise((resolve, reject) => {
    let connected = false;
    const timer = setTimeout(() => reject(new Error(`SDK: no connection to ${uri} within ${timeoutMs} ms`)), timeoutMs);
    const builder = DbConnection.builder()
      .withUri(uri)
      .withModuleName(database)
      .withCompression(compression)
      .onConnect((conn, identity) => {
        connected = true;
        clearTimeout(timer);
        resolve({ conn, identity, closed });
      })
      // SDK 1.3.3 maps the WebSocket's `close` to its error path: `onDisconnect` never fires, and every
      // close (including our own `disconnect()`) arrives here. Before `onConnect` it is a failed connect.
      .onConnectError((_ctx, event) => {
        onClosed(event);
        if (!connected) {
          clearTimeout(timer);
          reject(new Error(`SDK: connecting to ${uri} failed: ${describe(event)}`));
        }
      });
    if (token) builder.withToken(token);
    // The SDK prints "ℹ️ INFO Connecting to SpacetimeDB WS..." with console.log (stdout) from the
    // connection's constructor, i.e. synchronously inside build(). Benchmarks print their results on
    // stdout, so that one line is muted; the SDK's later warnings and errors are left alone.
    const log = console.log;
    console.log = () => {};
    try {
      builder.build();
    } finally {
      console.log = log;
    }
  });
}

/**
 * Disconnects and waits (at most `timeoutMs`) until the WebSocket is closed. `disconnect()` returns at
 * once and the SDK reports the close only through its error callback (see above).
 */
export async function disconnectSdk({ conn, closed }, timeoutMs = 2000) {
  conn.disconnect();
  let timer;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/**
 * Which TextDecoder the SDK uses: 'polyfill' (as shipped: `@zxing/text-encoding`, pure JavaScript) or
 * 'native' (Node's, with `node --import ./bench/baselines/native-text-decoder.mjs`). Benchmarks should
 * print it with their results.
 */
export function sdkTextDecoder() {
  return globalThis[Symbol.for('spacetime-gateway.bench.nativeTextDecoder')] ? 'native' : 'polyfill';
}

function describe(event) {
  if (event instanceof Error) return event.message;
  if (event && typeof event === 'object') {
    if ('message' in event && event.message) return String(event.message);
    if ('code' in event) return `WebSocket closed with code ${event.code}${event.reason ? ` (${event.reason})` : ''}`;
    if ('type' in event) return `WebSocket ${event.type}`;
  }
  return String(event);
}
