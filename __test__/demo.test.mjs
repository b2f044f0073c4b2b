// `npm run demo -- --once`: the whole pattern from a terminal (scripts/demo.sh starts the example app with
// its services; examples/demo.mjs checks what it shows and exits non-zero on any miss). It runs on Node 24
// by itself: this file runs in `npm test`'s Node 24 pass only, so the demo runs once per `npm test`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const supported = Number(process.versions.node.split('.')[0]) >= 22;
const ROOT = join(import.meta.dirname, '..');

it.skipIf(!supported)('npm run demo -- --once passes its scripted checks', async () => {
  const { CI, TEST, VITEST, NODE_ENV, ...env } = process.env;
  const { code, stdout, stderr } = await new Promise((resolve) =>
    execFile('bash', [join(ROOT, 'scripts', 'demo.sh'), '--once'], { cwd: ROOT, env, maxBuffer: 16 << 20 }, (error, out, err) =>
      resolve({ code: error ? error.code : 0, stdout: out, stderr: err }),
    ),
  );
  expect({ code, tail: stdout.slice(-400) + stderr.slice(-1500) }).toMatchObject({ code: 0 });
  expect(stdout).toContain('demo: all checks passed');
  expect(stdout).toMatch(/Alice ← document\.insert #\d+ "Quarterly plan"/);
  expect(stdout).toMatch(/Bob ← revoked membership removed/);
  expect(stdout).not.toContain('✗');
}, 600_000);
