'use strict';
// The auth part of the public API: key pairs, the token broker, verification, diagnostics, identities.
// The logic is native (src/auth/); this layer normalises arguments, serialises free-form JSON once
// (JSON.stringify drops `undefined` members, as users expect) and turns native errors into
// GatewayErrors with stable codes.

const native = require('../index.js');
const { GatewayError, invalidArgument: invalid, callNative, awaitNative, fromNative } = require('./errors.js');
const { nativeHandles } = require('./internal.js');
const { describe, messageOf, readingArgument, readOptions, readTypedOptions, requireString } = require('./args.js');

/** Recommended `Cache-Control` for the JWKS and discovery documents (see docs/auth.md, rotation). */
const WELL_KNOWN_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';

function toList(value) {
  if (value == null) return undefined;
  return Array.isArray(value) ? value : [value];
}

/** `JSON.stringify` of a plain object (or of any JSON value when `anyValue`), with coded errors. */
function json(name, value, anyValue = false) {
  if (value == null || (!anyValue && (typeof value !== 'object' || Array.isArray(value)))) {
    throw invalid(`${name} must be an object, got ${describe(value)}`);
  }
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw invalid(`${name} cannot be serialised to JSON: ${messageOf(e)}`, { cause: e });
  }
}

/** A token argument: a string (its content is the native verifier's to judge). */
function tokenText(value) {
  if (typeof value !== 'string') throw invalid(`the token must be a string, got ${describe(value)}`);
  return value;
}

const MINT_OPTIONS = { ttlSeconds: 'number' };
const JWKS_URI_OPTIONS = { jwksUri: 'string' };
const BROKER_OPTIONS = {
  issuer: 'string',
  audience: 'strings',
  keys: 'any',
  ttlSeconds: 'number',
  maxTtlSeconds: 'number',
  allowEmailSubject: 'boolean',
  canonicalIssuer: 'string',
  allowIssuerTrailingSlash: 'boolean',
};
const VERIFIER_OPTIONS = {
  issuer: 'string',
  audience: 'strings',
  jwks: 'any',
  jwksUri: 'string',
  discovery: 'boolean',
  algorithms: 'strings',
  clockToleranceSeconds: 'number',
};
const DIAGNOSE_OPTIONS = { spacetimedbUrl: 'string', expectedIssuer: 'strings', expectedAudience: 'strings', network: 'boolean' };

/**
 * Generates a key pair SpacetimeDB accepts: ES256 (P-256, default) or RS256 (RSA-2048).
 * @param {{ alg?: 'ES256' | 'RS256', kid?: string }} [opts]
 */
function generateKeyPair(opts) {
  const { alg = 'ES256', kid } = readTypedOptions(opts, 'generateKeyPair options', { alg: 'string', kid: 'string' });
  return callNative(() => native.generateKeyPair(alg, kid));
}

/** The SpacetimeDB Identity (64 hex digits) of tokens with this `iss` and `sub`. */
function deriveIdentity(issuer, subject) {
  requireString(issuer, 'issuer');
  requireString(subject, 'subject');
  return callNative(() => native.deriveIdentity(issuer, subject));
}

/** Decodes a JWT without verifying it: `{ header, payload }`. For diagnostics only. */
function decodeToken(token) {
  return callNative(() => native.decodeToken(tokenText(token)));
}

/** Mints, publishes and checks SpacetimeDB access tokens for one issuer. */
class TokenBroker {
  #native;

  constructor(opts) {
    if (opts == null || typeof opts !== 'object') throw invalid('TokenBroker: options are required');
    opts = readTypedOptions(opts, 'TokenBroker options', BROKER_OPTIONS);
    this.#native = callNative(
      () =>
        new native.NativeTokenBroker({
          issuer: opts.issuer,
          audience: toList(opts.audience),
          keysJson: json('keys', opts.keys, true),
          ttlSeconds: opts.ttlSeconds,
          maxTtlSeconds: opts.maxTtlSeconds,
          allowEmailSubject: opts.allowEmailSubject,
          canonicalIssuer: opts.canonicalIssuer,
          allowIssuerTrailingSlash: opts.allowIssuerTrailingSlash,
        }),
    );
    nativeHandles.set(this, this.#native);
  }

  /** Mints a token for `claims` (`sub` required). Synchronous: no I/O happens. */
  mint(claims, opts) {
    const ttl = readTypedOptions(opts, 'mint options', MINT_OPTIONS).ttlSeconds;
    const text = json('claims', claims);
    try {
      return this.#native.mint(text, ttl);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** Mints a token for a machine actor: `sub = robot:<id>`. */
  mintRobot(grant, opts) {
    const grantTypes = { id: 'string', tenantId: 'string', perms: 'stringArray', claims: 'any' };
    const { id, tenantId, perms, claims } = readTypedOptions(grant, 'mintRobot grant', grantTypes);
    const ttl = readTypedOptions(opts, 'mint options', MINT_OPTIONS).ttlSeconds;
    const claimsJson = claims == null ? undefined : json('claims', claims);
    return callNative(() => this.#native.mintRobot({ id, tenantId, perms, claimsJson }, ttl));
  }

  /** Mints a token for `sub` with `act: { sub: actor }` (a robot or an admin acting for `sub`). */
  mintDelegated(claims, opts) {
    if (claims == null || typeof claims !== 'object') throw invalid(`mintDelegated claims must be an object, got ${describe(claims)}`);
    const { actor, ...rest } = readOptions(claims, 'mintDelegated claims');
    const ttl = readTypedOptions(opts, 'mint options', MINT_OPTIONS).ttlSeconds;
    if (typeof actor !== 'string') throw invalid(`mintDelegated: \`actor\` (the acting party's sub) must be a string, got ${describe(actor)}`);
    return callNative(() => this.#native.mintDelegated(json('claims', rest), actor, ttl));
  }

  /** The JWKS document to serve (active key first, then retiring keys). */
  jwks() {
    return this.#native.jwks();
  }

  /** The OpenID discovery document to serve at `<issuer>/.well-known/openid-configuration`. */
  openidConfiguration(opts) {
    const { jwksUri } = readTypedOptions(opts, 'openidConfiguration options', JWKS_URI_OPTIONS);
    return callNative(() => this.#native.openidConfiguration(jwksUri));
  }

  /** Where the documents live: `{ discoveryUrl, discoveryPath, jwksUrl, jwksPath }`. */
  wellKnown(opts) {
    const { jwksUri } = readTypedOptions(opts, 'wellKnown options', JWKS_URI_OPTIONS);
    return callNative(() => this.#native.wellKnown(jwksUri));
  }

  /**
   * A Web-standard handler for both documents: returns a `Response` for GET/HEAD of the discovery or
   * JWKS path, `null` for any other request (so it can sit in front of other routes).
   */
  handleWellKnown(request, opts) {
    const url = readingArgument('handleWellKnown request', () => (request !== null && typeof request === 'object' ? request.url : undefined));
    if (typeof url !== 'string') throw invalid(`handleWellKnown needs a Request (an object with a url string), got ${describe(request)}`);
    const method = readingArgument('handleWellKnown request', () => request.method ?? 'GET');
    const { jwksUri } = readTypedOptions(opts, 'handleWellKnown options', JWKS_URI_OPTIONS);
    const paths = this.wellKnown({ jwksUri });
    if (method !== 'GET' && method !== 'HEAD') return null;
    let path;
    try {
      path = new URL(url, 'http://localhost').pathname;
    } catch {
      return null; // not a URL this handler serves (and no reason to throw in a router)
    }
    let body;
    if (path === paths.discoveryPath) body = this.openidConfiguration({ jwksUri });
    else if (path === paths.jwksPath) body = this.jwks();
    else return null;
    return new Response(method === 'HEAD' ? null : JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': WELL_KNOWN_CACHE_CONTROL },
    });
  }

  /** The SpacetimeDB Identity (hex) of this issuer's tokens for `sub`. */
  identityFor(sub) {
    requireString(sub, 'sub');
    return callNative(() => this.#native.identityFor(sub));
  }

  /** Verifies a token against this broker's own keys, issuer and audience (sync). */
  verify(token) {
    tokenText(token);
    try {
      return this.#native.verify(token);
    } catch (e) {
      throw fromNative(e);
    }
  }

  get issuer() {
    return this.#native.issuer;
  }
  get audience() {
    return this.#native.audience;
  }
  get activeKid() {
    return this.#native.activeKid;
  }
  get ttlSeconds() {
    return this.#native.ttlSeconds;
  }
  get maxTtlSeconds() {
    return this.#native.maxTtlSeconds;
  }
}

/** One issuer's options as the native verifier takes them; `what` names them in messages. */
function nativeVerifierOptions(opts, what, jwksName = 'jwks') {
  if (opts == null || typeof opts !== 'object') throw invalid(`${what} must be an object, got ${describe(opts)}`);
  opts = readTypedOptions(opts, what, VERIFIER_OPTIONS);
  return {
    issuer: opts.issuer,
    audience: toList(opts.audience),
    jwksJson: opts.jwks == null ? undefined : json(jwksName, opts.jwks),
    jwksUri: opts.jwksUri,
    discovery: opts.discovery,
    algorithms: toList(opts.algorithms),
    clockToleranceSeconds: opts.clockToleranceSeconds,
  };
}

/**
 * Verification options bound to a key source; build once, verify many. `{ issuer, … }` trusts one
 * issuer; `{ issuers: [{ issuer, … }, …] }` trusts several, each token checked by exactly the one its
 * `iss` names (a dual run during an issuer migration, customer SSO).
 */
class TokenVerifier {
  #native;

  constructor(opts) {
    if (opts == null || typeof opts !== 'object') throw invalid('TokenVerifier: options are required');
    const several = readingArgument('TokenVerifier options', () => 'issuers' in opts);
    if (several) {
      const { issuers, ...rest } = readOptions(opts, 'TokenVerifier options');
      const extra = Object.keys(rest);
      if (extra.length) {
        throw invalid(`TokenVerifier: give either \`issuers\` or one issuer's options, not both (also got ${extra.map((k) => `\`${k}\``).join(', ')}: put them in each entry of \`issuers\`)`);
      }
      if (!Array.isArray(issuers)) throw invalid(`TokenVerifier: issuers must be an array of issuer options, got ${describe(issuers)}`);
      const entries = issuers.map((entry, i) => nativeVerifierOptions(entry, `TokenVerifier issuers[${i}]`, `issuers[${i}].jwks`));
      this.#native = callNative(() => native.NativeTokenVerifier.trusting(entries));
    } else {
      const entry = nativeVerifierOptions(opts, 'TokenVerifier options');
      this.#native = callNative(() => new native.NativeTokenVerifier(entry));
    }
    nativeHandles.set(this, this.#native);
  }

  /** The issuers this verifier accepts, in configuration order. */
  get issuers() {
    return this.#native.issuers;
  }

  /** Verifies; resolves with the payload (fetches a remote JWKS when needed, cached). */
  verify(token) {
    return awaitNative(() => this.#native.verify(tokenText(token)));
  }

  /** Verifies synchronously; only with an in-memory `jwks`. */
  verifySync(token) {
    tokenText(token);
    try {
      return this.#native.verifySync(token);
    } catch (e) {
      throw fromNative(e);
    }
  }
}

/** Verifies a token; resolves with its payload. Remote JWKS are cached per URI across calls. */
async function verifyToken(token, opts) {
  return new TokenVerifier(opts).verify(token);
}

/** Synchronous `verifyToken` for an in-memory `jwks`. */
function verifyTokenSync(token, opts) {
  return new TokenVerifier(opts).verifySync(token);
}

/** Explains why SpacetimeDB or the gateway would refuse a token: findings with code, severity and fix. */
async function diagnoseToken(token, opts) {
  const o = readTypedOptions(opts, 'diagnoseToken options', DIAGNOSE_OPTIONS);
  tokenText(token);
  return awaitNative(() =>
    native.diagnoseToken(token, {
      spacetimedbUrl: o.spacetimedbUrl,
      expectedIssuer: toList(o.expectedIssuer),
      expectedAudience: toList(o.expectedAudience),
      network: o.network,
    }),
  );
}

/**
 * The API-key → short-lived token exchange, for any key store (docs/machine-actors.md). `verifyKey` is the
 * app's own check (a hash lookup, a secrets service) and resolves `{ keyId, userId? }` for a valid key, or
 * null. The token says only who the key is; what it may do stays in the module's grant table, read on every
 * call (so revoking a grant stops the next call even while a token is valid).
 */
function apiKeyExchange(options) {
  if (options == null || typeof options !== 'object') throw invalid(`apiKeyExchange options must be an object, got ${describe(options)}`);
  const { broker, verifyKey, ttlSeconds = 300 } = readTypedOptions(options, 'apiKeyExchange options', { broker: 'any', verifyKey: 'any', ttlSeconds: 'number' });
  if (!(broker instanceof TokenBroker)) throw invalid(`apiKeyExchange: broker must be a TokenBroker of this package, got ${describe(broker)}`);
  if (typeof verifyKey !== 'function') throw invalid(`apiKeyExchange: verifyKey must be a function (presented key → { keyId, userId? } or null), got ${describe(verifyKey)}`);
  if (!(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) throw invalid(`apiKeyExchange: ttlSeconds must be a positive whole number, got ${describe(ttlSeconds)}`);

  /** What `verifyKey` resolved, checked: the app's function is code, but a wrong shape must not mint. */
  const verified = (key) => {
    if (key === null || key === undefined || key === false) return null;
    const { keyId, userId } = readOptions(key, 'verifyKey result'); // other members (permissions, …) are the app's
    requireString(keyId, 'verifyKey result: keyId');
    requireString(userId ?? undefined, 'verifyKey result: userId', { optional: true });
    return { keyId, userId: userId ?? undefined };
  };

  /**
   * `exchange(presented, { forUser })` → `{ token, kind, sub, act }`. A key acts as its robot
   * (`sub = robot:<keyId>`); with `forUser: true` a user's key acts for its user (`sub` = the user,
   * `act = { sub: robot:<keyId> }`).
   */
  return async function exchange(presented, opts) {
    const { forUser = false } = readTypedOptions(opts, 'exchange options', { forUser: 'boolean' });
    if (typeof presented !== 'string' || presented === '') throw new GatewayError('API_KEY_INVALID', 'no API key in the request');
    const key = verified(await verifyKey(presented));
    if (!key) throw new GatewayError('API_KEY_INVALID', 'the API key was refused');
    const robot = `robot:${key.keyId}`;
    if (!forUser) return { token: broker.mintRobot({ id: key.keyId }, { ttlSeconds }), kind: 'robot', sub: robot, act: null };
    if (!key.userId) throw new GatewayError('API_KEY_INVALID', `API key ${key.keyId} belongs to no user: it acts only as itself`);
    const token = broker.mintDelegated({ sub: key.userId, actor: robot }, { ttlSeconds });
    return { token, kind: 'delegated', sub: key.userId, act: robot };
  };
}

module.exports = {
  WELL_KNOWN_CACHE_CONTROL,
  TokenBroker,
  apiKeyExchange,
  TokenVerifier,
  decodeToken,
  deriveIdentity,
  diagnoseToken,
  generateKeyPair,
  verifyToken,
  verifyTokenSync,
};
