// scripts/postgres.sh: private clusters that start on free ports, answer SQL, and stop exactly as started.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { isRunning } from './helpers/wait.mjs';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'postgres.sh');
const dir = mkdtempSync(join(tmpdir(), 'stg-pg-test-'));
const envFiles = [join(dir, 'a.env'), join(dir, 'b.env')];

const readEnv = (file) => Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)));

afterAll(async () => {
  for (const file of envFiles) await run('bash', [SCRIPT, 'down', file]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

it('starts two independent clusters and stops exactly the one named', async () => {
  for (const file of envFiles) await run('bash', [SCRIPT, 'up', '--env-out', file], { timeout: 120_000 });
  const [a, b] = envFiles.map(readEnv);
  expect(a.DATABASE_URL).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  expect(a.DATABASE_URL).not.toBe(b.DATABASE_URL);

  const client = new pg.Client({ connectionString: a.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query('SHOW server_version');
  await client.end();
  expect(rows[0].server_version).toMatch(/^\d+\.\d+/);

  await run('bash', [SCRIPT, 'down', envFiles[0]]);
  expect(isRunning(Number(a.POSTGRES_PID))).toBe(false);
  expect(existsSync(a.POSTGRES_INSTANCE)).toBe(false);
  expect(existsSync(envFiles[0])).toBe(false);
  expect(isRunning(Number(b.POSTGRES_PID))).toBe(true);

  await run('bash', [SCRIPT, 'down', envFiles[1]]);
  expect(isRunning(Number(b.POSTGRES_PID))).toBe(false);
}, 180_000);

it('refuses to stop a directory it did not start', async () => {
  const error = await run('bash', [SCRIPT, 'down', dir]).then(() => null, (e) => e);
  expect(error?.code).toBe(1);
  expect(error.stderr).toContain('is not a cluster started by postgres.sh up');
  expect(existsSync(dir)).toBe(true);
});
