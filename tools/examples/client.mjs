// A browser-free client of the example apps' HTTP contract (docs/tanstack-start.md#the-http-contract):
// Better Auth's own endpoints, /api/documents, /api/events and /api/integrations/documents. Used by the
// contract tests, the browser tests' set-up, `npm run demo` and the framework benchmark — for any app
// that keeps the contract (the TanStack Start app, and the Analog app after it).
import { randomBytes } from 'node:crypto';
import { connectSse } from '../../__test__/helpers/sse.mjs';

export const PASSWORD = 'correct horse battery staple';

export class AppClient {
  /** @param {string} appUrl the URL the app's Better Auth trusts (APP_URL) */
  constructor(appUrl) {
    this.appUrl = appUrl.replace(/\/+$/, '');
  }

  /** A raw request: `cookie`, `apiKey`, `json` (a body), `headers`. Resolves the Response. */
  request(path, { method = 'GET', cookie, apiKey, json, body, headers = {} } = {}) {
    const h = { ...headers };
    // Better Auth refuses cross-site POSTs: say we are the app's own origin, as its pages are.
    if (method !== 'GET') h.origin ??= this.appUrl;
    if (cookie) h.cookie = cookie;
    if (apiKey) h['x-api-key'] = apiKey;
    if (json !== undefined) h['content-type'] = 'application/json';
    return fetch(`${this.appUrl}${path}`, { method, headers: h, body: json !== undefined ? JSON.stringify(json) : body, redirect: 'manual' });
  }

  /** A request that must succeed; resolves its JSON. */
  async ok(path, options) {
    const response = await this.request(path, options);
    const text = await response.text();
    if (!response.ok) throw new Error(`${options?.method ?? 'GET'} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  /** Signs a new user up: `{ user, email, password, cookie }` (the session cookie for later requests). */
  async signUp(name) {
    const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomBytes(4).toString('hex')}@example.test`;
    const response = await this.request('/api/auth/sign-up/email', { method: 'POST', json: { name, email, password: PASSWORD } });
    const text = await response.text();
    if (!response.ok) throw new Error(`sign-up of ${email}: HTTP ${response.status} ${text}`);
    const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return { user: JSON.parse(text).user, email, password: PASSWORD, cookie };
  }

  /** Creates an organization as `who` (its owner): `{ id, name, slug }`. */
  createOrganization(who, name) {
    const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomBytes(4).toString('hex')}`;
    return this.ok('/api/auth/organization/create', { method: 'POST', cookie: who.cookie, json: { name, slug } });
  }

  /** An API key: the organization's (a robot) by default, or `{ configId: 'user' }` for the user's own. */
  createApiKey(who, { organizationId, configId, name = 'integration' } = {}) {
    return this.ok('/api/auth/api-key/create', { method: 'POST', cookie: who.cookie, json: { name, ...(organizationId ? { organizationId } : {}), ...(configId ? { configId } : {}) } });
  }

  /** `owner` invites `member` (a signed-up user) into the organization, and `member` accepts. */
  async addMember(owner, member, organizationId, role = 'member') {
    const invitation = await this.ok('/api/auth/organization/invite-member', { method: 'POST', cookie: owner.cookie, json: { email: member.email, role, organizationId } });
    return this.ok('/api/auth/organization/accept-invitation', { method: 'POST', cookie: member.cookie, json: { invitationId: invitation.id } });
  }

  /** `owner` removes `member` from the organization. */
  removeMember(owner, member, organizationId) {
    return this.ok('/api/auth/organization/remove-member', { method: 'POST', cookie: owner.cookie, json: { memberIdOrEmail: member.email, organizationId } });
  }

  /** GET /api/documents?tenant=: the Response. */
  documents(who, organizationId) {
    return this.request(`/api/documents?tenant=${encodeURIComponent(organizationId)}`, { cookie: who?.cookie });
  }

  /** POST /api/integrations/documents with an API key: the Response. */
  postDocument(apiKey, document, { tenant } = {}) {
    return this.request(`/api/integrations/documents${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`, { method: 'POST', apiKey, json: document });
  }

  /** GET /api/events?tenant= as a raw SSE client (__test__/helpers/sse.mjs): `after`, `lastEventId`. */
  events(who, organizationId, { after, lastEventId } = {}) {
    const query = new URLSearchParams({ tenant: organizationId, ...(after ? { after } : {}) });
    return connectSse(`${this.appUrl}/api/events?${query}`, { lastEventId, headers: who?.cookie ? { cookie: who.cookie } : {} });
  }
}
