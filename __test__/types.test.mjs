// The published type definitions (lib/index.d.ts over the generated index.d.ts) compile for a consumer.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const tsc = (project) =>
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, '__test__/types', project), '--pretty', 'false'], {
    cwd: ROOT,
  }).then(
    () => ({ code: 0, out: '' }),
    (e) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

it('a consumer file type-checks against the package types', async () => {
  const r = await tsc('tsconfig.json');
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 60_000);

it('a type error in a consumer is reported (the check can fail)', async () => {
  const r = await tsc('tsconfig.broken.json');
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("Type 'string' is not assignable to type 'number'");
}, 60_000);

it('a real Better Auth instance (organization + apiKey) fits betterAuthGateway as it is', async () => {
  const r = await tsc('tsconfig.better-auth.json');
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 60_000);

it('real h3 v1 and h3 v2 events fit serveStream, and its result fits their handlers', async () => {
  const r = await tsc('tsconfig.h3.json');
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 60_000);
