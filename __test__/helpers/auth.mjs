// Helpers for the auth and CLI suites: the CLI as a child process, the dev issuer it serves, a tiny
// JSON server for hand-made issuers, and hand-made tokens (HS256 forgeries, EdDSA, raw JSON text).

import { spawn } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'spacetime-gateway.js');

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Runs the CLI; resolves `{ code, stdout, stderr }`. `input` is written to stdin. */
export function runCli(args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Writes key pairs as key files in a fresh temp dir; returns their paths. */
export function writeKeyFiles(...pairs) {
  const dir = mkdtempSync(join(tmpdir(), 'stg-keys-'));
  return pairs.map((pair, i) => {
    const file = join(dir, `key-${i}.json`);
    writeFileSync(file, JSON.stringify(pair), { mode: 0o600 });
    return file;
  });
}

/**
 * Starts `spacetime-gateway issuer serve` for `pairs` (first active, others retiring) under `path`,
 * behind a segment unique to this start; resolves `{ issuer, discoveryUrl, jwksUrl, stop }`. `stop`
 * resolves with the exit code.
 *
 * Why the unique segment: the suites share one SpacetimeDB server, which caches each issuer's JWKS by
 * the issuer URL (refreshed after 300 s, kept 7200 s; shared/docs/spacetimedb-protocol.md §5) and does
 * not refetch on an unknown `kid`. A later issuer that happens to get an earlier one's port would
 * otherwise have its tokens refused with `KeyIDNotFound` (seen once in a full run).
 */
export async function startIssuer(pairs, { path = '/api/auth' } = {}) {
  const files = writeKeyFiles(...pairs);
  const served = `/i-${randomBytes(6).toString('hex')}${path}`;
  const args = ['issuer', 'serve', '--json', '--path', served, ...files.flatMap((f) => ['--key', f])];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('close', (code) => reject(new Error(`issuer serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line);
  return {
    ...info,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A loopback server answering JSON bodies by path; resolves `{ base, hits, close }`. */
export async function serveJson(routes) {
  const hits = {};
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    const body = typeof routes === 'function' ? routes(path) : routes[path];
    if (body === undefined) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections(); // HTTP clients keep pooled connections open
      }),
  };
}

/** A compact token with any header, payload and signature bytes. */
export function rawToken(header, payload, signature = Buffer.alloc(0)) {
  return `${b64(header)}.${b64(payload)}.${Buffer.from(signature).toString('base64url')}`;
}

/**
 * A token over JSON *text*, signed properly with `pair` (from generateKeyPair): the way to send what
 * JSON.stringify cannot write, such as a key twice (`{"sub":"a","sub":"b"}`).
 */
export function signedText(pair, headerText, payloadText) {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const key = { key: pair.privateKeyPem, dsaEncoding: 'ieee-p1363' }; // JWS wants r‖s, not DER, for ES256
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** `JSON.stringify(value)` with `members` (JSON text, e.g. `"sub":"x"`) appended: repeats are kept. */
export function withMembers(value, members) {
  return `${JSON.stringify(value).slice(0, -1)},${members}}`;
}

/** An HS256 token whose HMAC secret is `secret` (e.g. a public key: the algorithm-confusion forgery). */
export function hs256Token(header, payload, secret) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** An Ed25519 key (what Better Auth's jwt plugin uses by default): `{ jwk, sign(header, payload) }`. */
export function eddsaKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  return {
    jwk,
    sign(payload) {
      const input = `${b64({ alg: 'EdDSA', kid, typ: 'JWT' })}.${b64(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    },
  };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
