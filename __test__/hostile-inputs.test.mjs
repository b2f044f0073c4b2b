// Every public function, every argument position, a set of hostile values: each call either succeeds
// or fails with a GatewayError that has a stable code. Never a bare TypeError or RangeError, never a
// crash (issue #11, item 7: circular objects, 100,000-deep nesting, a throwing toJSON or getter…).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStream } from '../lib/h3.js';
import * as pkg from '../lib/index.js';
import { serverEnv, uniqueId } from './helpers/spacetimedb.mjs';

const { Gateway, GatewayError, TokenBroker, TokenVerifier, generateKeyPair } = pkg;
const { url, db } = serverEnv();

function hostileValues() {
  const circular = { a: 1 };
  circular.self = circular;
  let deep = {};
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  let deepArray = [];
  for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
  const throwingGetter = Object.defineProperty({}, 'tenantId', {
    enumerable: true,
    get() {
      throw new Error('getter says no');
    },
  });
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy says no');
      },
      ownKeys() {
        throw new Error('proxy says no');
      },
    },
  );
  return {
    undefined,
    null: null,
    NaN,
    Infinity: -Infinity,
    negativeZero: -0,
    bigint: 10n,
    symbol: Symbol('s'),
    function: () => {},
    emptyString: '',
    number: -1,
    fraction: 1.5,
    huge: 2 ** 60,
    boolean: true,
    array: [],
    object: {},
    buffer: Buffer.from('ab'),
    invalidDate: new Date(NaN),
    circular,
    deep,
    deepArray,
    throwingToJSON: {
      toJSON() {
        throw new Error('toJSON says no');
      },
    },
    throwingGetter,
    throwingProxy,
    nullProto: Object.create(null),
    map: new Map([['a', 1]]),
  };
}

/** Runs `call` and returns undefined (it succeeded) or what was wrong with its failure. */
async function problemOf(call) {
  try {
    const result = call();
    if (result && typeof result.then === 'function') await result;
    if (result && typeof result.close === 'function' && result !== gateway) await result.close?.();
    return undefined;
  } catch (e) {
    if (!(e instanceof GatewayError)) return `threw ${e?.constructor?.name}: ${e?.message ?? String(e)}`;
    if (typeof e.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(e.code)) return `a GatewayError without a code: ${e.message}`;
    if (!e.message) return `a GatewayError (${e.code}) without a message`;
    return undefined;
  }
}

let gateway;
let dropper; // a gateway of its own for dropConnection: dropping it must not disturb the other calls
let broker;
let verifier;
let stream;
let token;

beforeAll(async () => {
  gateway = await Gateway.connect({ uri: url, database: db, subscriptions: ['SELECT * FROM document'] });
  dropper = await Gateway.connect({ uri: url, database: db });
  const tenant = uniqueId('hostile');
  await gateway.callReducer('create_tenant', [tenant, 'Hostile inputs']);
  const keys = generateKeyPair({ kid: 'k1' });
  broker = new TokenBroker({ issuer: 'https://issuer.example', audience: 'spacetimedb', keys });
  verifier = new TokenVerifier({ issuer: 'https://issuer.example', audience: 'spacetimedb', jwks: broker.jwks() });
  token = broker.mint({ sub: 'u1' });
  stream = gateway.stream({ tenantId: tenant });
});

afterAll(async () => {
  stream?.close();
  await gateway?.close();
  await dropper?.close();
});

/** `[name, (v) => call]`: every argument position of the public surface. */
function targets() {
  const tenantId = 't';
  const connect = (options) => Gateway.connect({ uri: url, database: db, timeoutMs: 2000, ...options });
  return [
    ['Gateway.connect(v)', (v) => Gateway.connect(v)],
    ...['token', 'subscriptions', 'compression', 'timeoutMs', 'callTimeoutMs', 'maxMessageBytes', 'reconnect', 'userCalls', 'tenantColumn', 'sharedTables', 'relay'].map(
      (key) => [`Gateway.connect({ ${key}: v })`, (v) => (key === 'token' && typeof v === 'function' ? undefined : connect({ [key]: v }))],
    ),
    ['gateway.rows(v)', (v) => gateway.rows(v)],
    ['gateway.rows(table, v)', (v) => gateway.rows('document', v)],
    ['gateway.rows(table, { tenant_id: v })', (v) => gateway.rows('document', { tenant_id: v })],
    ['gateway.subscribe(v)', (v) => gateway.subscribe(v)],
    ['gateway.onChange(v)', (v) => gateway.onChange(v)?.()],
    ['gateway.onState(v)', (v) => gateway.onState(v)?.()],
    ['gateway.callReducer(v)', (v) => gateway.callReducer(v)],
    ['gateway.callReducer(name, v)', (v) => gateway.callReducer('create_tenant', v)],
    ['gateway.callReducer(name, [v, v])', (v) => gateway.callReducer('create_tenant', [v, v])],
    ['gateway.callReducer(name, args, v)', (v) => gateway.callReducer('create_tenant', ['', ''], v)],
    ['gateway.callReducer(name, args, { actor: v })', (v) => gateway.callReducer('create_tenant', ['', ''], { actor: v })],
    ['gateway.callReducer(name, args, { token: v })', (v) => gateway.callReducer('create_tenant', ['', ''], { token: v })],
    ['gateway.stream(v)', (v) => gateway.stream(v)],
    ['gateway.stream({ tenantId: v })', (v) => gateway.stream({ tenantId: v })],
    ['gateway.stream({ tenantId, where: v })', (v) => gateway.stream({ tenantId, where: v })],
    ['gateway.stream({ tenantId, where: { document: { title: v } } })', (v) => gateway.stream({ tenantId, where: { document: { title: v } } })],
    ['gateway.stream({ tenantId, principal: v })', (v) => gateway.stream({ tenantId, principal: v })],
    ['gateway.stream({ tenantId, principal: { sub, act: v } })', (v) => gateway.stream({ tenantId, principal: { sub: 'u', act: v } })],
    ['gateway.stream({ tenantId, revokeOn: v })', (v) => gateway.stream({ tenantId, revokeOn: v })],
    ['gateway.stream({ tenantId, revokeOn: { document: { id: v } } })', (v) => gateway.stream({ tenantId, revokeOn: { document: { id: v } } })],
    ['gateway.stream({ tenantId, lastEventId: v })', (v) => gateway.stream({ tenantId, lastEventId: v })],
    ['gateway.stream({ tenantId, heartbeatMs: v })', (v) => gateway.stream({ tenantId, heartbeatMs: v })],
    ['gateway.dropConnection(v)', (v) => dropper.dropConnection(v)],
    ['gateway.snapshot(v)', (v) => gateway.snapshot(v)],
    ['gateway.snapshot({ tenantId: v })', (v) => gateway.snapshot({ tenantId: v })],
    ['gateway.snapshot({ tenantId, where: v })', (v) => gateway.snapshot({ tenantId, where: v })],
    ['gateway.snapshot({ tenantId, principal: { sub, act: v } })', (v) => gateway.snapshot({ tenantId, principal: { sub: 'u', act: v } })],
    ['gateway.streamResponse(v, options)', (v) => gateway.streamResponse(v, { tenantId })],
    ['gateway.streamResponse(request, v)', (v) => gateway.streamResponse(new Request('http://x/events?after=1'), v)],
    ['gateway.revoke(v)', (v) => gateway.revoke(v)],
    ['gateway.revoke({ sub: v })', (v) => gateway.revoke({ sub: v })],
    ['gateway.revoke(selector, v)', (v) => gateway.revoke({ sub: 'nobody' }, v)],
    ['gateway.narrow(v, narrowing)', (v) => gateway.narrow(v, { tables: ['document'] })],
    ['gateway.narrow(selector, v)', (v) => gateway.narrow({ sub: 'nobody' }, v)],
    ['stream.narrow(v)', (v) => stream.narrow(v)],
    ['stream.pipe(v)', (v) => gateway.stream({ tenantId }).pipe(v)],
    ['stream.toResponse(v)', (v) => gateway.stream({ tenantId }).toResponse(v)],
    ['serveStream(v, gateway, options)', (v) => serveStream(v, gateway, { tenantId })],
    ['serveStream(event, v, options)', (v) => serveStream({ req: new Request('http://x/events') }, v, { tenantId })],
    ['serveStream(event, gateway, v)', (v) => serveStream({ req: new Request('http://x/events?after=1') }, gateway, v)],
    [
      'gateway.close(v)',
      async (v) => {
        const g = await Gateway.connect({ uri: url, database: db });
        try {
          await g.close(v);
        } finally {
          await g.close();
        }
      },
    ],
    ['installShutdownHooks(v)', (v) => pkg.installShutdownHooks(v)?.()],
    ['installShutdownHooks(gateway, v)', (v) => pkg.installShutdownHooks(gateway, v)?.()],
    ['generateKeyPair(v)', (v) => generateKeyPair(v)],
    ['deriveIdentity(v, sub)', (v) => pkg.deriveIdentity(v, 'sub')],
    ['deriveIdentity(iss, v)', (v) => pkg.deriveIdentity('https://issuer.example', v)],
    ['decodeToken(v)', (v) => pkg.decodeToken(v)],
    ['new TokenBroker(v)', (v) => new TokenBroker(v)],
    ['new TokenBroker({ keys: v })', (v) => new TokenBroker({ issuer: 'https://i.example', audience: 'a', keys: v })],
    ['broker.mint(v)', (v) => broker.mint(v)],
    ['broker.mint({ sub: v })', (v) => broker.mint({ sub: v })],
    ['broker.mint(claims, v)', (v) => broker.mint({ sub: 'u' }, v)],
    ['broker.mintRobot(v)', (v) => broker.mintRobot(v)],
    ['broker.mintRobot({ id: v })', (v) => broker.mintRobot({ id: v })],
    ['broker.mintDelegated(v)', (v) => broker.mintDelegated(v)],
    ['broker.mintDelegated({ sub, actor: v })', (v) => broker.mintDelegated({ sub: 'u', actor: v })],
    ['broker.openidConfiguration(v)', (v) => broker.openidConfiguration(v)],
    ['broker.wellKnown(v)', (v) => broker.wellKnown(v)],
    ['broker.handleWellKnown(v)', (v) => broker.handleWellKnown(v)],
    ['broker.handleWellKnown(request, v)', (v) => broker.handleWellKnown(new Request('http://x/.well-known/jwks.json'), v)],
    ['broker.identityFor(v)', (v) => broker.identityFor(v)],
    ['broker.verify(v)', (v) => broker.verify(v)],
    ['new TokenVerifier(v)', (v) => new TokenVerifier(v)],
    ['new TokenVerifier({ jwks: v })', (v) => new TokenVerifier({ issuer: 'https://i.example', jwks: v })],
    ['verifier.verify(v)', (v) => verifier.verify(v)],
    ['verifier.verifySync(v)', (v) => verifier.verifySync(v)],
    ['verifyToken(token, v)', (v) => pkg.verifyToken(token, v)],
    ['verifyTokenSync(token, v)', (v) => pkg.verifyTokenSync(token, v)],
    ['diagnoseToken(v)', (v) => pkg.diagnoseToken(v)],
    ['diagnoseToken(token, v)', (v) => pkg.diagnoseToken(token, v)],
  ];
}

describe('hostile inputs to every public function', () => {
  it('fail only with coded GatewayErrors', async () => {
    const values = hostileValues();
    const problems = [];
    let calls = 0;
    for (const [name, call] of targets()) {
      for (const [label, value] of Object.entries(values)) {
        calls += 1;
        const problem = await problemOf(() => call(value));
        if (problem) problems.push(`${name} with ${label}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(1000);
  }, 120_000);
});
