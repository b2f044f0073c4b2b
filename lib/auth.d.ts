// Types of the auth part: key pairs, the token broker, verification, diagnostics, identities.
// See docs/auth.md for the guide.

/** The algorithms SpacetimeDB accepts that this package signs and verifies. */
export type SigningAlgorithm = 'ES256' | 'RS256';

/** The stable `code` values of auth errors (besides `INVALID_ARGUMENT`). */
export type AuthErrorCode =
  | 'KEY_INVALID'
  | 'KEY_UNSUPPORTED'
  | 'KEY_ID_INVALID'
  | 'ISSUER_INVALID'
  | 'CLAIM_INVALID'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ALG_REJECTED'
  | 'TOKEN_BAD_SIGNATURE'
  | 'TOKEN_KEY_NOT_FOUND'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_CLAIM_INVALID'
  | 'TOKEN_AUDIENCE'
  | 'TOKEN_ISSUER'
  | 'TOKEN_ISSUER_UNTRUSTED'
  | 'JWKS_UNREACHABLE'
  | 'JWKS_INVALID';

/** Any JSON Web Key (keys read from a JWKS may be of other types; they are reported, never used). */
export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

/** A published public key (what `broker.jwks()` lists). */
export interface PublicJwk extends Jwk {
  kty: 'EC' | 'RSA';
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
  /** EC: always `P-256`. */
  crv?: 'P-256';
  x?: string;
  y?: string;
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
}

/** A JWKS document. */
export interface JwksDocument<K = Jwk> {
  keys: K[];
}

/** What `generateKeyPair` returns; accepted as-is wherever a key is expected. */
export interface GeneratedKeyPair {
  alg: SigningAlgorithm;
  /** The key id; by default the key's RFC 7638 thumbprint. */
  kid: string;
  /** PKCS#8 PEM. Keep it secret (a secrets manager, not the repository). */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  publicJwk: PublicJwk;
}

/**
 * A key: a generated pair, a JWK with `kid` (private with `d` to sign), or PEM with an explicit `kid`.
 * A bare PEM string is refused (`KEY_ID_INVALID`): SpacetimeDB needs a `kid` on every published key.
 */
export type KeyInput =
  | GeneratedKeyPair
  | Jwk
  | { kid: string; pem: string; alg?: SigningAlgorithm }
  | { kid: string; privateKeyPem: string; publicKeyPem?: string; alg?: SigningAlgorithm }
  | { kid: string; publicKeyPem: string; alg?: SigningAlgorithm };

/** Rotation: `active` signs; `retiring` keys (public halves suffice) stay published and verifiable. */
export interface KeyRing {
  active: KeyInput;
  retiring?: KeyInput[];
}

export interface TokenBrokerOptions {
  /**
   * The exact `iss`: an http(s) URL under which `/.well-known/openid-configuration` is served, e.g.
   * `https://app.example.com/api/auth`. Identities derive from this exact string.
   */
  issuer: string;
  /** `aud` of every token. SpacetimeDB ignores it; your gateway and module should check it. */
  audience: string | string[];
  keys: KeyInput | KeyRing;
  /** Default lifetime in seconds (default 300). */
  ttlSeconds?: number;
  /** Largest lifetime a `mint` may ask for (default 3600, at most 86400). */
  maxTtlSeconds?: number;
  /** Allow `sub` values that look like e-mail addresses (default false). */
  allowEmailSubject?: boolean;
  /** The issuer string existing Identities were derived from (default: `issuer` without trailing `/`). */
  canonicalIssuer?: string;
  /** Accept an issuer that differs from the canonical one only by a trailing `/` (default false). */
  allowIssuerTrailingSlash?: boolean;
}

/** The claims a caller gives `mint` (the broker adds iss, aud, iat, exp, token_type). */
export interface AccessClaims {
  /** Stable actor id (the user id; robots `robot:<id>`), never an e-mail address. At most 128 bytes. */
  sub: string;
  tenant_id?: string;
  /** The web session id the token was derived from. */
  sid?: string;
  actor_ref?: string;
  /** Space-separated scopes (hints only; authorization lives in SpacetimeDB tables). */
  scope?: string;
  /** Permission hints. */
  perms?: string[];
  membership_version?: number;
  /** The client the token is for. */
  azp?: string;
  /** A party acting for `sub` (see `mintDelegated`). */
  act?: { sub: string };
  jti?: string;
  [claim: string]: unknown;
}

export interface MintOptions {
  /** Lifetime in seconds, 1 to the broker's `maxTtlSeconds`. */
  ttlSeconds?: number;
}

export interface RobotGrant {
  /** The robot's id; the token's `sub` is `robot:<id>`. */
  id: string;
  tenantId?: string;
  perms?: string[];
  /** Further claims. */
  claims?: Record<string, unknown>;
}

/** A verified (or decoded) JWT payload. */
export interface JwtPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  iat?: number;
  exp?: number;
  nbf?: number;
  [claim: string]: unknown;
}

export interface JwsHeader {
  alg: string;
  kid?: string;
  typ?: string;
  [member: string]: unknown;
}

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  id_token_signing_alg_values_supported: SigningAlgorithm[];
  subject_types_supported: string[];
  response_types_supported: string[];
}

/** Where a broker's documents live (URLs, and the paths an app's router matches). */
export interface WellKnown {
  discoveryUrl: string;
  discoveryPath: string;
  jwksUrl: string;
  jwksPath: string;
}

/** A minimal request shape (a Web `Request` fits). */
export interface WellKnownRequest {
  method?: string;
  url: string;
}

/** Recommended `Cache-Control` for the JWKS and discovery responses. */
export declare const WELL_KNOWN_CACHE_CONTROL: string;

/** What an app's key check resolves for a valid key: its id, and the user it belongs to (if any). */
export interface VerifiedApiKey {
  keyId: string;
  userId?: string;
}

/** A token from {@link apiKeyExchange}: the key's robot, or the robot acting for the key's user. */
export interface ExchangedToken {
  token: string;
  kind: 'robot' | 'delegated';
  /** `robot:<keyId>`, or the user for a delegated token. */
  sub: string;
  /** `robot:<keyId>` for a delegated token, else `null`. */
  act: string | null;
}

/**
 * The API-key → short-lived token exchange for any key store. `verifyKey` is the app's own check and
 * resolves `{ keyId, userId? }` for a valid key, or `null`. The returned `exchange(presented, { forUser })`
 * mints a robot token (`sub = robot:<keyId>`) or, with `forUser: true`, a delegated one (`sub` = the key's
 * user, `act = { sub: robot:<keyId> }`). Throws `INVALID_ARGUMENT` for bad options; `exchange` rejects
 * `API_KEY_INVALID` for a missing or refused key, or `forUser` with a key of no user. (Better Auth users:
 * `spacetime-gateway/better-auth`'s `apiKeyToken` does this with Better Auth's api-key plugin.)
 */
export declare function apiKeyExchange(options: {
  broker: TokenBroker;
  verifyKey: (presented: string) => Promise<VerifiedApiKey | null | undefined> | VerifiedApiKey | null | undefined;
  /** Lifetime of the minted tokens (default 300). */
  ttlSeconds?: number;
}): (presented: string | undefined | null, options?: { forUser?: boolean }) => Promise<ExchangedToken>;

/** Mints, publishes and checks short-lived SpacetimeDB access tokens for one issuer. */
export declare class TokenBroker {
  /** Throws `ISSUER_INVALID`, `KEY_UNSUPPORTED`, `KEY_ID_INVALID`, `KEY_INVALID` or `INVALID_ARGUMENT`. */
  constructor(options: TokenBrokerOptions);
  /** Mints a token (sync, no I/O). Throws `CLAIM_INVALID` for claims that break the contract. */
  mint(claims: AccessClaims, options?: MintOptions): string;
  /** A token for a machine actor: `sub = robot:<id>`. */
  mintRobot(grant: RobotGrant, options?: MintOptions): string;
  /** A token for `sub` with `act: { sub: actor }`: `actor` acts for `sub`. */
  mintDelegated(claims: AccessClaims & { actor: string }, options?: MintOptions): string;
  /** The JWKS to serve (active key first, then retiring keys). */
  jwks(): JwksDocument<PublicJwk>;
  /** The discovery document to serve at `<issuer>/.well-known/openid-configuration`. */
  openidConfiguration(options?: { jwksUri?: string }): OpenIdConfiguration;
  /** The discovery and JWKS URLs/paths (JWKS default: `<issuer>/.well-known/jwks.json`). */
  wellKnown(options?: { jwksUri?: string }): WellKnown;
  /** Serves both documents for a Web `Request`; `null` for any other path or method. */
  handleWellKnown(request: WellKnownRequest, options?: { jwksUri?: string }): Response | null;
  /** The SpacetimeDB Identity (hex) this issuer's tokens get for `sub`. */
  identityFor(sub: string): string;
  /** Verifies a token against this broker's keys, issuer and audience (sync). */
  verify(token: string): JwtPayload;
  readonly issuer: string;
  readonly audience: string[];
  /** The `kid` new tokens are signed with. */
  readonly activeKid: string;
  readonly ttlSeconds: number;
  readonly maxTtlSeconds: number;
}

/** Options of `verifyToken` / `TokenVerifier`: exactly one of `jwks`, `jwksUri`, `discovery`. */
export interface VerifyTokenOptions {
  /** The exact expected `iss`. */
  issuer: string;
  /** Accepted audience(s); `aud` must name one. */
  audience: string | string[];
  /** An in-memory JWKS (enables `verifyTokenSync`). */
  jwks?: JwksDocument;
  /** A remote JWKS, cached 10 minutes, refetched for an unknown `kid` at most every 30 s. */
  jwksUri?: string;
  /** Find the JWKS at `<issuer>/.well-known/openid-configuration` (the configured issuer, never the token's). */
  discovery?: boolean;
  /** Restrict algorithms (default both). Anything but ES256/RS256 is refused. */
  algorithms?: SigningAlgorithm[];
  /** Tolerated clock skew for exp/nbf/iat, 0 to 300 s (default 0). */
  clockToleranceSeconds?: number;
}

/**
 * Several trusted issuers, each with its own options (key source, audience, algorithms, clock
 * tolerance): the dual run of an issuer migration, or one IdP per customer. A token is verified by
 * exactly the issuer its `iss` names — never by another issuer's keys or algorithms — and a token of any
 * other issuer is refused with `TOKEN_ISSUER_UNTRUSTED`, naming it, before any key is fetched.
 *
 * ```ts
 * new TokenVerifier({ issuers: [
 *   { issuer: 'https://sso.example.com/realms/acme', audience: 'web', discovery: true, algorithms: ['RS256'] },
 *   { issuer: broker.issuer, audience: 'spacetimedb', jwks: broker.jwks(), algorithms: ['ES256'] },
 * ] });
 * ```
 */
export interface TrustedIssuersOptions {
  /**
   * At least one; each issuer once (exact strings: a trailing `/` is another issuer). One entry is fine:
   * it checks `iss` first, so another issuer's token is `TOKEN_ISSUER_UNTRUSTED` rather than the
   * one-issuer form's `TOKEN_KEY_NOT_FOUND`.
   */
  issuers: VerifyTokenOptions[];
}

/** Verification options bound to their key sources: build once, verify many. */
export declare class TokenVerifier {
  /**
   * One issuer (`VerifyTokenOptions`), or several (`{ issuers: [...] }`). Throws `INVALID_ARGUMENT` for bad
   * options (naming `issuers[i]` and its issuer), an empty `issuers` or an issuer given twice.
   */
  constructor(options: VerifyTokenOptions | TrustedIssuersOptions);
  /**
   * Resolves with the payload; rejects with a `TOKEN_*` or `JWKS_*` coded error (with several issuers,
   * `TOKEN_ISSUER_UNTRUSTED` for an `iss` none of them is).
   */
  verify(token: string): Promise<JwtPayload>;
  /** Synchronous verification; only when the token's issuer has an in-memory `jwks`. */
  verifySync(token: string): JwtPayload;
  /** The issuers this verifier accepts, in configuration order. */
  readonly issuers: string[];
}

/** Verifies a token; resolves with its payload. Remote JWKS are cached per URI across calls. */
export declare function verifyToken(token: string, options: VerifyTokenOptions | TrustedIssuersOptions): Promise<JwtPayload>;
/** Synchronous `verifyToken` for an in-memory `jwks`. */
export declare function verifyTokenSync(token: string, options: VerifyTokenOptions | TrustedIssuersOptions): JwtPayload;

/** Decodes a JWT without verifying it (diagnostics only). Throws `TOKEN_MALFORMED`. */
export declare function decodeToken(token: string): { header: JwsHeader; payload: JwtPayload };

/** The SpacetimeDB Identity (64 lowercase hex digits) of tokens with this `iss` and `sub`. */
export declare function deriveIdentity(issuer: string, subject: string): string;

/** Generates an ES256 (P-256, default) or RS256 (RSA-2048) key pair. */
export declare function generateKeyPair(options?: { alg?: SigningAlgorithm; kid?: string }): GeneratedKeyPair;

export type FindingSeverity = 'error' | 'warning' | 'info';

/** One diagnostic finding. */
export interface Finding {
  /** Stable code, e.g. `ALG_UNSUPPORTED`, `TOKEN_OPAQUE`, `ISSUER_DEV_FOR_REMOTE_SERVER`. */
  code: string;
  severity: FindingSeverity;
  message: string;
  /** One line saying what to do (absent for plain facts). */
  fix?: string;
}

export interface DiagnoseTokenOptions {
  /** The SpacetimeDB server the token is for: enables the dev-issuer check and a probe of the server. */
  spacetimedbUrl?: string;
  /**
   * The issuer the token must come from, or several (an issuer migration's dual run): any other `iss` is an
   * `ISSUER_MISMATCH` error, and only these issuers' documents are fetched.
   */
  expectedIssuer?: string | string[];
  expectedAudience?: string | string[];
  /** Fetch the issuer's documents and probe the server (default true). */
  network?: boolean;
}

/** Findings explaining why SpacetimeDB or the gateway would refuse a token (errors first). */
export declare function diagnoseToken(token: string, options?: DiagnoseTokenOptions): Promise<Finding[]>;
