// One variant of the decode benchmark, in its own process (the SDK's native-decoder variant needs a
// loader hook before the SDK loads): a warm-up, then `repeats` timed initial subscriptions of `query`.
// Prints one JSON line: { variant, decoder?, samples: [...] }.
//   ours:  Gateway.connect (not timed), then subscribe([query]) (rows decoded into the Rust projection)
//          and rows('document') (every row as a JS object); both times are kept.
//   raw:   a bare websocket that only receives the server's reply (bench/lib/raw-subscribe.mjs): the floor.
//   sdk:   sdkInitialSubscription: subscribe() until every row is in the SDK's cache and its onInsert
//          callback ran (bench/baselines/sdk-decode.mjs).
const [variant, query, repeatsText, rowsText] = process.argv.slice(2);
const repeats = Number(repeatsText);
const rows = Number(rowsText);
const uri = process.env.SPACETIMEDB_URL;
const database = process.env.SPACETIMEDB_DB;

async function ours() {
  const { Gateway } = await import('../lib/index.js');
  const g = await Gateway.connect({ uri, database });
  const t0 = performance.now();
  await g.subscribe([query]);
  const t1 = performance.now();
  const got = g.rows('document').length;
  const t2 = performance.now();
  await g.close();
  return { rows: got, subscribeMs: t1 - t0, ms: t2 - t0 };
}

async function sdk() {
  const { sdkInitialSubscription } = await import('./baselines/sdk-decode.mjs');
  const r = await sdkInitialSubscription({ uri, database, query });
  return { rows: r.rows, ms: r.ms, appliedMs: r.appliedMs, receivedMs: r.receivedMs };
}

async function raw() {
  const { rawSubscribe } = await import('./lib/raw-subscribe.mjs');
  const r = await rawSubscribe({ uri, database, query });
  return { rows: null, ms: r.ms, bytes: r.bytes };
}

const measure = { ours, sdk, raw }[variant];
await measure(); // warm-up: JIT, the server's query plan and page cache
const samples = [];
for (let i = 0; i < repeats; i++) {
  const s = await measure();
  if (s.rows !== null && s.rows !== rows) throw new Error(`${variant}: expected ${rows} rows, got ${s.rows}`);
  samples.push(s);
}
const decoder = variant !== 'sdk' ? undefined : (await import('./baselines/connect.mjs')).sdkTextDecoder();
console.log(JSON.stringify({ variant, decoder, samples }));
process.exit(0);
