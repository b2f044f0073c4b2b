// The write load of the fan-out benchmark, in its own process: it owns the run's tenants and calls
// reducers through spacetime-gateway's client (any client would do; this process is not measured).
//   fixed: `rate` create_document calls per second, 1 row per transaction, tenants round-robin;
//   saturate: seed_documents(tenant, `batch` rows) (or create_document when batch is 1) with `inflight`
//     calls in flight, tenants round-robin, closed-loop on delivery: a call is issued only while fewer than
//     `maxOutstanding` events are committed-or-in-flight but not yet received by the clients (the harness
//     forwards the clients' count as `received` messages). So the load follows what the variant can
//     deliver — its maximum sustained rate — with a bounded backlog, instead of an ever-growing queue.
// A `stop` notification ends a run early (the snapshot-storm scenario stops the load when its storm is over).
// It replies with the rows committed per tenant (only calls the server confirmed), which is what the
// clients must receive. With `feed` (Baseline B) it also sends, for every confirmed commit, the
// pre-encoded SSE frames of its rows to that Node server, which writes them to the tenant's clients as is.
import net from 'node:net';
import { Gateway } from '../../lib/index.js';

const BODY_LEN = 100;
let gateway;
let identityHex;
let feed = null;
let tenants = [];
let rowId = 0;
let received = 0; // events the clients have, as last forwarded by the harness
let stopRequested = false; // the harness ended a run early (`stop`)

/** Microsecond RFC 3339 time, the format of `updated_at` in every variant's frames. */
function rfc3339Micros(micros) {
  return `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, -1)}${String(Math.floor(micros % 1000)).padStart(3, '0')}Z`;
}

/**
 * Baseline B's frame for one row: the same envelope, row and `id:` line shape spacetime-gateway emits, with
 * `updated_at` = when this process issued the call (B never sees the server's value).
 */
function frame(tenant, title, updatedAt) {
  const id = `b0000000000000000000-${++rowId * 3}`;
  const row = { id: String(rowId), tenant_id: tenant, title, body: 'x'.repeat(BODY_LEN), owner: identityHex, updated_at: updatedAt, version: 1 };
  const data = JSON.stringify({ event: 'document.insert', id, tenant_id: tenant, schema_version: 1, payload: { row } });
  return `id: ${id}\nevent: document.insert\ndata: ${data}\n\n`;
}

/** Sends a committed transaction's frames to B: u32 length, u16 tenant index, the bytes. */
function sendFeed(tenantIndex, frames) {
  const body = Buffer.from(frames.join(''));
  const head = Buffer.alloc(6);
  head.writeUInt32LE(body.length + 2, 0);
  head.writeUInt16LE(tenantIndex, 4);
  feed.write(Buffer.concat([head, body]));
}

async function commit(t, rows) {
  const issued = rfc3339Micros((performance.timeOrigin + performance.now()) * 1000);
  const tenant = tenants[t];
  if (rows === 1) await gateway.callReducer('create_document', [tenant, `doc ${rowId}`, 'x'.repeat(BODY_LEN)]);
  else await gateway.callReducer('seed_documents', [tenant, rows, BODY_LEN]);
  if (feed) sendFeed(t, Array.from({ length: rows }, (_, n) => frame(tenant, rows === 1 ? `doc ${rowId}` : `seed ${n}`, issued)));
  return rows;
}

/** `rate` > 0: that many calls per second (fixed); otherwise closed-loop saturation. */
async function run({ seconds, rate, batch = 1, inflight, maxOutstanding, clientsPerTenant }) {
  const rows = new Array(tenants.length).fill(0);
  let next = 0;
  let errors = 0;
  let issuedEvents = 0;
  let blockedMs = 0;
  received = 0;
  const one = () => {
    const t = next++ % tenants.length;
    issuedEvents += batch * (clientsPerTenant?.[t] ?? 0);
    return commit(t, batch).then(
      (n) => (rows[t] += n),
      () => errors++,
    );
  };
  const start = performance.now();
  const end = start + seconds * 1000;
  stopRequested = false;
  const running = () => performance.now() < end && !stopRequested;
  if (rate > 0) {
    // `rate` calls per second as a schedule (not waiting for replies), so a slow server shows as latency.
    const pending = [];
    let due = 0;
    while (running()) {
      const elapsed = (performance.now() - start) / 1000;
      for (; due < elapsed * rate; due++) pending.push(one());
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
  } else {
    const worker = async () => {
      while (running()) {
        if (issuedEvents - received > maxOutstanding) {
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, 1));
          blockedMs += performance.now() - t0;
          continue;
        }
        await one();
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
  }
  // blockedSeconds: summed over the in-flight workers; near 0 means the writer/server, not the
  // gateway, set the pace (the delivered figure is then a lower bound of the gateway's maximum).
  return { rows, errors, commits: next - errors, seconds: (performance.now() - start) / 1000, blockedSeconds: blockedMs / 1000 / (inflight ?? 1) };
}

process.on('message', async (msg) => {
  if (msg.cmd === 'received') {
    received = msg.received; // no reply: a notification during a run
    return;
  }
  if (msg.cmd === 'stop') {
    stopRequested = true; // no reply: the running `run` ends early and replies
    return;
  }
  try {
    if (msg.cmd === 'init') {
      // A fresh anonymous identity, or the one given (`token` and its `identity`: a member of the tenants).
      const { token, identity } = msg.token ? msg : await fetch(`${msg.uri}/v1/identity`, { method: 'POST' }).then((r) => r.json());
      identityHex = identity;
      await gateway?.close(); // a new run's fresh database
      gateway = await Gateway.connect({ uri: msg.uri, database: msg.database, token });
      process.send({ ok: true });
    } else if (msg.cmd === 'tenants') {
      tenants = msg.tenants;
      // `existing`: the tenants were made elsewhere (e.g. by an app's organization hooks).
      if (!msg.existing) for (const t of tenants) await gateway.callReducer('create_tenant', [t, t]);
      process.send({ ok: true });
    } else if (msg.cmd === 'feed') {
      feed = msg.path ? await new Promise((resolve) => { const s = net.connect(msg.path, () => resolve(s)); }) : null;
      process.send({ ok: true });
    } else if (msg.cmd === 'run') {
      process.send(await run(msg));
    } else if (msg.cmd === 'close') {
      feed?.end();
      await gateway.close();
      process.send({ ok: true });
    }
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) });
  }
});
