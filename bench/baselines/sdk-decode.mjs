// How long the official SDK (1.3.3) takes to take in an initial subscription: from sending the subscribe
// message until every initial row is in its client cache and every `onInsert` callback has run — the
// point an app waits for before it can serve. Connecting (HTTP token exchange, WebSocket handshake,
// identity token) happens before the clock starts and is not measured.
import { connectSdk, disconnectSdk } from './connect.mjs';

/**
 * @param {{ uri: string, database: string, token?: string, query: string | string[] }} options
 *   `query`: SQL over the bindings' tables (`document`, `tenant`), e.g.
 *   `SELECT * FROM document WHERE tenant_id = 'bench-1'`.
 * @returns {Promise<{ rows: number, ms: number, appliedMs: number, receivedMs: number }>}
 *   `rows`: initial rows delivered through `onInsert`; `ms`: until the last of those callbacks returned;
 *   `appliedMs`: until `onApplied` (cache filled, callbacks not yet run); `receivedMs`: until the
 *   server's answer reached the SDK (server time + transfer), so `ms - receivedMs` is the SDK's own work.
 */
export async function sdkInitialSubscription({ uri, database, token, query }) {
  const sdk = await connectSdk({ uri, database, token, compression: 'none' });
  const { conn } = sdk;
  try {
    return await new Promise((resolve, reject) => {
      let t0 = 0;
      let lastMessageAt = 0;
      let receivedMs = -1;
      let appliedMs = -1;
      let expected = -1;
      let seen = 0;
      const finish = () => resolve({ rows: seen, ms: performance.now() - t0, appliedMs, receivedMs });
      // When each message reaches the SDK: its WebSocket adapter hands every (uncompressed) message to
      // the connection's `onmessage`, which only queues it. Messages are processed one at a time in
      // arrival order, so at `onApplied` the latest arrival is the subscription's answer.
      const deliver = conn.ws.onmessage;
      conn.ws.onmessage = (message) => {
        lastMessageAt = performance.now();
        deliver(message);
      };
      // The callback only counts (so the time is the SDK's, not an app's): the count tells when the last
      // initial row's callback has run.
      const onInsert = (ctx) => {
        if (ctx.event.tag !== 'SubscribeApplied') return;
        seen++;
        if (seen === expected) finish();
      };
      conn.db.document.onInsert(onInsert);
      conn.db.tenant.onInsert(onInsert);
      const builder = conn
        .subscriptionBuilder()
        // SDK 1.3.3 calls onApplied after filling the cache but *before* the initial rows' onInsert
        // callbacks, so "applied" alone is not "the app has seen the rows". The cache's row count there is
        // exactly the number of onInsert calls that follow (a fresh connection: every cached row is new).
        .onApplied(() => {
          appliedMs = performance.now() - t0;
          receivedMs = lastMessageAt - t0;
          expected = conn.db.document.count() + conn.db.tenant.count();
          if (seen === expected) finish(); // no rows at all
        })
        .onError((_ctx, error) => reject(new Error(`SDK subscription failed: ${error?.message ?? error}`)));
      t0 = performance.now();
      builder.subscribe(query);
    });
  } finally {
    await disconnectSdk(sdk);
  }
}
