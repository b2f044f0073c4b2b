// `spacetime-gateway smoke` as an app's CI would run it against an example app's database, with the app's
// issuer and signing key, as a member of a Better Auth organization the app made: any app that keeps the
// HTTP contract (contract.mjs) passes. `getApp()` returns what startExample() resolved.
import { beforeAll, describe, expect, it } from 'vitest';
import { AppClient } from '../../tools/examples/client.mjs';
import { runCli } from '../helpers/auth.mjs';

export function describeSmoke(getApp) {
  describe('spacetime-gateway smoke against the app', () => {
    let app;
    let plan;
    beforeAll(async () => {
      app = getApp();
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
}
