// The TanStack Start example app (examples/tanstack-start), built and started by `scripts/example.sh
// tanstack up` with its own SpacetimeDB and PostgreSQL, checked by the app-agnostic suites: the HTTP
// contract (no browser) and the end-to-end suite in headless Chromium; and its sources type-checked
// against the packed package; and `spacetime-gateway smoke` as an app's CI would run it against the app's
// database, with the app's issuer and signing key, in a Better Auth organization. TanStack Start needs
// Node >= 22.12: `npm test` runs this file in its Node 24 pass.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBrowser } from './apps/browser.mjs';
import { describeContract } from './apps/contract.mjs';
import { startExample } from './apps/harness.mjs';
import { runCli } from './helpers/auth.mjs';
import { AppClient } from '../tools/examples/client.mjs';

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

  describe('spacetime-gateway smoke against the app', () => {
    let plan;
    beforeAll(async () => {
      const client = new AppClient(app.APP_URL);
      const owner = await client.signUp('Smoke');
      const org = await client.createOrganization(owner, 'Smoke');
      // A member's token from the app's own issuer and key: the organization hook made the member.
      plan = (extra = []) => [
        'smoke', '--url', app.SPACETIMEDB_URL, '--database', app.SPACETIMEDB_DB,
        '--key', app.SPACETIME_KEY_FILE, '--issuer', app.issuer, '--sub', owner.user.id,
        '--tenant', org.id, '--table', 'document',
        '--call', `create_document ["${org.id}", "{marker}", "body"]`,
        '--expect-event', 'document.insert', '--expect-payload', '{"row":{"title":"{marker}"}}',
        '--json', ...extra,
      ];
    }, 60_000);

    it('passes, with the envelope checked', async () => {
      const r = await runCli(plan());
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.ok).toBe(true);
      expect(out.event).toMatchObject({ event: 'document.insert', payload: { row: { title: `smoke-${out.run}-0` } } });
    }, 60_000);

    it('survives a dropped connection with no event lost or repeated', async () => {
      const r = await runCli(plan(['--simulate', 'disconnect']));
      expect(r.code, r.stderr).toBe(0);
      const { simulate } = JSON.parse(r.stdout);
      expect(simulate).toMatchObject({ mode: 'disconnect', lost: [], repeated: [], resyncs: [] });
      expect(simulate.received).toBe(simulate.calls);
    }, 60_000);

    it('fails with exit 1 naming the expectation when the envelope differs', async () => {
      const r = await runCli(plan(['--expect-tenant', 'another-organization']));
      expect(r.code, r.stdout).toBe(1);
      expect(JSON.parse(r.stdout).ok).toBe(false);
      expect(r.stdout).toContain('another-organization');
    }, 60_000);
  });

  it('type-checks (tsc) against the packed package and the pinned framework', async () => {
    const { stderr } = await promisify(execFile)('bash', [join(ROOT, 'scripts', 'example.sh'), 'tanstack', 'check'], { cwd: ROOT, maxBuffer: 16 << 20 });
    expect(stderr).toContain('examples/tanstack-start type-checks');
  }, 300_000);
});
