// Token parsing that must not differ from SpacetimeDB's (issue #11, item 9), through the public API:
// a repeated claim or header member, `crit`, a `kid` or a claim of the wrong type. Every token here is
// signed properly with the broker's key, so only the one forged detail is wrong; the JSON is written by
// hand because JSON.stringify cannot repeat a key.

import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, TokenBroker, TokenVerifier, decodeToken, diagnoseToken, generateKeyPair, verifyToken, verifyTokenSync } from '../lib/index.js';
import { nowSeconds, runCli, signedText, withMembers } from './helpers/auth.mjs';

const ISSUER = 'https://app.example.com/api/auth';
const AUDIENCE = 'spacetimedb';
let es;
let broker;

beforeAll(() => {
  es = generateKeyPair({ alg: 'ES256', kid: 'es-1' });
  broker = new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: es });
});

const header = () => ({ alg: 'ES256', kid: 'es-1', typ: 'JWT' });
const payload = () => ({ iss: ISSUER, sub: 'alice', aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 60 });
/** A properly signed token; `members` is JSON text appended to the header or the payload. */
const token = ({ headerMembers, payloadMembers, headerValue = header(), payloadValue = payload() } = {}) =>
  signedText(
    es,
    headerMembers ? withMembers(headerValue, headerMembers) : JSON.stringify(headerValue),
    payloadMembers ? withMembers(payloadValue, payloadMembers) : JSON.stringify(payloadValue),
  );

/** Every public way to verify a token, each refusing it with `code` and a message containing `needle`. */
async function everyVerifierRefuses(jwt, code, needle) {
  const jwks = broker.jwks();
  const options = { issuer: ISSUER, audience: AUDIENCE, jwks };
  const verifier = new TokenVerifier(options);
  const attempts = [
    () => verifyToken(jwt, options),
    () => verifyTokenSync(jwt, options),
    () => verifier.verify(jwt),
    () => verifier.verifySync(jwt),
    () => broker.verify(jwt),
  ];
  for (const attempt of attempts) {
    const error = await Promise.resolve().then(attempt).then(
      (result) => expect.fail(`accepted as ${JSON.stringify(result)}`),
      (e) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(needle);
  }
}

/** diagnoseToken (offline) reports `code` as an error naming `needle`, with a fix. */
async function diagnosed(jwt, code, needle) {
  const findings = await diagnoseToken(jwt, { network: false });
  const finding = findings.find((f) => f.code === code);
  expect(finding, `${code} in ${JSON.stringify(findings)}`).toBeDefined();
  expect(finding.severity).toBe('error');
  expect(finding.message).toContain(needle);
  expect(finding.fix).toBeTruthy();
  return findings;
}

describe('repeated JSON keys', () => {
  it('a repeated claim is refused everywhere, whichever value comes last', async () => {
    const forged = token({ payloadMembers: '"sub":"mallory"' });
    expect(broker.verify(token()).sub).toBe('alice'); // the same token without the repeat verifies
    await everyVerifierRefuses(forged, 'TOKEN_MALFORMED', 'repeats `sub`');
    await diagnosed(forged, 'DUPLICATE_CLAIM', 'repeats `sub`');
    let decodeError;
    try {
      decodeToken(forged);
    } catch (e) {
      decodeError = e;
    }
    expect(decodeError?.code).toBe('TOKEN_MALFORMED'); // no single faithful decoding exists
  });

  it('a claim SpacetimeDB does not read, or a nested one, is refused as well', async () => {
    await everyVerifierRefuses(token({ payloadMembers: '"tenant_id":"acme","tenant_id":"evil"' }), 'TOKEN_MALFORMED', 'repeats `tenant_id`');
    const nested = token({ payloadMembers: '"act":{"sub":"robot:a","sub":"robot:b"}' });
    await everyVerifierRefuses(nested, 'TOKEN_MALFORMED', 'repeats `act.sub`');
    await diagnosed(nested, 'DUPLICATE_CLAIM', '`act.sub`');
  });

  it('a repeated header member is refused', async () => {
    const forged = token({ headerMembers: '"kid":"other"' });
    await everyVerifierRefuses(forged, 'TOKEN_MALFORMED', 'repeats `kid`');
    await diagnosed(forged, 'DUPLICATE_HEADER_PARAM', 'repeats `kid`');
  });

  it('the CLI names the cause', async () => {
    const run = await runCli(['token', 'diagnose', '--offline', '--json'], { input: token({ payloadMembers: '"sub":"mallory"' }) });
    expect(run.code).toBe(1);
    const { ok, findings } = JSON.parse(run.stdout);
    expect(ok).toBe(false);
    expect(findings).toContainEqual(expect.objectContaining({ code: 'DUPLICATE_CLAIM', severity: 'error' }));
  });
});

describe('header members', () => {
  it('crit: verify refuses it and diagnose says so', async () => {
    const forged = token({ headerValue: { ...header(), crit: ['exp'], exp: 1 } });
    await everyVerifierRefuses(forged, 'TOKEN_MALFORMED', '`crit`');
    await diagnosed(forged, 'CRIT_UNSUPPORTED', '`crit`');
  });

  it('a kid that is not a string is refused, not read as "no kid"', async () => {
    for (const [kid, shown] of [[1, 'the number 1'], [null, 'null']]) {
      const forged = token({ headerValue: { alg: 'ES256', kid } });
      await everyVerifierRefuses(forged, 'TOKEN_MALFORMED', `\`kid\` is ${shown}`);
      const findings = await diagnosed(forged, 'KID_INVALID', '`kid`');
      expect(findings.map((f) => f.code)).not.toContain('KID_MISSING');
    }
  });

  it('typ of the wrong type', async () => {
    const forged = token({ headerValue: { ...header(), typ: 1 } });
    await everyVerifierRefuses(forged, 'TOKEN_MALFORMED', '`typ`');
    await diagnosed(forged, 'HEADER_PARAM_INVALID', '`typ`');
  });
});

describe('claims of the wrong type', () => {
  it('verify and diagnose agree on each', async () => {
    const cases = [
      [{ aud: [AUDIENCE, 5] }, 'AUDIENCE_INVALID', '`aud`'], // names the audience, yet SpacetimeDB refuses it
      [{ aud: null }, 'AUDIENCE_INVALID', '`aud`'],
      [{ iss: 1 }, 'ISSUER_INVALID', '`iss`'],
      [{ sub: null }, 'SUBJECT_INVALID', '`sub`'],
      [{ iat: String(nowSeconds()) }, 'IAT_INVALID', '`iat`'],
      [{ iat: nowSeconds() + 0.5 }, 'IAT_INVALID', '`iat`'],
      [{ exp: nowSeconds() + 60.5 }, 'EXP_INVALID', '`exp`'],
      [{ nbf: 'now' }, 'NBF_INVALID', '`nbf`'],
    ];
    for (const [claims, finding, needle] of cases) {
      const forged = token({ payloadValue: { ...payload(), ...claims } });
      await everyVerifierRefuses(forged, 'TOKEN_CLAIM_INVALID', needle);
      await diagnosed(forged, finding, needle);
    }
  });
});
