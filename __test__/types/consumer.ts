// A consumer of the public types. Type-checked (never run) by __test__/types.test.mjs with `tsc --noEmit`.
import { GatewayError, nativeVersion } from 'spacetime-gateway';

const v: string = nativeVersion();
const e = new GatewayError('TIMEOUT', 'x');
const code: string = e.code;
void v;
void code;

// The auth part.
import {
  TokenBroker,
  TokenVerifier,
  apiKeyExchange,
  type ExchangedToken,
  decodeToken,
  deriveIdentity,
  diagnoseToken,
  generateKeyPair,
  verifyToken,
  verifyTokenSync,
  type AccessClaims,
  type AuthErrorCode,
  type Finding,
  type GeneratedKeyPair,
  type JwtPayload,
  type TokenBrokerOptions,
  type WellKnown,
} from 'spacetime-gateway';

const pair: GeneratedKeyPair = generateKeyPair({ alg: 'RS256', kid: 'k1' });
const next = generateKeyPair();
const options: TokenBrokerOptions = {
  issuer: 'https://app.example.com/api/auth',
  audience: ['spacetimedb', 'gateway'],
  keys: { active: next, retiring: [pair.publicJwk, { kid: 'old', publicKeyPem: pair.publicKeyPem }] },
  ttlSeconds: 120,
};
const broker = new TokenBroker(options);
const claims: AccessClaims = { sub: 'user_1', tenant_id: 't1', perms: ['doc.read'], membership_version: 2 };
const token: string = broker.mint(claims, { ttlSeconds: 60 });
const robot: string = broker.mintRobot({ id: 'ci', tenantId: 't1', perms: ['doc.write'] });
const delegated: string = broker.mintDelegated({ sub: 'user_1', actor: 'robot:ci' });
const kids: string[] = broker.jwks().keys.map((k) => k.kid);
const jwksUri: string = broker.openidConfiguration({ jwksUri: 'https://app.example.com/api/auth/jwks' }).jwks_uri;
const paths: WellKnown = broker.wellKnown();
const response: Response | null = broker.handleWellKnown(new Request(paths.discoveryUrl));
const identity: string = broker.identityFor('user_1') + deriveIdentity(broker.issuer, 'user_1');
const exchange = apiKeyExchange({ broker, verifyKey: async (presented: string) => (presented ? { keyId: 'k1', userId: 'user_1' } : null), ttlSeconds: 60 });
void (async () => {
  const exchanged: ExchangedToken = await exchange('sk_k1_secret', { forUser: true });
  const kind: 'robot' | 'delegated' = exchanged.kind;
  void kind;
})();
const decodedSub: string | undefined = decodeToken(token).payload.sub;
const payload: JwtPayload = verifyTokenSync(token, { issuer: broker.issuer, audience: 'spacetimedb', jwks: broker.jwks() });
const verifier = new TokenVerifier({ issuer: broker.issuer, audience: 'spacetimedb', discovery: true, algorithms: ['ES256'] });
const dualRun = new TokenVerifier({
  issuers: [
    { issuer: 'https://sso.example.com/realms/acme', audience: 'spacetime-app', discovery: true, algorithms: ['RS256'] },
    { issuer: broker.issuer, audience: 'spacetimedb', jwks: broker.jwks(), algorithms: ['ES256'] },
  ],
});
const trusted: string[] = dualRun.issuers;
const untrusted: AuthErrorCode = 'TOKEN_ISSUER_UNTRUSTED';
void trusted;
void untrusted;
async function checks(): Promise<void> {
  const remote: JwtPayload = await verifyToken(robot, { issuer: broker.issuer, audience: 'spacetimedb', jwksUri });
  const again: JwtPayload = await verifier.verify(delegated);
  const findings: Finding[] = await diagnoseToken(token, { spacetimedbUrl: 'http://127.0.0.1:3000', expectedAudience: 'spacetimedb' });
  const severity: 'error' | 'warning' | 'info' | undefined = findings[0]?.severity;
  void remote;
  void again;
  void severity;
}
void kids;
void response;
void identity;
void decodedSub;
void payload;
void checks;

// The client part.
import { Gateway, installShutdownHooks, type CallResult, type Change, type ChangeMeta, type GatewayState, type LogLevel, type LogRecord, type Protocol, type Row, type Schema } from 'spacetime-gateway';

async function client(): Promise<void> {
  const gateway: Gateway = await Gateway.connect({ uri: 'http://127.0.0.1:3000', database: 'db', token, subscriptions: ['SELECT * FROM document'], compression: 'gzip', timeoutMs: 5000 });
  const schema: Schema = gateway.schema();
  const firstColumn: string = schema.tables[0].columns[0].type;
  const version: 9 | 10 = schema.version;
  const isEvent: boolean = schema.tables[0].event;
  const perCaller: boolean[] = schema.views.filter((v) => v.subscribable).map((v) => v.perCaller);
  await gateway.subscribe(['SELECT * FROM tenant']);
  type Doc = { id: string; title: string };
  const docs: Doc[] = gateway.rows<Doc & Row>('document', { tenant_id: 't1', id: 5n });
  const stop: () => void = gateway.onChange((changes: Change[], meta: ChangeMeta) => {
    for (const c of changes) void [c.table, c.op, c.row, c.oldRow, meta.reducer];
  });
  const result: CallResult = await gateway.callReducer('create_document', { tenant_id: 't1', title: 'T', body: new Uint8Array([1]) }, { timeoutMs: 1000 });
  const at: string = result.timestamp + gateway.identity + gateway.connectionId;
  stop();
  const rotating = await Gateway.connect({ uri: 'wss://db.example.com', database: 'db', token: async () => broker.mint({ sub: 'svc' }), reconnect: { initialDelayMs: 100, callWaitMs: 2000 } });
  const state: GatewayState = rotating.state;
  const off: () => void = rotating.onState((s) => void [s.status, s.reason, s.attempt]);
  const unhook: () => void = installShutdownHooks([gateway, rotating], { deadlineMs: 3000 });
  off();
  unhook();
  await Gateway.connect({ uri: 'ws://x', database: 'db', reconnect: false });
  const offered: Protocol[] = ['v3', 'v2', 'v1'];
  const v2Capable = await Gateway.connect({ uri: 'ws://x', database: 'db', protocols: offered });
  const chosen: Protocol | null = v2Capable.protocol;
  const total: string = await v2Capable.callProcedure<string>('sum', { a: 1, b: 2n }, { timeoutMs: 500 });
  void [chosen, total];
  const level: LogLevel = 'debug';
  await Gateway.connect({
    uri: 'ws://x',
    database: 'db',
    logLevel: level,
    onLog: (records: LogRecord[]) => {
      for (const r of records) void [r.level, r.target, r.message, r.fields.attempt, r.time];
    },
  });
  await gateway.close({ deadlineMs: 1000 });
  void [firstColumn, version, isEvent, perCaller, docs, at, state];
}
void client;

// The SSE relay.
import { SseStream, SSE_HEADERS, type PageSnapshot, type PipeOptions, type RelayStats, type SseEnvelope, type StreamOptions } from 'spacetime-gateway';
import type { IncomingMessage, ServerResponse } from 'node:http';

async function relay(res: ServerResponse<IncomingMessage>): Promise<void> {
  const gateway = await Gateway.connect({
    uri: 'http://127.0.0.1:3000',
    database: 'db',
    tenantColumn: { document: 'tenant_id' },
    sharedTables: ['tenant'],
    relay: { logCapacity: 5000, maxQueueEvents: 100, overflow: 'close', maxSnapshotsPerPrincipal: 2, snapshotBytesPerTake: 1 << 19 },
  });
  // Server rendering, then the page's stream continues after the rendered rows.
  const page: PageSnapshot<{ id: string; title: string }> = gateway.snapshot<{ id: string; title: string }>({ tenantId: 't1', tables: ['document'] });
  const titles: string[] = (page.rows.document ?? []).map((d) => d.title);
  gateway.stream({ tenantId: 't1', tables: ['document'], lastEventId: page.lastEventId }).pipe(res);
  const stats: RelayStats = gateway.relayStats();
  const waiting: number = stats.snapshotsWaiting + stats.snapshotBytesShared;
  void [titles, waiting];
  const options: StreamOptions = { tenantId: 't1', tables: ['document'], where: { document: { owner: 'x' } }, principal: { sub: 'u1' } };
  const stream: SseStream = gateway.stream(options);
  const piped: ServerResponse<IncomingMessage> = stream.pipe(res);
  const framing: PipeOptions = { chunked: true, headers: { 'x-a': 'b' } };
  gateway.stream(options).pipe(res, framing);
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

// Actor attribution: service (opts.actor), per-user (opts.token over the pool or HTTP), pool counters.
import { type CallOptions, type HttpCallResult, type PoolStats, type UserCallsOptions, type UserRoute } from 'spacetime-gateway';

async function actors(): Promise<void> {
  const userCalls: UserCallsOptions = { via: 'pool', maxConnections: 50, idleTimeoutMs: 30_000, verifier: broker };
  const gateway = await Gateway.connect({ uri: 'http://127.0.0.1:3000', database: 'db', token: robot, userCalls });
  await Gateway.connect({ uri: 'http://127.0.0.1:3000', database: 'db', userCalls: { via: 'http', verifier } });
  const asService: CallResult = await gateway.callReducer('create_document_as', ['t1', 'T', 'B'], { actor: 'user_1' });
  const route: UserRoute = 'http';
  const opts: CallOptions = { token, via: route, timeoutMs: 5000 };
  const asUser = await gateway.callReducer('create_document', ['t1', 'T', 'B'], opts);
  // `timestamp` is `string | null`; narrowing on `via` tells which.
  const maybe: string | null = asUser.timestamp;
  if (asUser.via === 'http') {
    const http: HttpCallResult = asUser;
    const none: null = http.timestamp;
    void none;
  } else {
    const at: string = asUser.timestamp;
    const id: number = asUser.requestId;
    void [at, id];
  }
  const stats: PoolStats = gateway.poolStats();
  const counts: number = stats.connections + stats.busy + stats.idle + stats.evicted + stats.opened;
  void [asService.via, maybe, counts];
}
void actors;

// Framework pieces: the Fetch entry of streams, shutdown hints, the Vite plugin, error serialization.
import type { StreamResponseOptions } from 'spacetime-gateway';
import { spacetimeGateway } from 'spacetime-gateway/vite';
import { gatewayErrorAdapter, GatewayError as WireGatewayError, isGatewayError, type SerializedGatewayError } from 'spacetime-gateway/serialization';

async function frameworks(request: Request): Promise<Response> {
  const gateway = await Gateway.connect({ uri: 'http://127.0.0.1:3000', database: 'db' });
  const options: StreamResponseOptions = { tenantId: 't1', principal: { sub: 'u1', sid: 's1' }, resumeParam: 'after', headers: { 'x-a': 'b' } };
  const response: Response = gateway.streamResponse(request, options);
  gateway.streamResponse(request, { tenantId: 't1', resumeParam: null });
  installShutdownHooks(gateway, { exit: false, retryMs: 500 });
  await gateway.close({ deadlineMs: 1000, retryMs: 250 });
  const plugin = spacetimeGateway();
  const pluginName: string = plugin.name;
  const wire: SerializedGatewayError = gatewayErrorAdapter.toSerializable(new WireGatewayError('CODE', 'message'));
  const back: WireGatewayError = gatewayErrorAdapter.fromSerializable(wire);
  const caught: unknown = back;
  if (isGatewayError(caught)) void caught.code;
  void pluginName;
  return response;
}
void frameworks;

// Better Auth.
import { betterAuthGateway, type ApiKeyToken, type BetterAuthLike, type SessionToken } from 'spacetime-gateway/better-auth';

async function betterAuthSide(auth: BetterAuthLike, headers: Headers): Promise<void> {
  const gateway = await Gateway.connect({ uri: 'http://127.0.0.1:3000', database: 'db', subscriptions: ['SELECT * FROM membership'] });
  const spacetime = betterAuthGateway({ auth: () => auth, gateway, broker, roleOf: (role) => (role === 'owner' ? 'Owner' : 'Member') });
  const session: SessionToken = await spacetime.accessToken({ headers, organizationId: 'org_1' });
  const fromKey: ApiKeyToken = await spacetime.apiKeyToken({ headers });
  const kind: 'robot' | 'delegated' = fromKey.kind;
  gateway.stream({ tenantId: session.organizationId, principal: session.principal });
  await spacetime.organizationHooks.afterRemoveMember({ organization: { id: 'org_1' }, member: { userId: 'u1' } });
  void [session.token, session.membershipVersion, kind];
}
void betterAuthSide;
