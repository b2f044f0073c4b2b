// The cookbook module's guards against the real SpacetimeDB 1.3.0: permissions come from role_permission
// (not role names), nobody hands out more than they hold, cross-tenant writes and client-named actors are
// refused with the module's message, and every allowed change leaves an audit row naming the actor, the
// effective actor and the path.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../lib/index.js';
import { cookbookWorld, eventually, who } from './helpers/cookbook.mjs';
import { expectCode } from './helpers/values.mjs';

let w; // the cookbook world: issuer, owner, trusted gateway
let alice, bob, carol, dave;
let tenant, other;
let committed = 0; // changes committed in `tenant` by this suite (each must have its audit row)

/** A per-user call (the user's own token: ctx.sender is the user). */
const asUser = (user, reducer, args) => w.gateway.callReducer(reducer, [null, ...args], { token: user.token() });
/** A service call: the trusted gateway names the actor it verified. */
const asActor = (user, reducer, args) => w.gateway.callReducer(reducer, args, { actor: { sub: user.sub, act: null } });
const count = async (promise) => {
  const result = await promise;
  committed += 1;
  return result;
};
const docId = (tenantId, title) => w.gateway.rows('document', { tenant_id: tenantId }).find((d) => d.title === title)?.id;

beforeAll(async () => {
  w = await cookbookWorld();
  [alice, bob, carol, dave] = [await w.user('alice'), await w.user('bob'), await w.user('carol'), await w.user('dave')];
  tenant = await w.tenant(alice);
  committed += 1; // tenant.create
  other = await w.tenant(carol);
  await count(asUser(alice, 'set_member', [tenant, bob.sub, w.roleId(tenant, 'viewer')]));
  await count(asUser(alice, 'set_member', [tenant, dave.sub, w.roleId(tenant, 'admin')]));
});

afterAll(async () => {
  await w?.close();
});

describe('allowed paths are audited with the actor, the effective actor and the path', () => {
  it('a person over their own connection', async () => {
    await count(asUser(alice, 'create_document', [tenant, 'by alice', 'b']));
    const expected = { actor: alice.sub, effective_actor: alice.sub, via: 'Human', key_id: null, impersonation_grant: null, gateway: null };
    const row = await w.lastAudit(tenant, 'document.create', expected);
    expect(who(row)).toEqual(expected);
    expect(row.reducer).toBe('create_document');
    expect(row.subject).toBe(await eventually(() => docId(tenant, 'by alice'), 'the document'));
  });

  it('a person named by the trusted gateway', async () => {
    await count(asActor(alice, 'create_document', [tenant, 'alice via gateway', 'b']));
    const expected = { actor: alice.sub, effective_actor: alice.sub, via: 'Human', gateway: w.gatewayIdentity };
    expect(who(await w.lastAudit(tenant, 'document.create', expected))).toMatchObject(expected);
    expect(w.gateway.rows('document', { tenant_id: tenant }).find((d) => d.title === 'alice via gateway').owner).toBe(alice.sub);
  });
});

describe('permissions come from role_permission', () => {
  it('a role without the permission is refused, with the module message', async () => {
    await expectCode(asUser(bob, 'create_document', [tenant, 'viewer write', 'b']), 'REDUCER_FAILED', `${bob.sub}'s role in tenant ${tenant} does not grant document.write`);
  });

  it('granting the permission to the role lets its members write; revoking it stops them', async () => {
    const viewer = w.roleId(tenant, 'viewer');
    await count(asUser(alice, 'grant_permission', [tenant, viewer, 'document.write']));
    await count(asUser(bob, 'create_document', [tenant, 'viewer may write now', 'b']));
    await count(asUser(alice, 'revoke_permission', [tenant, viewer, 'document.write']));
    await expectCode(asUser(bob, 'create_document', [tenant, 'not any more', 'b']), 'REDUCER_FAILED', 'does not grant document.write');
    const actions = w.audit(tenant).map((a) => a.action);
    expect(actions.slice(-3)).toEqual(['role.grant', 'document.create', 'role.revoke']);
  });

  it('a custom role holds exactly what it was given', async () => {
    await count(asUser(alice, 'create_role', [tenant, 'writer']));
    const writer = await eventually(() => w.gateway.rows('role', { tenant_id: tenant }).find((r) => r.name === 'writer')?.id, 'the writer role');
    await count(asUser(alice, 'grant_permission', [tenant, writer, 'document.write']));
    await count(asUser(alice, 'set_member', [tenant, carol.sub, writer]));
    await count(asUser(carol, 'create_document', [tenant, 'by a writer', 'b']));
    // …and nothing else: no tenant.read, so not even a session in the tenant.
    await expectCode(asUser(carol, 'set_active_tenant', ['sid-carol', tenant]), 'REDUCER_FAILED', 'does not grant tenant.read');
    await expectCode(asUser(alice, 'grant_permission', [tenant, writer, 'document.fly']), 'REDUCER_FAILED', "unknown permission 'document.fly'");
  });

  it('nobody hands out more than they hold', async () => {
    // Dave is an admin: he manages members and roles, but admins lack tenant.manage, which the owner role has.
    await expectCode(asUser(dave, 'set_member', [tenant, bob.sub, w.roleId(tenant, 'owner')]), 'REDUCER_FAILED', `${dave.sub} may not hand out`);
    await expectCode(asUser(dave, 'grant_permission', [tenant, w.roleId(tenant, 'viewer'), 'session.read']), 'REDUCER_FAILED', 'may not hand out session.read');
    await count(asUser(dave, 'set_member', [tenant, bob.sub, w.roleId(tenant, 'member')]));
    expect(who(await w.lastAudit(tenant, 'member.set', { actor: dave.sub }))).toMatchObject({ actor: dave.sub, via: 'Human' });
  });
});

describe('cross-tenant writes are refused', () => {
  it('a member of one tenant cannot touch another tenant or its rows', async () => {
    await asUser(carol, 'create_document', [other, "carol's secret", 'b']);
    const secret = await eventually(() => docId(other, "carol's secret"), "carol's document");
    await expectCode(asUser(alice, 'update_document', [secret, 'taken', 'b']), 'REDUCER_FAILED', `${alice.sub} is not a member of tenant ${other}`);
    await expectCode(asUser(alice, 'delete_document', [secret]), 'REDUCER_FAILED', `is not a member of tenant ${other}`);
    await expectCode(asUser(alice, 'create_document', [other, 'planted', 'b']), 'REDUCER_FAILED', 'is not a member of tenant');
    // A role id of the other tenant does not work in one's own either.
    await expectCode(asUser(alice, 'set_member', [tenant, bob.sub, w.roleId(other, 'owner')]), 'REDUCER_FAILED', `belongs to tenant ${other}, not ${tenant}`);
    await expectCode(asUser(alice, 'create_document', ['no-such-tenant', 'x', 'b']), 'REDUCER_FAILED', 'no such tenant: no-such-tenant');
    expect(w.gateway.rows('document', { tenant_id: other }).map((d) => d.title)).toEqual(["carol's secret"]);
  });
});

describe('an actor id from a client is never trusted', () => {
  it('a user connection naming another actor is refused, over every route', async () => {
    const claim = { sub: alice.sub, act: null };
    const own = await Gateway.connect({ uri: w.url, database: w.db, token: bob.token() });
    try {
      await expectCode(own.callReducer('create_document', [claim, tenant, 'forged', 'b']), 'REDUCER_FAILED', 'is not a trusted gateway');
    } finally {
      await own.close();
    }
    for (const via of ['pool', 'http']) {
      await expectCode(w.gateway.callReducer('create_document', [claim, tenant, `forged ${via}`, 'b'], { token: bob.token(), via }), 'REDUCER_FAILED', 'is not a trusted gateway');
    }
    expect(w.gateway.rows('document', { tenant_id: tenant }).filter((d) => d.title.startsWith('forged'))).toEqual([]);
  });

  it('an identity that is not linked is nobody, and a deactivated actor is nobody through every path', async () => {
    const stranger = w.broker.mint({ sub: 'never-linked' });
    await expectCode(w.gateway.callReducer('create_document', [null, tenant, 'x', 'b'], { token: stranger }), 'REDUCER_FAILED', 'is not linked to an app actor');
    await expectCode(w.gateway.callReducer('create_document', [tenant, 'x', 'b'], { actor: { sub: 'never-linked', act: null } }), 'REDUCER_FAILED', 'actor never-linked is not known');
    await w.gateway.callReducer('set_actor_active', [bob.sub, false]);
    await expectCode(asUser(bob, 'create_document', [tenant, 'deactivated', 'b']), 'REDUCER_FAILED', `actor ${bob.sub} is deactivated`);
    await expectCode(asActor(bob, 'create_document', [tenant, 'deactivated', 'b']), 'REDUCER_FAILED', 'is deactivated');
    await w.gateway.callReducer('set_actor_active', [bob.sub, true]);
    await count(asUser(bob, 'create_document', [tenant, 'back again', 'b']));
  });

  it('only the owner manages trust, and only the owner or a gateway links identities', async () => {
    await expectCode(w.gateway.callReducer('trust_gateway', [alice.identity, 'me']), 'REDUCER_FAILED', 'only the database owner may trust gateways');
    const own = await Gateway.connect({ uri: w.url, database: w.db, token: alice.token() });
    try {
      await expectCode(own.callReducer('link_identity', [w.issuer, 'mallory', alice.sub]), 'REDUCER_FAILED', 'only the database owner or a trusted gateway may link identities');
    } finally {
      await own.close();
    }
    await expectCode(w.gateway.callReducer('link_identity', [w.issuer, bob.sub, alice.sub]), 'REDUCER_FAILED', `is already linked to ${bob.sub}`);
  });
});

describe('the audit trail', () => {
  it('has exactly one row per committed change of the tenant', async () => {
    const rows = await eventually(() => (w.audit(tenant).length >= committed ? w.audit(tenant) : null), `${committed} audit rows`);
    expect(rows.length).toBe(committed);
    expect(new Set(rows.map((r) => r.via))).toEqual(new Set(['Human']));
  });
});
