// The server's settings, read from the environment once and checked, so a missing or malformed setting
// stops the first request with its name instead of failing somewhere later.
import type { KeyInput, KeyRing } from 'spacetime-gateway';

/** At most `max` requests per `windowMs`. */
export interface Limit {
  max: number;
  windowMs: number;
}

export interface Config {
  /** The URL browsers use, e.g. https://docs.example.com (Better Auth's baseURL and trusted origin). */
  appUrl: string;
  /** The SpacetimeDB token issuer: `${appUrl}/api/spacetime`. Identities derive from this exact string. */
  issuer: string;
  databaseUrl: string;
  spacetimedbUrl: string;
  spacetimedbDb: string;
  authSecret: string;
  /** The signing key(s) of the issuer: the JSON of `spacetime-gateway keys generate` (or a key ring). */
  signingKeys: KeyInput | KeyRing;
  /** Writes per user (server functions). */
  writeLimit: Limit;
  /** Verifications per API key (Better Auth's key rate limit; its default is 10 a day). */
  apiKeyLimit: Limit;
  /** Sign-ups and sign-ins per client IP (Better Auth's rate limiter; its default is 3 per 10 s). */
  authLimit: Limit;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`configuration: ${name} is not set (see the example app's README.md)`);
  return value;
}

/** `"<max>/<seconds>"`, e.g. `60/60`. */
function limit(name: string, fallback: string): Limit {
  const text = process.env[name] || fallback;
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new Error(`configuration: ${name} must be <max>/<seconds> with both at least 1, e.g. 60/60; got ${JSON.stringify(text)}`);
  }
  return { max: Number(match[1]), windowMs: Number(match[2]) * 1000 };
}

function signingKeys(): KeyInput | KeyRing {
  const text = required('SPACETIME_KEYS');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('configuration: SPACETIME_KEYS must be the JSON of a key file (npx spacetime-gateway keys generate --out key.json)');
  }
}

function read(): Config {
  const appUrl = required('APP_URL').replace(/\/+$/, '');
  return {
    appUrl,
    issuer: `${appUrl}/api/spacetime`,
    databaseUrl: required('DATABASE_URL'),
    spacetimedbUrl: required('SPACETIMEDB_URL'),
    spacetimedbDb: required('SPACETIMEDB_DB'),
    authSecret: required('BETTER_AUTH_SECRET'),
    signingKeys: signingKeys(),
    writeLimit: limit('APP_WRITE_RATE_LIMIT', '60/60'),
    apiKeyLimit: limit('APP_API_KEY_RATE_LIMIT', '600/60'),
    authLimit: limit('APP_AUTH_RATE_LIMIT', '3/10'),
  };
}

let config: Config | undefined;

export function getConfig(): Config {
  config ??= read();
  return config;
}
