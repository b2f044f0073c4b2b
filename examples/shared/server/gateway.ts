// The process's one token broker and one Gateway (server-only: the gateway loads the native addon).
// Both live on globalThis so dev-mode reloads of this module reuse them (one SpacetimeDB connection per
// process); the gateway is closed on SIGTERM/SIGINT, its open SSE streams first.
import { Gateway, installShutdownHooks, TokenBroker } from 'spacetime-gateway';
import { getConfig } from './config';

/** The service connection's actor: `sub = robot:gateway`, trusted by the module's owner once per deploy. */
export const GATEWAY_ROBOT = 'gateway';

const KEY = Symbol.for('spacetime-gateway-example.gateway');
type Holder = { broker?: TokenBroker; gateway?: Promise<Gateway> };
const holder = ((globalThis as Record<symbol, Holder>)[KEY] ??= {});

/** Mints the SpacetimeDB tokens of this app's issuer (`${APP_URL}/api/spacetime`). */
export function getBroker(): TokenBroker {
  const { issuer, signingKeys } = getConfig();
  holder.broker ??= new TokenBroker({ issuer, audience: 'spacetimedb', keys: signingKeys });
  return holder.broker;
}

async function connect(): Promise<Gateway> {
  const { spacetimedbUrl, spacetimedbDb } = getConfig();
  const broker = getBroker();
  const gateway = await Gateway.connect({
    uri: spacetimedbUrl,
    database: spacetimedbDb,
    // A fresh robot token per (re)connect: SpacetimeDB checks tokens only when a connection opens.
    token: () => broker.mintRobot({ id: GATEWAY_ROBOT }),
    // Hybrid topology (docs/actors.md): this one connection holds every tenant's documents for SSR and SSE,
    // and `membership` for the tokens' membership_version; writes go per user (callReducer with a token).
    subscriptions: ['SELECT * FROM tenant', 'SELECT * FROM membership', 'SELECT * FROM document'],
    // Per-user tokens are verified (aud included: SpacetimeDB never checks it) before they are used. A
    // user's API key acts for the user (`act` = the key's robot); the reference module cannot tell them
    // apart, so such calls run as the user, said explicitly (docs/machine-actors.md).
    userCalls: { verifier: broker, delegatedTokens: 'as-subject' },
  });
  // Nitro's server closes gracefully on the same signals and then exits by itself.
  installShutdownHooks(gateway, { exit: false });
  return gateway;
}

export function getGateway(): Promise<Gateway> {
  // A failed connect is not kept: the next request tries again.
  holder.gateway ??= connect().catch((error: unknown) => {
    holder.gateway = undefined;
    throw error;
  });
  return holder.gateway;
}
