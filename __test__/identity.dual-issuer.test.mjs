// A Keycloak exit, end to end against the real SpacetimeDB 1.3.0 and the cookbook module: a user of the
// Keycloak stand-in (a real OpenID Provider, signed in over HTTP) owns a tenant and a document; `identity
// migrate --apply` links their app-owned-issuer Identity (a TokenBroker) to the same app user; during the
// dual run one gateway, verifying per-user calls with a two-issuer TokenVerifier, carries both issuers'
// tokens to the same user, rows and permissions; a third issuer's token is refused by name; and
// `identity retire-check` sees the Keycloak traffic and passes for an issuer nobody used.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier, deriveIdentity } from '../lib/index.js';
import { connectCookbookGateway } from '../examples/cookbook/gateway.mjs';
import { runCli } from './helpers/auth.mjs';
import { cookbookWorld, eventually } from './helpers/cookbook.mjs';
import { databaseArgs, linksOf, mapFile } from './helpers/identity.mjs';
import { startStandIns } from './helpers/oidc.mjs';
import { uniqueId } from './helpers/spacetimedb.mjs';

let w; // the cookbook world: its broker is the app-owned (new) issuer
let idp; // the stand-ins: Keycloak (old issuer), Entra (linked, never used), Google (never trusted)
let dual; // the app's gateway during the dual run
let keycloak, appIssuer;
let user; // the app user, and alice's Keycloak sign-in
let kcAlice;
let tenant;

beforeAll(async () => {
  idp = await startStandIns(['keycloak', 'entra', 'google']);
  w = await cookbookWorld();
  keycloak = idp.providers.keycloak.issuer;
  appIssuer = w.issuer;
  const gatewayId = uniqueId('dual-gateway');
  await w.owner.callReducer('trust_gateway', [w.broker.identityFor(`robot:${gatewayId}`), 'dual-run gateway']);
  const broker = w.broker;
  // The dual run: Keycloak's ID tokens by discovery (RS256; their `aud` is the Keycloak client id) and the
  // app's own tokens with the broker's keys (ES256), each issuer with its own audience and algorithm.
  const verifier = new TokenVerifier({
    issuers: [
      { issuer: keycloak, audience: idp.providers.keycloak.clientId, discovery: true, algorithms: ['RS256'] },
      { issuer: broker.issuer, audience: 'spacetimedb', jwks: broker.jwks(), algorithms: ['ES256'] },
    ],
  });
  dual = await connectCookbookGateway({ uri: w.url, database: w.db, broker, gatewayId, userCalls: { verifier } });

  // Before the migration: the app signed users in with Keycloak, and linked each Keycloak Identity to its
  // app user when the user first arrived.
  user = uniqueId('user');
  kcAlice = await idp.signIn('keycloak', 'alice');
  await w.gateway.callReducer('link_identity', [keycloak, kcAlice.claims.sub, user]);
  tenant = uniqueId('t');
  await dual.callReducer('create_tenant', [null, tenant, 'Acme'], { token: kcAlice.idToken });
  await dual.callReducer('create_document', [null, tenant, 'from keycloak', 'v1'], { token: kcAlice.idToken });
});

afterAll(async () => {
  await dual?.close();
  await w?.close();
  await idp?.stop();
});

const docs = () => dual.rows('document', { tenant_id: tenant });
const docTitled = (title) => eventually(() => docs().find((d) => d.title === title), `document ${title}`);
const appToken = () => w.broker.mint({ sub: user });

describe('a Keycloak user migrated to the app-owned issuer', () => {
  it('owns a tenant and a document under the Keycloak Identity before the migration', async () => {
    const doc = await docTitled('from keycloak');
    expect(doc.owner).toBe(user);
    expect(dual.rows('membership', { tenant_id: tenant }).map((m) => m.actor)).toEqual([user]);
    // The new issuer's token is valid (the verifier trusts it) but its Identity is nobody yet.
    const early = await dual.callReducer('create_document', [null, tenant, 'too early', 'b'], { token: appToken() }).catch((e) => e);
    expect(early.code).toBe('REDUCER_FAILED');
    expect(early.message).toContain('is not linked to an app actor');
  });

  it('identity migrate --apply links the new Identity to the same app user', async () => {
    const map = mapFile('old_subject,app_user_id,new_subject', `${kcAlice.claims.sub},${user},${user}`);
    const r = await runCli(['identity', 'migrate', '--old-issuer', keycloak, '--new-issuer', appIssuer, '--map', map, ...databaseArgs(), '--apply', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary).toMatchObject({ written: 1, problems: 0 });
    expect(report.entries).toEqual([
      {
        line: 2,
        appUser: user,
        action: 'written',
        old: { subject: kcAlice.claims.sub, identity: deriveIdentity(keycloak, kcAlice.claims.sub), linkedTo: user },
        new: { subject: user, identity: w.broker.identityFor(user), linkedTo: null },
      },
    ]);
    expect(await linksOf(appIssuer).then((links) => links.filter((l) => l.actor === user).map((l) => l.identity))).toEqual([w.broker.identityFor(user)]);
  });

  it('during the dual run both tokens reach the same user, rows and permissions through one gateway', async () => {
    const original = await docTitled('from keycloak');
    // The app-owned token edits the document the Keycloak Identity created (the owner role still applies)…
    await dual.callReducer('update_document', [null, original.id, 'edited by the app issuer', 'v2'], { token: appToken() });
    await dual.callReducer('create_document', [null, tenant, 'from the app issuer', 'b'], { token: appToken() });
    // …and the Keycloak token keeps working, on the same rows.
    const kcAgain = await idp.signIn('keycloak', 'alice');
    await dual.callReducer('update_document', [null, original.id, 'edited by keycloak', 'v3'], { token: kcAgain.idToken });
    const edited = await docTitled('edited by keycloak');
    expect(edited).toMatchObject({ id: original.id, owner: user, version: 3 });
    expect((await docTitled('from the app issuer')).owner).toBe(user);
    const audit = await eventually(() => {
      const rows = dual.rows('audit_event', { tenant_id: tenant }).filter((a) => a.action.startsWith('document.'));
      return rows.length === 4 && rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    }, 'four document audit rows');
    // Oldest first: Keycloak creates; the app issuer updates and creates; Keycloak updates.
    expect(audit.map((a) => [a.action, a.actor, a.effective_actor])).toEqual(
      ['document.create', 'document.update', 'document.create', 'document.update'].map((action) => [action, user, user]),
    );
    // Two Identities, one app user: each issuer's link, and the pool keyed each connection by (iss, sub).
    const linked = [...(await linksOf(keycloak)), ...(await linksOf(appIssuer))].filter((l) => l.actor === user);
    expect(linked.map((l) => l.identity).sort()).toEqual([deriveIdentity(keycloak, kcAlice.claims.sub), w.broker.identityFor(user)].sort());
    expect(dual.poolStats().opened).toBeGreaterThanOrEqual(2);
  });

  it('a token of an issuer the gateway does not trust is refused by name, and nothing reaches the server', async () => {
    const google = await idp.signIn('google', 'alice');
    const opened = dual.poolStats().opened;
    const err = await dual.callReducer('create_document', [null, tenant, 'from google', 'b'], { token: google.idToken }).catch((e) => e);
    expect(err.code).toBe('TOKEN_ISSUER_UNTRUSTED');
    expect(err.message).toBe(`the token's issuer \`${idp.providers.google.issuer}\` is not trusted; trusted issuers: \`${keycloak}\`, \`${appIssuer}\``);
    expect(dual.poolStats().opened).toBe(opened);
    expect(docs().some((d) => d.title === 'from google')).toBe(false);
  });
});

// The module records a link's use at most once a minute, but every run's issuers are new (the stand-ins
// listen on fresh ports), so each link's first use is recorded at once: nothing waits for the minute.
describe('retiring the old issuer', () => {
  it('retire-check --issuer <keycloak> fails and lists the user after Keycloak traffic', async () => {
    const r = await runCli(['identity', 'retire-check', '--issuer', keycloak, '--since', '10m', ...databaseArgs(), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, issuer: keycloak });
    expect(report.inUse.map((a) => [a.actor, a.kind])).toEqual([[user, 'user']]);
    const text = await runCli(['identity', 'retire-check', '--issuer', keycloak, '--since', '10m', ...databaseArgs()]);
    expect(text.stdout).toContain(`  ${user}  (user, subject ${kcAlice.claims.sub})  last used `);
  });

  it('retire-check passes for an issuer with links but no traffic in the window', async () => {
    // An Entra user linked (e.g. by SSO onboarding) but never signed in: its issuer is unused.
    const carol = await idp.signIn('entra', 'carol');
    const other = uniqueId('user');
    await w.gateway.callReducer('link_identity', [idp.providers.entra.issuer, carol.claims.sub, other]);
    const r = await runCli(['identity', 'retire-check', '--issuer', idp.providers.entra.issuer, '--since', '10m', ...databaseArgs(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, inUse: [] });
    expect(report.idle.map((a) => [a.actor, a.lastUsed])).toEqual([[other, null]]);
  });
});
