// Resume: what a `Last-Event-ID` reconnect costs with a full 100,000-event log. One gateway subscribed
// to 100 tenants (relay logCapacity 100,000); the log is filled by 1,000 seed_documents calls of 100
// rows, tenants round-robin, so one tenant owns 1 % of it. For one tenant's stream, each sample times:
//   open    the synchronous gateway.stream() call (the replay is filtered and queued inside it, on the
//           JS thread, while the relay is locked: this is the event-loop stall a reconnect causes);
//   done    until the client has everything it missed (or the snapshot's end);
// for three reconnects: at the head (nothing missed), 100,000 events back (the whole log: this tenant's
// 1,000 events are replayed), and no Last-Event-ID at all (a fresh snapshot of the tenant's 1,000 rows).
import { Gateway } from '../lib/index.js';
import { tenantQueries } from './fanout/serve.mjs';

const INSERT = 'event: document.insert';

/** Reads `stream` until `done(text)` says so; returns the ms to that point and what arrived. */
async function consume(stream, done) {
  let text = '';
  let firstMs = NaN;
  const t0 = performance.now();
  for await (const chunk of stream) {
    if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
    text += Buffer.from(chunk).toString('utf8');
    if (done(text)) break;
  }
  return { ms: performance.now() - t0, firstMs, inserts: text.split(INSERT).length - 1, resync: text.includes('event: resync'), text };
}
const snapshotEnd = (text) => text.includes('"phase":"end"');
/** The id of the snapshot's end frame: "complete at the log's head", what a browser would send back. */
const endId = (text) => /id: (\S+)\nevent: snapshot\ndata: [^\n]*"phase":"end"/.exec(text)[1];

export async function resume({ uri, database, events = 100_000, repeats = 5 }) {
  const tenants = Array.from({ length: 100 }, (_, i) => `resume-${Date.now().toString(36)}-${i}`);
  const owner = await Gateway.connect({ uri, database, callTimeoutMs: 120_000 });
  for (const t of tenants) await owner.callReducer('create_tenant', [t, t]);
  const gateway = await Gateway.connect({ uri, database, subscriptions: tenantQueries(tenants), relay: { logCapacity: events } });
  const tenantId = tenants[0];
  const before = endId((await consume(gateway.stream({ tenantId, tables: ['document'] }), snapshotEnd)).text);
  const perCall = 100;
  const calls = events / perCall;
  for (let i = 0; i < calls; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, calls - i) }, (_, j) => owner.callReducer('seed_documents', [tenants[(i + j) % tenants.length], perCall, 100])));
  }
  await owner.close();
  const missed = (calls / tenants.length) * perCall;
  // The log is complete once a new stream's snapshot contains every row of the tenant.
  let head;
  for (;;) {
    const r = await consume(gateway.stream({ tenantId, tables: ['document'] }), snapshotEnd);
    if ((r.text.match(/"title":"seed/g) ?? []).length === missed) {
      head = endId(r.text);
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const cases = {
    head: { lastEventId: head, done: (text) => text.length > 0, expect: 0 },
    [`${events}Back`]: { lastEventId: before, done: (text) => text.split(INSERT).length - 1 >= missed, expect: missed },
    snapshot: { lastEventId: undefined, done: snapshotEnd, expect: 0 },
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < repeats + 1; r++) {
    for (const [name, c] of Object.entries(cases)) {
      const t0 = performance.now();
      const stream = gateway.stream({ tenantId, tables: ['document'], lastEventId: c.lastEventId });
      const openMs = performance.now() - t0;
      const got = await consume(stream, c.done);
      if (got.inserts !== c.expect || got.resync) throw new Error(`resume ${name}: ${got.inserts} events (want ${c.expect}), resync ${got.resync}`);
      if (r > 0) samples[name].push({ openMs, doneMs: openMs + got.ms, firstChunkMs: openMs + got.firstMs, events: got.inserts });
    }
  }
  await gateway.close();
  return { logEvents: events, tenants: tenants.length, missedEventsOfTenant: missed, repeats, samples };
}
