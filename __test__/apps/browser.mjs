// End-to-end in headless Chromium, for any example app that keeps the HTTP contract and the pages' test
// ids (selectors.mjs): two users in two organizations in separate browser contexts, server-rendered rows
// before any script, live inserts/updates/deletes, the render/stream seam, isolation in the DOM and in
// the raw SSE frames, an app crash and restart, a member removed, an API-key write by a robot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveIdentity } from '../../lib/index.js';
import { start as startApp, stop as stopApp } from '../../tools/examples/app.mjs';
import { exampleBroker } from '../../tools/examples/broker.mjs';
import { AppClient } from '../../tools/examples/client.mjs';
import { callReducer, LIMITS, launchBrowser, openRecorded, signedInContext, sql, until } from './harness.mjs';
import { id, T } from './selectors.mjs';

/** How soon a change made in one tab must show in another (the "within a second"). */
const LIVE_DEADLINE_MS = 1000;

export function describeBrowser(getApp) {
  describe('in headless Chromium', () => {
    let app;
    let client;
    let browser;
    let alice;
    let bob;
    let acme;
    let globex;
    let acmeKey;
    let aliceContext;
    let bobContext;
    /** Every page opened on an organization, with the SSE frames its browser received. */
    const opened = [];

    const url = (path) => `${app.APP_URL}${path}`;
    const docIds = (page) => page.locator(id(T.doc)).evaluateAll((els) => els.map((e) => e.getAttribute('data-doc-id')));
    const doc = (page, docId) => page.locator(`${id(T.doc)}[data-doc-id="${docId}"]`);
    /** The page's document count as it shows it, and the documents it lists: they must agree. */
    const counted = async (page) => ({ shown: await page.getByTestId(T.docCount).textContent(), listed: String(await page.locator(id(T.doc)).count()) });
    /** Polls until the count shown equals the documents listed; resolves that number (as text). */
    const countAgrees = (page) =>
      expect.poll(
        async () => {
          const { shown, listed } = await counted(page);
          return shown === listed ? listed : `shown ${shown}, listed ${listed}`;
        },
        { timeout: LIVE_DEADLINE_MS },
      );
    const status = (page, state) => page.locator(`${id(T.liveStatus)}[data-state="${state}"]`);
    const dbDocuments = async (org) => (await sql(app, `SELECT * FROM document WHERE tenant_id = '${org.id}'`)).map((d) => ({ id: String(d.id), title: d.title }));

    /** Opens the organization's page in `context`, recording its SSE frames; resolves once it is live. */
    async function openOrganization(context, org, before) {
      const recorded = await openRecorded(context, url(`/t/${org.id}`), before);
      opened.push({ org: org.id, ...recorded });
      if (!before) await status(recorded.page, 'live').waitFor({ timeout: 15_000 });
      return recorded;
    }

    /** Fills and submits the new-document form (the submit button is enabled once the page is hydrated). */
    async function addInForm(page, title, body = '') {
      await page.getByTestId(T.newTitle).fill(title);
      await page.getByTestId(T.newBody).fill(body);
      await page.getByTestId(T.newSubmit).click();
    }

    beforeAll(async () => {
      app = getApp();
      client = new AppClient(app.APP_URL);
      browser = await launchBrowser();
      [alice, bob] = await Promise.all([client.signUp('Alice'), client.signUp('Bob')]);
      [acme, globex] = await Promise.all([client.createOrganization(alice, 'Acme'), client.createOrganization(bob, 'Globex')]);
      acmeKey = await client.createApiKey(alice, { organizationId: acme.id });
      aliceContext = await signedInContext(browser, app.APP_URL, alice);
      bobContext = await signedInContext(browser, app.APP_URL, bob);
    }, 60_000);
    afterAll(() => browser?.close());

    it('signs up, creates an organization and opens its live page through the UI', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(url('/sign-up'));
        await page.getByTestId(T.authName).fill('Erin');
        await page.getByTestId(T.authEmail).fill(`erin-${Date.now()}@example.test`);
        await page.getByTestId(T.authPassword).fill('correct horse battery staple');
        await page.getByTestId(T.authSubmit).click(); // enabled once the page is hydrated
        await page.getByTestId(T.orgName).fill('Erin & Co');
        await page.getByTestId(T.orgCreate).click();
        await page.waitForURL(/\/t\/[A-Za-z0-9_-]+$/);
        await expect.poll(() => page.getByTestId(T.orgTitle).textContent()).toBe('Erin & Co');
        await status(page, 'live').waitFor({ timeout: 15_000 });
      } finally {
        await context.close();
      }
    }, 60_000);

    it('shows the server-rendered rows before any script runs', async () => {
      const titles = ['rendered one', 'rendered two'];
      for (const title of titles) expect((await client.postDocument(acmeKey.key, { title })).status).toBe(201);
      const context = await signedInContext(browser, app.APP_URL, alice, { javaScriptEnabled: false });
      try {
        const page = await context.newPage();
        const response = await page.goto(url(`/t/${acme.id}`));
        expect(response.status()).toBe(200);
        expect(await page.getByTestId(T.docTitle).allTextContents()).toEqual(expect.arrayContaining(titles));
        // Without scripts no EventSource ever started.
        expect(await page.getByTestId(T.liveStatus).getAttribute('data-state')).toBe('connecting');
      } finally {
        await context.close();
      }
    });

    it('two users in two organizations: inserts, updates and deletes in one tab appear in the other within a second', async () => {
      const writer = (await openOrganization(aliceContext, acme)).page;
      const reader = (await openOrganization(await signedInContext(browser, app.APP_URL, alice), acme)).page;
      const bobPage = (await openOrganization(bobContext, globex)).page;

      await addInForm(writer, 'live insert', 'typed in tab one');
      const inserted = reader.locator(id(T.doc), { hasText: 'live insert' });
      await inserted.waitFor({ timeout: LIVE_DEADLINE_MS });
      const docId = await inserted.getAttribute('data-doc-id');
      const withInsert = (await counted(reader)).listed;
      await countAgrees(reader).toBe(withInsert);

      await doc(writer, docId).getByTestId(T.docRename).fill('live update');
      await doc(writer, docId).getByTestId(T.docSave).click();
      await doc(reader, docId).getByTestId(T.docTitle).filter({ hasText: 'live update' }).waitFor({ timeout: LIVE_DEADLINE_MS });

      await doc(writer, docId).getByTestId(T.docDelete).click();
      await doc(reader, docId).waitFor({ state: 'detached', timeout: LIVE_DEADLINE_MS });
      await countAgrees(reader).toBe(String(Number(withInsert) - 1));

      // Bob's organization meanwhile: his own write shows for him, never for Alice (checked at the end).
      await addInForm(bobPage, 'globex secret');
      await bobPage.locator(id(T.doc), { hasText: 'globex secret' }).waitFor({ timeout: LIVE_DEADLINE_MS });
    }, 60_000);

    it('a write committed between the render and the stream start appears exactly once', async () => {
      let held;
      const release = new Promise((resolve) => (held = resolve));
      let intercepted = false;
      const { page, frames } = await openOrganization(aliceContext, acme, (p) =>
        p.route(/\/api\/events\?/, async (route) => {
          intercepted = true;
          await release;
          await route.continue();
        }),
      );
      await until(() => intercepted, Boolean, { what: 'the EventSource request' });
      const { id: seam } = await (await client.postDocument(acmeKey.key, { title: 'in the seam' })).json();
      expect(await doc(page, seam).count()).toBe(0); // not in the server-rendered rows
      held();
      await status(page, 'live').waitFor({ timeout: 15_000 });
      const { id: after } = await (await client.postDocument(acmeKey.key, { title: 'after the seam' })).json();
      await doc(page, after).waitFor({ timeout: LIVE_DEADLINE_MS });
      expect(await doc(page, seam).count()).toBe(1);
      expect(frames.filter((f) => f.event === 'snapshot')).toEqual([]); // the stream continued after the render
      expect(frames.filter((f) => f.data.payload?.row?.id === seam).map((f) => f.event)).toEqual(['document.insert']);
    }, 60_000);

    it('a write through the API-key route appears live, attributed to the robot in audit_event', async () => {
      const { page } = await openOrganization(aliceContext, acme);
      const response = await client.postDocument(acmeKey.key, { title: 'written by the robot', body: 'via x-api-key' });
      expect(response.status).toBe(201);
      const { id: robotDoc } = await response.json();
      await doc(page, robotDoc).getByTestId(T.docTitle).filter({ hasText: 'written by the robot' }).waitFor({ timeout: LIVE_DEADLINE_MS });
      const [audit] = await sql(app, `SELECT * FROM audit_event WHERE action = 'document.create' AND subject = '${robotDoc}'`);
      expect(audit).toMatchObject({ tenant_id: acme.id, actor: deriveIdentity(app.issuer, `robot:${acmeKey.id}`) });
    });

    it('shows coded errors for bad input and for the per-user write limit, never a stack trace', async () => {
      const dave = await client.signUp('Dave');
      const org = await client.createOrganization(dave, 'Dave Co');
      const { page } = await openOrganization(await signedInContext(browser, app.APP_URL, dave), org);
      await addInForm(page, '   ');
      const problem = page.getByTestId(T.formError);
      await expect.poll(() => problem.getAttribute('data-code')).toBe('INVALID_INPUT');
      expect(await problem.textContent()).toBe('title: must not be empty');
      for (let i = 0; i < LIMITS.writesPerMinute; i++) {
        await addInForm(page, `write ${i}`);
        await page.locator(id(T.doc), { hasText: `write ${i}` }).first().waitFor();
      }
      await addInForm(page, 'one too many');
      await expect.poll(() => problem.getAttribute('data-code')).toBe('RATE_LIMITED');
      expect(await problem.textContent()).toMatch(/^too many writes: at most \d+ per 60 s; try again in \d+ s$/);
    }, 60_000);

    it('removing a member ends their live page with revoked, and their next request gets 403', async () => {
      const carol = await client.signUp('Carol');
      await client.addMember(alice, carol, acme.id);
      const { page, frames } = await openOrganization(await signedInContext(browser, app.APP_URL, carol), acme);
      await client.removeMember(alice, carol, acme.id);
      await status(page, 'revoked').waitFor({ timeout: LIVE_DEADLINE_MS });
      expect(frames.at(-1)).toMatchObject({ event: 'revoked', data: { payload: { reason: 'membership removed' } } });
      const answer = await page.evaluate(async (path) => (await fetch(path)).status, `/api/documents?tenant=${acme.id}`);
      expect(answer).toBe(403);
      const reload = await page.reload();
      expect(reload.status()).toBe(403);
      expect(await page.getByTestId(T.pageError).getAttribute('data-code')).toBe('NOT_A_MEMBER');
      expect(await page.getByTestId(T.doc).count()).toBe(0);
    });

    it('after the app server is killed and restarted, the page resumes with no missing or doubled document', async () => {
      const { page, frames } = await openOrganization(aliceContext, acme);
      const before = await dbDocuments(acme);
      await stopApp(app.EXAMPLE_INSTANCE, { kill: true });
      // While it is down, Alice's writes reach SpacetimeDB another way (another replica would serve them).
      const token = exampleBroker(app).mint({ sub: alice.user.id });
      await callReducer(app, 'create_document', [acme.id, 'written while the app was down', ''], token);
      await callReducer(app, 'update_document', [Number(before[0].id), 'renamed while the app was down', ''], token);
      await callReducer(app, 'delete_document', [Number(before[1].id)], token);
      await startApp(app.EXAMPLE_INSTANCE);
      const { id: afterRestart } = await (await client.postDocument(acmeKey.key, { title: 'after the restart' })).json();

      const expected = await dbDocuments(acme);
      expect(expected.map((d) => d.id)).toContain(afterRestart);
      const shown = async () => ({
        documents: await page.locator(id(T.doc)).evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-doc-id'), title: e.querySelector('[data-testid="doc-title"]').textContent }))),
        state: await page.getByTestId(T.liveStatus).getAttribute('data-state'),
      });
      const sortById = (docs) => [...docs].sort((a, b) => Number(a.id) - Number(b.id));
      await until(shown, (v) => v.state === 'live' && JSON.stringify(sortById(v.documents)) === JSON.stringify(sortById(expected)), { timeoutMs: 30_000, what: 'the page to show exactly the database rows' });
      const ids = await docIds(page);
      expect(new Set(ids).size).toBe(ids.length);
      expect(frames.some((f) => f.event === 'resync')).toBe(true); // another server process: resync, then a snapshot
    }, 90_000);

    it("never shows another organization's rows, in the DOM or in the raw SSE frames", async () => {
      expect(opened.length).toBeGreaterThan(5);
      // Every document ever created, with its organization (deleted ones included): the audit trail.
      const created = await sql(app, "SELECT tenant_id, subject FROM audit_event WHERE action = 'document.create'");
      const orgOf = new Map(created.map((a) => [a.subject, a.tenant_id]));
      expect([...orgOf.values()]).toContain(globex.id);
      for (const { org, page, frames } of opened) {
        expect(frames.length).toBeGreaterThan(0);
        expect(frames.filter((f) => ![org, null].includes(f.data.tenant_id))).toEqual([]);
        const rows = frames.flatMap((f) => [f.data.payload?.row, ...(f.data.payload?.rows ?? [])]).filter(Boolean);
        expect(rows.filter((row) => row.tenant_id !== org || orgOf.get(row.id) !== org)).toEqual([]);
        if (!page.isClosed()) expect((await docIds(page)).filter((docId) => orgOf.get(docId) !== org)).toEqual([]);
      }
      for (const { page } of opened.filter((o) => o.org === acme.id && !o.page.isClosed())) {
        expect(await page.getByTestId(T.docTitle).allTextContents()).not.toContain('globex secret');
      }
    });
  });
}
