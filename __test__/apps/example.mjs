// One example app, whole: built and started by `scripts/example.sh <app> up` with its own SpacetimeDB and
// PostgreSQL, checked by the app-agnostic suites — the HTTP contract (no browser), the end-to-end suite
// in headless Chromium, `spacetime-gateway smoke` as an app's CI would run it — and its sources
// type-checked against the packed package. The frameworks need Node >= 22.12: `npm test` runs the
// example files in its Node 24 pass.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBrowser } from './browser.mjs';
import { describeContract } from './contract.mjs';
import { startExample } from './harness.mjs';
import { describeSmoke } from './smoke.mjs';

const supported = Number(process.versions.node.split('.')[0]) >= 22;
const ROOT = join(import.meta.dirname, '..', '..');

/** The suites for `scripts/example.sh <app>`, whose sources are `dir` (e.g. examples/analog). */
export function describeExample(app, dir) {
  describe.skipIf(!supported)(dir, () => {
    let started;
    beforeAll(async () => {
      started = await startExample(app);
    }, 900_000);
    afterAll(() => started?.down());

    describeContract(() => started);
    describeBrowser(() => started);
    describeSmoke(() => started);

    it('type-checks (tsc) against the packed package and the pinned framework', async () => {
      const { stderr } = await promisify(execFile)('bash', [join(ROOT, 'scripts', 'example.sh'), app, 'check'], { cwd: ROOT, maxBuffer: 16 << 20 });
      expect(stderr).toContain(`${dir} type-checks`);
    }, 300_000);
  });
}
