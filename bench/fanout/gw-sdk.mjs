// Fan-out variant "Baseline A": startSdkGateway (bench/baselines), the official SDK 1.3.3 with
// hand-written SSE fan-out, serving `/sse?t=` on its own http server. Forked with `--import
// bench/baselines/native-text-decoder.mjs` for the native-decoder variant; `decoder` in its stats says
// which one ran.
import { sdkTextDecoder, startSdkGateway } from '../baselines/sdk-gateway.mjs';
import { serveGateway, tenantQueries } from './serve.mjs';

serveGateway(async ({ uri, database, tenants }) => {
  const gw = await startSdkGateway({ uri, database, subscriptions: tenantQueries(tenants) });
  return {
    port: Number(new URL(gw.url).port),
    stats: () => ({ ...gw.stats(), decoder: sdkTextDecoder() }),
    close: () => gw.close(),
  };
});
