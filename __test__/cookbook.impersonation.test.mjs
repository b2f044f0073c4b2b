// Impersonation against the real SpacetimeDB 1.3.0: an admin acts as a user only through an explicit,
// expiring grant; meanwhile they have the *user's* permissions, every write is audited with both, and the
// impersonated session's SSE stream carries `act` on every frame and ends when the grant is revoked.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs } from '../examples/cookbook/actor.mjs';
import { cookbookWorld, eventually, serveEvents, who } from './helpers/cookbook.mjs';
import { label, StreamModel } from './helpers/sse.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';
import { expectCode } from './helpers/values.mjs';

let w, events;
let alice, bob, carol, dave, erin;
let tenant, other;
const inMinutes = (m) => new Date(Date.now() + m * 60_000).toISOString();

/** Alice (the owner) grants `admin` the right to act as `target` until `expiresAt`; returns the grant id. */
async function grant(admin, target, expiresAt = inMinutes(30), tenantId = tenant) {
  await w.gateway.callReducer('grant_impersonation', [null, tenantId, admin.sub, target.sub, expiresAt], { token: alice.token() });
  const newest = () => w.gateway.rows('impersonation_grant', { tenant_id: tenantId, admin: admin.sub, target: target.sub }).find((g) => Date.parse(g.expires_at) === Date.parse(expiresAt));
  return (await eventually(newest, 'the grant')).id;
}

/** Verified claims of `admin` acting as `target` (what the app's impersonation session gives). */
const impersonating = (admin, target, sid = 'sid-impersonation') => w.broker.verify(w.broker.mintDelegated({ sub: target.sub, actor: admin.sub, sid }));

beforeAll(async () => {
  w = await cookbookWorld();
  [alice, bob, carol, dave, erin] = [await w.user('alice'), await w.user('bob'), await w.user('carol'), await w.user('dave'), await w.user('erin')];
  tenant = await w.tenant(alice);
  other = await w.tenant(alice);
  for (const [user, role] of [[bob, 'member'], [carol, 'viewer'], [dave, 'admin'], [erin, 'member']]) {
    await w.gateway.callReducer('set_member', [null, tenant, user.sub, w.roleId(tenant, role)], { token: alice.token() });
  }
  events = await serveEvents(w.gateway, w.broker);
});

afterAll(async () => {
  await events?.close();
  await w?.close();
});

describe('acting as a user needs a live grant', () => {
  it('with a grant: the user’s rights, audited with both identities and the grant', async () => {
    const id = await grant(dave, bob);
    await callAs(w.gateway, impersonating(dave, bob), 'create_document', [tenant, 'dave as bob', 'b']);
    const expected = { actor: dave.sub, effective_actor: bob.sub, via: 'Impersonation', key_id: null, impersonation_grant: id, gateway: w.gatewayIdentity };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toEqual(expected);
    expect(w.gateway.rows('document', { tenant_id: tenant }).find((d) => d.title === 'dave as bob').owner).toBe(bob.sub);
    // The session context records the impersonation.
    const sid = uniqueId('sid');
    await callAs(w.gateway, impersonating(dave, bob), 'set_active_tenant', [sid, tenant]);
    const session = await eventually(() => w.gateway.rows('session_context', { sid })[0], 'the session context');
    expect(session).toMatchObject({ actor: dave.sub, effective_actor: bob.sub, via: 'Impersonation', tenant_id: tenant });
  });

  it('the admin has only the user’s rights, and nothing only a person acting as themselves may do', async () => {
    await grant(dave, carol);
    await expectCode(callAs(w.gateway, impersonating(dave, carol), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `${carol.sub}'s role in tenant ${tenant} does not grant document.write`);
    await expectCode(callAs(w.gateway, impersonating(dave, carol), 'grant_impersonation', [tenant, dave.sub, bob.sub, inMinutes(5)]), 'REDUCER_FAILED', `${dave.sub} is impersonating ${carol.sub}: only a person acting as themselves may grant impersonation`);
  });

  it('without a grant, in another tenant, expired or revoked: refused with the reason', async () => {
    await expectCode(callAs(w.gateway, impersonating(bob, carol), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `${bob.sub} has no impersonation grant to act as ${carol.sub} in tenant ${tenant}`);
    await grant(carol, bob);
    await w.gateway.callReducer('set_member', [null, other, bob.sub, w.roleId(other, 'member')], { token: alice.token() });
    await expectCode(callAs(w.gateway, impersonating(carol, bob), 'create_document', [other, 'x', 'b']), 'REDUCER_FAILED', `has no impersonation grant to act as ${bob.sub} in tenant ${other}`);
    const shortUntil = new Date(Date.now() + 3000).toISOString();
    const short = await grant(bob, dave, shortUntil);
    await new Promise((r) => setTimeout(r, Date.parse(shortUntil) - Date.now() + 100));
    await expectCode(callAs(w.gateway, impersonating(bob, dave), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `impersonation grant ${short} (${bob.sub} as ${dave.sub} in tenant ${tenant}) expired at`);
    const revoked = await grant(carol, dave);
    await w.gateway.callReducer('revoke_impersonation', [null, revoked], { token: alice.token() });
    await expectCode(callAs(w.gateway, impersonating(carol, dave), 'create_document', [tenant, 'x', 'b']), 'REDUCER_FAILED', `impersonation grant ${revoked} (${carol.sub} as ${dave.sub} in tenant ${tenant}) was revoked at`);
    expect(who(await w.lastAudit(tenant, 'impersonation.revoke', { subject: String(revoked) }))).toMatchObject({ actor: alice.sub, via: 'Human' });
  });

  it('granting is guarded too', async () => {
    await expectCode(w.gateway.callReducer('grant_impersonation', [null, tenant, bob.sub, carol.sub, inMinutes(5)], { token: bob.token() }), 'REDUCER_FAILED', 'does not grant impersonation.grant');
    await expectCode(w.gateway.callReducer('grant_impersonation', [null, tenant, dave.sub, dave.sub, inMinutes(5)], { token: alice.token() }), 'REDUCER_FAILED', 'two different actors');
    await expectCode(w.gateway.callReducer('grant_impersonation', [null, tenant, dave.sub, bob.sub, inMinutes(25 * 60)], { token: alice.token() }), 'REDUCER_FAILED', 'at most 24 hours away');
    await expectCode(w.gateway.callReducer('grant_impersonation', [null, tenant, dave.sub, 'robot:k', inMinutes(5)], { token: alice.token() }), 'REDUCER_FAILED', 'robot:k is a robot');
  });
});

describe('the impersonated session’s stream', () => {
  it('is marked on every frame, shows the user’s view, and ends when the grant is revoked', async () => {
    const id = await grant(dave, erin); // dave's only grant for erin
    const token = w.broker.mintDelegated({ sub: erin.sub, actor: dave.sub, sid: 'sid-dave-2' });
    const client = await events.open(token, tenant);
    expect(client.status).toBe(200);
    await client.until((frames) => frames.some((f) => f.event === 'snapshot' && f.data.payload.phase === 'end'), 5000, 'the snapshot');
    // Dave's own stream is unmarked; erin's view (a member) has no audit trail, dave's (an admin) has.
    const own = await events.open(dave.token({ sid: 'sid-dave-own' }), tenant);
    await own.until((frames) => frames.some((f) => f.event === 'snapshot' && f.data.payload.phase === 'end'), 5000, 'the snapshot');
    const tablesOf = (c) => c.frames.find((f) => f.event === 'snapshot').data.payload.tables;
    expect(tablesOf(client)).not.toContain('audit_event');
    expect(tablesOf(own)).toContain('audit_event');
    expect(own.frames.filter((f) => f.data).every((f) => f.data.act === undefined)).toBe(true);

    await callAs(w.gateway, impersonating(dave, erin, 'sid-dave-2'), 'create_document', [tenant, 'while impersonating', 'b']);
    await client.until((frames) => frames.some((f) => f.event === 'document.insert' && f.data.payload.row.title === 'while impersonating'), 5000, 'the insert');
    await w.gateway.callReducer('revoke_impersonation', [null, id], { token: alice.token() });
    await client.until((frames, c) => c.ended, 5000, 'the end of the stream');
    expect(label(client.frames.at(-1))).toBe('closed/authorization_changed');
    const data = client.frames.filter((f) => f.data);
    expect(data.length).toBeGreaterThan(3);
    expect(data.every((f) => f.data.act?.sub === dave.sub)).toBe(true);
    new StreamModel().apply(client.frames); // nothing repeated or lost
    // Reconnecting after the revocation is refused: no live grant.
    const again = await events.open(token, tenant, client.lastEventId);
    expect(again.status).toBe(403);
    own.close();
  });

  it('is revoked when its grant expires', async () => {
    await grant(carol, bob, new Date(Date.now() + 3000).toISOString());
    const client = await events.open(w.broker.mintDelegated({ sub: bob.sub, actor: carol.sub, sid: 'sid-carol' }), tenant);
    await client.until((frames, c) => c.ended, 10_000, 'the end at expiry');
    expect(label(client.frames.at(-1))).toBe('revoked/impersonation_expired');
  });
});
