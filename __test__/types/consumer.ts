// A consumer of the public types. Type-checked (never run) by __test__/types.test.mjs with `tsc --noEmit`.
import { GatewayError, nativeVersion } from 'spacetime-gateway';

const v: string = nativeVersion();
const e = new GatewayError('TIMEOUT', 'x');
const code: string = e.code;
void v;
void code;

// The SSE relay.
import { Gateway, SseStream, SSE_HEADERS, type SseEnvelope, type StreamOptions } from 'spacetime-gateway';
import type { IncomingMessage, ServerResponse } from 'node:http';

async function relay(res: ServerResponse<IncomingMessage>): Promise<void> {
  const gateway = await Gateway.connect({
    uri: 'http://127.0.0.1:3000',
    database: 'db',
    tenantColumn: { document: 'tenant_id' },
    sharedTables: ['tenant'],
    relay: { logCapacity: 5000, maxQueueEvents: 100, overflow: 'close' },
  });
  const options: StreamOptions = { tenantId: 't1', tables: ['document'], where: { document: { owner: 'x' } }, principal: { sub: 'u1' } };
  const stream: SseStream = gateway.stream(options);
  const piped: ServerResponse<IncomingMessage> = stream.pipe(res);
  const response: Response = gateway.stream({ allTenants: true, lastEventId: 'abc-3' }).toResponse({ headers: { 'x-a': 'b' } });
  for await (const chunk of gateway.stream({ tenantId: 7 })) {
    const bytes: Uint8Array = chunk;
    void bytes;
  }
  const n: number = gateway.revoke({ sub: 'u1' }, { reason: 'logged out' }) + gateway.narrow({ streamId: stream.id }, { tables: ['document'] });
  const envelope: SseEnvelope<{ row: unknown }> = JSON.parse('{}');
  const header: string | undefined = SSE_HEADERS['content-type'];
  void piped;
  void response;
  void n;
  void envelope;
  void header;
}
void relay;
