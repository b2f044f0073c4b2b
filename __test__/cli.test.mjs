// The `spacetime-gateway` CLI, run as a real process (node bin/spacetime-gateway.js): output, --json,
// --help on every command, and exit codes (0 ok, 1 bad token, 2 usage, 3 environment).

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBroker, deriveIdentity, generateKeyPair } from '../lib/index.js';
import { eddsaKey, nowSeconds, runCli, startIssuer, writeKeyFiles } from './helpers/auth.mjs';

const dir = mkdtempSync(join(tmpdir(), 'stg-cli-'));
let keyFile;
let issuer;

beforeAll(async () => {
  const r = await runCli(['keys', 'generate', '--kid', 'cli-1', '--out', join(dir, 'key.json')]);
  expect(r).toMatchObject({ code: 0, stdout: `wrote ES256 key cli-1 to ${join(dir, 'key.json')}\n` });
  keyFile = join(dir, 'key.json');
  issuer = await startIssuer([JSON.parse(readFileSync(keyFile, 'utf8'))], { path: '/api/auth' });
});

afterAll(async () => {
  expect(await issuer?.stop()).toBe(0); // SIGTERM stops `issuer serve` cleanly
});

const mint = async (...extra) => {
  const r = await runCli(['token', 'mint', '--key', keyFile, '--issuer', issuer.issuer, '--audience', 'spacetimedb', '--sub', 'user_1', ...extra]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
};

describe('help and usage', () => {
  it('prints --help for every command with exit 0', async () => {
    const commands = [[], ['token'], ['token', 'decode'], ['token', 'verify'], ['token', 'diagnose'], ['token', 'mint'], ['identity'], ['keys'], ['keys', 'generate'], ['issuer'], ['issuer', 'serve']];
    for (const command of commands) {
      const r = await runCli([...command, '--help']);
      expect(r.code, command.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: spacetime-gateway');
    }
    expect((await runCli(['--help'])).stdout).toContain('Exit codes:');
    expect((await runCli(['help'])).code).toBe(0);
  });

  it('reports usage errors with exit 2', async () => {
    for (const args of [[], ['bogus'], ['token'], ['token', 'bogus'], ['identity', 'only-one'], ['token', 'verify', 'a.b.c'], ['token', 'decode', 'x', '--nope'], ['keys', 'generate', '--alg', 'EdDSA'], ['token', 'mint', '--ttl', '-5'], ['token', 'mint', '--key', 'k', '--issuer', 'https://a.example', '--audience', 'a', '--sub', 'u', '--claims', '[1]']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.length).toBeGreaterThan(0);
    }
  });
});

describe('identity and keys', () => {
  it('prints the Identity (protocol vector), as text and JSON', async () => {
    const r = await runCli(['identity', 'http://localhost:3001/', 'svc']);
    expect(r).toMatchObject({ code: 0, stdout: 'c200aeaeb98599a291ba8bcca1a6bef8f472b61be4dc9431493077aed46c3b69\n' });
    const j = JSON.parse((await runCli(['identity', 'https://auth.example.com', 'user-123', '--json'])).stdout);
    expect(j).toEqual({ identity: 'c2000e9c6bea96ed193403b2bc12b1fa4e8ec2970024252762dbf8a7ddda7157', issuer: 'https://auth.example.com', subject: 'user-123' });
  });

  it('writes private key files 0600 and never overwrites one by accident', async () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = await runCli(['keys', 'generate', '--out', keyFile]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('--force');
    const rsa = await runCli(['keys', 'generate', '--alg', 'RS256', '--out', join(dir, 'rsa.json'), '--json']);
    expect(JSON.parse(rsa.stdout)).toMatchObject({ alg: 'RS256', file: join(dir, 'rsa.json'), publicJwk: { kty: 'RSA' } });
    const printed = JSON.parse((await runCli(['keys', 'generate'])).stdout);
    expect(Object.keys(printed).sort()).toEqual(['alg', 'kid', 'privateKeyPem', 'publicJwk', 'publicKeyPem']);
  });
});

describe('token commands', () => {
  it('mint → decode → verify (key file, JWKS URL, discovery, stdin)', async () => {
    const token = await mint('--claim', 'tenant_id=acme', '--claim', 'membership_version=3', '--ttl', '120');
    const decoded = JSON.parse((await runCli(['token', 'decode', token, '--json'])).stdout);
    expect(decoded.payload).toMatchObject({ sub: 'user_1', tenant_id: 'acme', membership_version: 3, iss: issuer.issuer });
    expect(decoded.payload.exp - decoded.payload.iat).toBe(120);
    expect(decoded.identity).toBe(deriveIdentity(issuer.issuer, 'user_1'));
    const human = await runCli(['token', 'decode', token]);
    expect(human.stdout).toContain('Payload (not verified):');
    expect(human.stdout).toContain(`identity    ${decoded.identity}`);

    const base = ['token', 'verify', '--issuer', issuer.issuer, '--audience', 'spacetimedb'];
    for (const source of [['--jwks', keyFile], ['--jwks', issuer.jwksUrl], []]) {
      const r = await runCli([...base, token, ...source]);
      expect(r.code, source.join(' ')).toBe(0);
      expect(r.stdout).toContain('valid token for sub "user_1"');
    }
    const piped = await runCli([...base, '-', '--json'], { input: `${token}\n` });
    expect(JSON.parse(piped.stdout)).toMatchObject({ valid: true, payload: { sub: 'user_1' }, identity: decoded.identity });
  });

  it('verify exits 1 with the error code for a bad token', async () => {
    const token = await mint();
    const wrongAud = await runCli(['token', 'verify', token, '--issuer', issuer.issuer, '--audience', 'other', '--jwks', keyFile]);
    expect(wrongAud.code).toBe(1);
    expect(wrongAud.stderr).toContain('TOKEN_AUDIENCE');
    const json = await runCli(['token', 'verify', token, '--issuer', `${issuer.issuer}/`, '--audience', 'spacetimedb', '--jwks', keyFile, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, error: { code: 'TOKEN_ISSUER' } });
    const malformed = await runCli(['token', 'decode', 'abc']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('TOKEN_MALFORMED');
  });

  it('environment failures exit 3', async () => {
    const token = await mint();
    const missing = await runCli(['token', 'verify', token, '--issuer', issuer.issuer, '--audience', 'spacetimedb', '--jwks', join(dir, 'nope.json')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no such file');
    const down = await runCli(['token', 'verify', token, '--issuer', issuer.issuer, '--audience', 'spacetimedb', '--jwks', 'http://127.0.0.1:9/jwks']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('JWKS_UNREACHABLE');
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, generateKeyPair().privateKeyPem);
    const pemKey = await runCli(['token', 'mint', '--key', pem, '--issuer', issuer.issuer, '--audience', 'a', '--sub', 'u']);
    expect(pemKey.code).toBe(3);
    expect(pemKey.stderr).toContain('PEM');
    const [edFile] = writeKeyFiles({ ...eddsaKey('ed').jwk });
    const ed = await runCli(['token', 'mint', '--key', edFile, '--issuer', issuer.issuer, '--audience', 'a', '--sub', 'u']);
    expect(ed.code).toBe(3);
    expect(ed.stderr).toContain('KEY_UNSUPPORTED');
  });

  it('diagnose lists findings with fixes and exits 1 on errors', async () => {
    const good = await runCli(['token', 'diagnose', await mint(), '--issuer', issuer.issuer, '--audience', 'spacetimedb']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('SIGNATURE_VALID');
    expect(good.stdout).toMatch(/no errors/);

    const ed = eddsaKey('ed').sign({ iss: issuer.issuer, sub: 'u', aud: 'spacetimedb', iat: nowSeconds(), exp: nowSeconds() + 60 });
    const bad = await runCli(['token', 'diagnose', ed, '--offline']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('✗ error   ALG_UNSUPPORTED');
    expect(bad.stdout).toContain('fix: Better Auth: jwt({ jwks: { keyPairConfig: { alg: "ES256" } } })');
    const json = JSON.parse((await runCli(['token', 'diagnose', 'kLx3UAb0EJVpKmQuNxT9e2cV7hRpY4wZ', '--json'])).stdout);
    expect(json).toMatchObject({ ok: false, findings: [{ code: 'TOKEN_OPAQUE', severity: 'error' }] });

    const dev = new TokenBroker({ issuer: issuer.issuer, audience: 'spacetimedb', keys: JSON.parse(readFileSync(keyFile, 'utf8')) }).mint({ sub: 'u' });
    const remote = await runCli(['token', 'diagnose', dev, '--offline', '--spacetimedb-url', 'https://db.example.com']);
    expect(remote.code).toBe(1);
    expect(remote.stdout).toContain('ISSUER_DEV_FOR_REMOTE_SERVER');
  });

  it('verify --issuers FILE and diagnose --issuer … --issuer … accept each issuer of a dual run, and only those', async () => {
    // The old issuer is the running `issuer serve` (by discovery); the new one is given by its JWKS.
    const newKey = generateKeyPair({ kid: 'new-1' });
    const newIssuer = 'https://app.example.com/api/spacetime';
    const newBroker = new TokenBroker({ issuer: newIssuer, audience: 'app', keys: newKey });
    const issuersFile = join(dir, 'issuers.json');
    writeFileSync(issuersFile, JSON.stringify([
      { issuer: issuer.issuer, audience: 'spacetimedb', discovery: true, algorithms: ['ES256'] },
      { issuer: newIssuer, audience: 'app', jwks: { keys: [newKey.publicJwk] }, algorithms: ['ES256'] },
    ]));
    const old = await runCli(['token', 'verify', await mint(), '--issuers', issuersFile, '--json']);
    expect(old.code).toBe(0);
    expect(JSON.parse(old.stdout)).toMatchObject({ valid: true, payload: { iss: issuer.issuer } });
    const fresh = await runCli(['token', 'verify', newBroker.mint({ sub: 'user_1' }), '--issuers', issuersFile]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain(`from ${newIssuer}`);
    // A token of a third issuer, signed with a key both trust, is refused by name before any fetch.
    const other = new TokenBroker({ issuer: 'https://other.example.com', audience: 'app', keys: newKey }).mint({ sub: 'u' });
    const refused = await runCli(['token', 'verify', other, '--issuers', issuersFile, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'TOKEN_ISSUER_UNTRUSTED' });
    expect(JSON.parse(refused.stdout).error.message).toContain('https://other.example.com');

    // Mixing the file with one issuer's flags is a usage error; a bad file an environment error naming it.
    expect((await runCli(['token', 'verify', other, '--issuers', issuersFile, '--audience', 'app'])).code).toBe(2);
    for (const [content, words] of [['[]', 'non-empty'], ['{"issuers": [{"issuer": "https://a.example", "audience": "a"}]}', 'key source'], ['not json', 'not JSON']]) {
      writeFileSync(join(dir, 'bad-issuers.json'), content);
      const bad = await runCli(['token', 'verify', other, '--issuers', join(dir, 'bad-issuers.json')]);
      expect(bad.code, content).toBe(3);
      expect(bad.stderr, content).toContain('ISSUERS_INVALID');
      expect(bad.stderr, content).toContain(words);
    }

    const both = ['--issuer', issuer.issuer, '--issuer', newIssuer, '--offline'];
    for (const token of [await mint(), newBroker.mint({ sub: 'user_1' })]) {
      const r = await runCli(['token', 'diagnose', token, ...both, '--json']);
      expect(JSON.parse(r.stdout).findings.map((f) => f.code)).not.toContain('ISSUER_MISMATCH');
    }
    const mismatch = await runCli(['token', 'diagnose', other, ...both]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain(`ISSUER_MISMATCH: \`iss\` is "https://other.example.com", expected one of ["${issuer.issuer}", "${newIssuer}"]`);
  });

  it('issuer serve refuses non-loopback hosts and busy ports', async () => {
    const host = await runCli(['issuer', 'serve', '--key', keyFile, '--host', '0.0.0.0']);
    expect(host.code).toBe(2);
    const port = new URL(issuer.issuer).port;
    const busy = await runCli(['issuer', 'serve', '--key', keyFile, '--port', port]);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain('in use');
  });
});
