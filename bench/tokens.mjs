// Mint and verify throughput of spacetime-gateway against `jose` in the same run: same algorithms, same
// keys (ES256 on P-256, RS256 with RSA-2048), same claims. Several timed repeats after a warm-up;
// prints ops/s as min / median / max and the ratio of medians.
//
//   bash scripts/setup.sh --release && node bench/tokens.mjs [--repeats 7] [--ms 300] [--json FILE]
//
// What is compared:
//   mint    TokenBroker.mint (sync)                 vs jose SignJWT(...).sign(key)       (async)
//   verify  TokenVerifier.verifySync (in-memory JWKS) vs jose jwtVerify(token, KeyObject) (async),
//           both checking signature, iss, aud and exp; jose gets a pre-imported key (its fastest path).
//   verify (ours, async) is TokenVerifier.verify: the same work behind a Promise, to show what the
//           async crossing costs.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as jose from 'jose';
import { TokenBroker, TokenVerifier, generateKeyPair } from '../lib/index.js';

const { values } = parseArgs({ options: { repeats: { type: 'string' }, ms: { type: 'string' }, json: { type: 'string' } } });
const REPEATS = Number(values.repeats ?? 7);
const MS = Number(values.ms ?? 300);
const ISSUER = 'https://app.example.com/api/auth';
const AUDIENCE = 'spacetimedb';
const CLAIMS = { sub: 'user_8f14e45f', tenant_id: 'org_42', sid: 'sess_1a2b3c', perms: ['doc.read', 'doc.write'], membership_version: 7 };

/** Runs `fn` (sync or async) repeatedly for about `MS` ms; returns ops/s. */
async function rate(fn, isAsync) {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    // Batches of 50 keep the clock reads out of the measurement.
    if (isAsync) for (let i = 0; i < 50; i++) await fn();
    else for (let i = 0; i < 50; i++) fn();
    ops += 50;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

async function series(fn, isAsync) {
  await rate(fn, isAsync); // warm-up (JIT, caches)
  const rates = [];
  for (let i = 0; i < REPEATS; i++) rates.push(await rate(fn, isAsync));
  rates.sort((a, b) => a - b);
  return { min: rates[0], median: rates[Math.floor(rates.length / 2)], max: rates[rates.length - 1] };
}

async function setup(alg) {
  const pair = generateKeyPair({ alg, kid: `${alg.toLowerCase()}-bench` });
  const broker = new TokenBroker({ issuer: ISSUER, audience: AUDIENCE, keys: pair });
  const verifier = new TokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: broker.jwks(), algorithms: [alg] });
  const privateKey = await jose.importPKCS8(pair.privateKeyPem, alg);
  const publicKey = await jose.importJWK(pair.publicJwk, alg);
  const joseMint = () =>
    new jose.SignJWT({ ...CLAIMS, token_type: 'spacetime-access' })
      .setProtectedHeader({ alg, kid: pair.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const joseVerify = (token) => jose.jwtVerify(token, publicKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] });
  // Sanity: each side verifies the other's tokens, so both do the same work.
  const ours = broker.mint(CLAIMS);
  const theirs = await joseMint();
  await joseVerify(ours);
  verifier.verifySync(theirs);
  return { broker, verifier, joseMint, joseVerify, token: ours };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = [];
for (const alg of ['ES256', 'RS256']) {
  const s = await setup(alg);
  const mintOurs = await series(() => s.broker.mint(CLAIMS), false);
  const mintJose = await series(s.joseMint, true);
  const verifyOurs = await series(() => s.verifier.verifySync(s.token), false);
  const verifyOursAsync = await series(() => s.verifier.verify(s.token), true);
  const verifyJose = await series(() => s.joseVerify(s.token), true);
  rows.push({ alg, op: 'mint', ours: mintOurs, jose: mintJose });
  rows.push({ alg, op: 'verify', ours: verifyOurs, jose: verifyJose });
  rows.push({ alg, op: 'verify (ours async)', ours: verifyOursAsync, jose: verifyJose });
}

console.log(`node ${process.version}, ${REPEATS} repeats of ~${MS} ms after a warm-up; ops/s min / median / max`);
console.log('| alg | operation | spacetime-gateway | jose | ratio (median) |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const cell = (x) => `${fmt(x.min)} / **${fmt(x.median)}** / ${fmt(x.max)}`;
  console.log(`| ${r.alg} | ${r.op} | ${cell(r.ours)} | ${cell(r.jose)} | ${(r.ours.median / r.jose.median).toFixed(2)}× |`);
}
// `npm run bench` collects the figures through BENCH_RESULTS_OUT, like every script it runs.
const jsonOut = values.json ?? process.env.BENCH_RESULTS_OUT;
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ node: process.version, repeats: REPEATS, ms: MS, rows }, null, 2)}\n`);
