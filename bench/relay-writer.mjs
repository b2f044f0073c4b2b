// The write load of bench/relay-fanout.mjs, in its own process (so the gateway's CPU figure is the relay's):
// seed_documents(random tenant, `batch` rows) for `seconds`, `inflight` calls at a time or `rate` calls per
// second; replies with the number committed.
import { Gateway } from '../lib/index.js';

process.once('message', async ({ uri, database, token, tenants, seconds, inflight, batch, rate }) => {
  const gateway = await Gateway.connect({ uri, database, token });
  const end = Date.now() + seconds * 1000;
  let commits = 0;
  const call = () => gateway.callReducer('seed_documents', [tenants[Math.floor(Math.random() * tenants.length)], batch, 100]);
  if (rate > 0) {
    // A fixed rate: `rate / 100` calls every 10 ms, not waiting for each other.
    const pending = [];
    while (Date.now() < end) {
      for (let i = 0; i < rate / 100; i++) pending.push(call().then(() => commits++));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(pending);
    await gateway.close();
    process.send({ commits });
    return;
  }
  const worker = async () => {
    while (Date.now() < end) {
      await call();
      commits++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  await gateway.close();
  process.send({ commits });
});
