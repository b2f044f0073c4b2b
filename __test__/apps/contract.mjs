// The HTTP contract of the example apps, without a browser (docs/tanstack-start.md#the-http-contract):
// any app that keeps it passes — the TanStack Start app now, the Analog app later. `getApp()` returns
// what startExample() resolved.
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveIdentity } from '../../lib/index.js';
import { AppClient } from '../../tools/examples/client.mjs';
import { label } from '../helpers/sse.mjs';
import { LIMITS, sql } from './harness.mjs';

/** An error response: exactly `{ error: { code, message } }` with that status, and no stack trace. */
async function expectError(response, status, code) {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status, text: expect.stringContaining(`"code":"${code}"`) });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(JSON.parse(text)).toEqual({ error: { code, message: expect.any(String) } });
  expect(text).not.toMatch(/\bat .+:\d+:\d+|\.(ts|js|mjs):\d+/); // no stack frames, no file positions
}

const rowsOf = (frames) => frames.filter((f) => f.data?.event === 'snapshot' && f.data.payload.phase === 'rows').flatMap((f) => f.data.payload.rows);
const dataFrames = (frames) => frames.filter((f) => f.data !== undefined);

export function describeContract(getApp) {
  describe('HTTP contract', () => {
    let app;
    let client;
    let alice;
    let bob;
    let acme;
    let globex;
    let acmeKey;

    beforeAll(async () => {
      app = getApp();
      client = new AppClient(app.APP_URL);
      [alice, bob] = await Promise.all([client.signUp('Alice'), client.signUp('Bob')]);
      [acme, globex] = await Promise.all([client.createOrganization(alice, 'Acme'), client.createOrganization(bob, 'Globex')]);
      acmeKey = await client.createApiKey(alice, { organizationId: acme.id });
    });

    it('GET /api/documents: 401 without a session, 403 outside the organization, 400 for a missing or malformed tenant, 200 for a member', async () => {
      await expectError(await client.documents(null, acme.id), 401, 'UNAUTHENTICATED');
      await expectError(await client.documents(bob, acme.id), 403, 'NOT_A_MEMBER');
      await expectError(await client.request('/api/documents', { cookie: alice.cookie }), 400, 'INVALID_INPUT');
      await expectError(await client.documents(alice, "acme' OR 1=1"), 400, 'INVALID_INPUT');
      await expectError(await client.documents(alice, 'x'.repeat(65)), 400, 'INVALID_INPUT');
      const response = await client.documents(alice, acme.id);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ documents: [], lastEventId: expect.any(String) });
    });

    it('GET /api/events: the same 401/403/400, and for a member a stream of its organization only', async () => {
      for (const [who, tenant, status, code] of [
        [null, acme.id, 401, 'UNAUTHENTICATED'],
        [bob, acme.id, 403, 'NOT_A_MEMBER'],
        [alice, '', 400, 'INVALID_INPUT'],
      ]) {
        const stream = await client.events(who, tenant).opened;
        expect(stream.status).toBe(status);
        await stream.until((_, c) => c.ended, 5000, 'the error response to end');
        expect(stream.headers['content-type']).toMatch(/^application\/json/);
        stream.close();
      }
      await client.postDocument(acmeKey.key, { title: 'acme only', body: '' });
      const mine = await client.events(alice, acme.id).opened;
      expect(mine.status).toBe(200);
      expect(mine.headers['content-type']).toMatch(/^text\/event-stream/);
      await mine.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
      mine.close();
      expect(rowsOf(mine.frames).map((r) => r.title)).toContain('acme only');
      expect(dataFrames(mine.frames).every((f) => f.data.tenant_id === acme.id || f.data.tenant_id === null)).toBe(true);
    });

    it('POST /api/integrations/documents: 401 for a missing or unknown key, 400 for bad input, 201 { id } attributed to the robot', async () => {
      await expectError(await client.postDocument(undefined, { title: 'x', body: '' }), 401, 'API_KEY_INVALID');
      await expectError(await client.postDocument('sk_not-a-key-of-this-app-000000000000000000000000', { title: 'x', body: '' }), 401, 'API_KEY_INVALID');
      const key = await client.createApiKey(alice, { organizationId: acme.id, name: 'input checks' });
      await expectError(await client.request('/api/integrations/documents', { method: 'POST', apiKey: key.key, body: '{"title": ', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_INPUT');
      for (const body of [{}, { title: '' }, { title: '   ' }, { title: 'x'.repeat(201) }, { title: 'ok', body: 7 }, { title: 'ok', extra: true }, [], 'a string']) {
        await expectError(await client.postDocument(key.key, body), 400, 'INVALID_INPUT');
      }
      await expectError(await client.postDocument(key.key, { title: 'elsewhere' }, { tenant: globex.id }), 403, 'NOT_A_MEMBER');

      const created = await client.postDocument(key.key, { title: 'from the robot', body: 'hello' });
      expect(created.status).toBe(201);
      const { id } = await created.json();
      expect(id).toMatch(/^\d+$/);
      const { documents } = await (await client.documents(alice, acme.id)).json();
      expect(documents.find((d) => d.id === id)).toMatchObject({ title: 'from the robot', body: 'hello', owner: deriveIdentity(app.issuer, `robot:${key.id}`) });
      const [audit] = await sql(app, `SELECT * FROM audit_event WHERE action = 'document.create' AND subject = '${id}'`);
      expect(audit).toMatchObject({ tenant_id: acme.id, actor: deriveIdentity(app.issuer, `robot:${key.id}`) });
    });

    it("a user's own API key acts for the user, in an organization named with ?tenant=", async () => {
      const key = await client.createApiKey(alice, { configId: 'user', name: 'cli' });
      await expectError(await client.postDocument(key.key, { title: 'where?' }), 400, 'NO_ORGANIZATION');
      await expectError(await client.postDocument(key.key, { title: 'not mine' }, { tenant: globex.id }), 403, 'NOT_A_MEMBER');
      const created = await client.postDocument(key.key, { title: 'for alice' }, { tenant: acme.id });
      expect(created.status).toBe(201);
      const { id } = await created.json();
      const [audit] = await sql(app, `SELECT * FROM audit_event WHERE action = 'document.create' AND subject = '${id}'`);
      expect(audit.actor).toBe(deriveIdentity(app.issuer, alice.user.id)); // the module sees the user
    });

    it("429 once a key's requests are spent", async () => {
      const key = await client.createApiKey(alice, { organizationId: acme.id, name: 'busy' });
      for (let i = 0; i < LIMITS.keyRequestsPerMinute; i++) {
        expect((await client.postDocument(key.key, { title: `burst ${i}` })).status).toBe(201);
      }
      await expectError(await client.postDocument(key.key, { title: 'one too many' }), 429, 'API_KEY_RATE_LIMITED');
    });

    it('a stream started after GET /api/documents continues exactly after those rows: no snapshot, no gap, no repeat', async () => {
      const { documents, lastEventId } = await (await client.documents(alice, acme.id)).json();
      const { id } = await (await client.postDocument(acmeKey.key, { title: 'between read and connect' })).json();
      const stream = await client.events(alice, acme.id, { after: lastEventId }).opened;
      const { id: later } = await (await client.postDocument(acmeKey.key, { title: 'after connect' })).json();
      await stream.until((f) => f.some((x) => x.data?.payload?.row?.id === later), 10_000, 'the later insert');
      stream.close();
      expect(documents.some((d) => d.id === id)).toBe(false);
      expect(dataFrames(stream.frames).map((f) => `${f.data.event} ${f.data.payload.row?.id}`)).toEqual([`document.insert ${id}`, `document.insert ${later}`]);
    });

    it("a forged or foreign Last-Event-ID gets resync and a snapshot of the caller's own organization", async () => {
      await client.postDocument(acmeKey.key, { title: 'acme row' });
      const globexStream = await client.events(bob, globex.id).opened;
      await globexStream.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, "globex's snapshot");
      globexStream.close();
      for (const forged of [globexStream.lastEventId, 'garbage', `${globexStream.lastEventId.split('-')[0]}-999999999`]) {
        const stream = await client.events(alice, acme.id, { lastEventId: forged }).opened;
        await stream.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, 'the snapshot');
        stream.close();
        expect(label(dataFrames(stream.frames)[0])).toMatch(/^resync\//);
        expect(dataFrames(stream.frames).every((f) => f.data.tenant_id === acme.id || f.data.tenant_id === null)).toBe(true);
        expect(rowsOf(stream.frames).every((r) => r.tenant_id === acme.id)).toBe(true);
      }
    });

    it('removing a member ends their open stream with revoked; their next requests get 403', async () => {
      const carol = await client.signUp('Carol');
      await client.addMember(alice, carol, acme.id);
      const stream = await client.events(carol, acme.id).opened;
      expect(stream.status).toBe(200);
      await stream.until((f) => f.some((x) => label(x) === 'snapshot/end'), 10_000, "carol's snapshot");
      await client.removeMember(alice, carol, acme.id);
      await stream.until((_, c) => c.ended, 10_000, "carol's stream to end");
      expect(label(stream.frames.at(-1))).toBe('revoked/membership removed');
      await expectError(await client.documents(carol, acme.id), 403, 'NOT_A_MEMBER');
      const again = await client.events(carol, acme.id).opened;
      expect(again.status).toBe(403);
      again.close();
    });

    it('pages: /t/<orgId> is rendered on the server with the documents; 403 for a non-member, 401 without a session', async () => {
      const { documents } = await (await client.documents(alice, acme.id)).json();
      const page = await client.request(`/t/${acme.id}`, { cookie: alice.cookie });
      expect(page.status).toBe(200);
      const html = await page.text();
      const ids = [...html.matchAll(/data-testid="doc" data-doc-id="(\d+)"/g)].map((m) => m[1]);
      expect(ids.sort()).toEqual(documents.map((d) => d.id).sort());
      for (const [who, status, code] of [[bob, 403, 'NOT_A_MEMBER'], [null, 401, 'UNAUTHENTICATED']]) {
        const denied = await client.request(`/t/${acme.id}`, { cookie: who?.cookie });
        expect(denied.status).toBe(status);
        const text = await denied.text();
        expect(text).toContain(`data-code="${code}"`);
        expect(text).not.toContain('data-testid="doc"');
      }
    });
  });
}
