// The floor of an initial subscription: a bare websocket client that sends SubscribeMulti and waits for
// the server's reply without decoding any of it. What it measures is the server's query and
// serialization plus the transfer; everything a client does beyond that is its own work.
import WebSocket from 'ws';

/** A SubscribeMulti message in BSATN (protocol doc §2.2): tag 4, [String], request_id, query_id. */
function subscribeMulti(queries, requestId, queryId) {
  const parts = [Buffer.from([4]), u32(queries.length)];
  for (const q of queries) {
    const bytes = Buffer.from(q, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  parts.push(u32(requestId), u32(queryId));
  return Buffer.concat(parts);
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/**
 * Time from sending the subscription to receiving the server's reply (connecting is not timed).
 * @returns {Promise<{ ms: number, bytes: number }>}
 */
export async function rawSubscribe({ uri, database, query }) {
  const ws = new WebSocket(`${uri.replace(/^http/, 'ws')}/v1/database/${database}/subscribe?compression=None`, 'v1.bsatn.spacetimedb');
  ws.binaryType = 'nodebuffer';
  const messages = [];
  let wake = null;
  ws.on('message', (data) => {
    messages.push(data);
    wake?.();
  });
  const next = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => (wake = () => r(messages.shift()))));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  await next(); // IdentityToken
  const t0 = performance.now();
  ws.send(subscribeMulti([query], 1, 1));
  const reply = await next();
  const ms = performance.now() - t0;
  // byte 0: compression tag (0 = none); byte 1: ServerMessage tag (8 = SubscribeMultiApplied).
  if (reply[0] !== 0 || reply[1] !== 8) throw new Error(`unexpected reply tags ${reply[0]}/${reply[1]}`);
  ws.close();
  return { ms, bytes: reply.length };
}
