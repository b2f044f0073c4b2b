// The TanStack Start example app (examples/tanstack-start), built and started by `scripts/example.sh
// tanstack up` with its own SpacetimeDB and PostgreSQL, checked by the app-agnostic suites: the HTTP
// contract (no browser) and the end-to-end suite in headless Chromium. TanStack Start needs Node >=
// 22.12: `npm test` runs this file in its Node 24 pass.
import { afterAll, beforeAll, describe } from 'vitest';
import { describeBrowser } from './apps/browser.mjs';
import { describeContract } from './apps/contract.mjs';
import { startExample } from './apps/harness.mjs';

const supported = Number(process.versions.node.split('.')[0]) >= 22;

describe.skipIf(!supported)('examples/tanstack-start', () => {
  let app;
  beforeAll(async () => {
    app = await startExample('tanstack');
  }, 900_000);
  afterAll(() => app?.down());

  describeContract(() => app);
  describeBrowser(() => app);
});
