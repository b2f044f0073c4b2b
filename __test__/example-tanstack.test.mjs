// The TanStack Start example app (examples/tanstack-start), built and started by `scripts/example.sh
// tanstack up` with its own SpacetimeDB and PostgreSQL, checked by the app-agnostic suites: the HTTP
// contract (no browser) and the end-to-end suite in headless Chromium; and its sources type-checked
// against the packed package. TanStack Start needs Node >= 22.12: `npm test` runs this file in its
// Node 24 pass.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBrowser } from './apps/browser.mjs';
import { describeContract } from './apps/contract.mjs';
import { startExample } from './apps/harness.mjs';

const supported = Number(process.versions.node.split('.')[0]) >= 22;
const ROOT = join(import.meta.dirname, '..');

describe.skipIf(!supported)('examples/tanstack-start', () => {
  let app;
  beforeAll(async () => {
    app = await startExample('tanstack');
  }, 900_000);
  afterAll(() => app?.down());

  describeContract(() => app);
  describeBrowser(() => app);

  it('type-checks (tsc) against the packed package and the pinned framework', async () => {
    const { stderr } = await promisify(execFile)('bash', [join(ROOT, 'scripts', 'example.sh'), 'tanstack', 'check'], { cwd: ROOT, maxBuffer: 16 << 20 });
    expect(stderr).toContain('examples/tanstack-start type-checks');
  }, 300_000);
});
