// The account pages' data, for any framework: the signed-in user with their organizations (each a tenant
// in SpacetimeDB), creating an organization (Better Auth's organization plugin; its hooks create the
// tenant in SpacetimeDB with the user as Owner), and an organization's page.
import type { Document } from '../schemas';
import { getAuth, getSpacetime } from './auth';
import { organizationName, readDocuments } from './documents';
import { appError } from './errors';

async function signedIn(headers: Headers) {
  const auth = await getAuth();
  const session = await auth.api.getSession({ headers });
  if (!session) throw appError('UNAUTHENTICATED', 'sign in first');
  return { auth, user: session.user };
}

export interface Account {
  user: { id: string; name: string; email: string };
  organizations: { id: string; name: string }[];
}

/** The signed-in user and their organizations; UNAUTHENTICATED without a session. */
export async function readAccount(headers: Headers): Promise<Account> {
  const { auth, user } = await signedIn(headers);
  const organizations = await auth.api.listOrganizations({ headers });
  return {
    user: { id: user.id, name: user.name, email: user.email },
    organizations: organizations.map((o) => ({ id: o.id, name: o.name })),
  };
}

/** Creates an organization owned by the signed-in user; resolves its id. */
export async function createOrganization(headers: Headers, name: string): Promise<{ id: string }> {
  const { auth } = await signedIn(headers);
  // Slugs are unique in Better Auth; names need not be.
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'org'}-${crypto.randomUUID().slice(0, 8)}`;
  const organization = await auth.api.createOrganization({ body: { name, slug }, headers });
  if (!organization) throw appError('INVALID_INPUT', 'Better Auth did not create the organization');
  return { id: organization.id };
}

export interface OrganizationPage {
  organization: { id: string; name: string };
  role: string;
  documents: Document[];
  /** The stream position the documents were read at: the page's EventSource continues after it. */
  after: string;
}

/** The page /t/<orgId>: membership checked (UNAUTHENTICATED, NOT_A_MEMBER), then the documents. */
export async function readOrganizationPage(headers: Headers, organizationId: string): Promise<OrganizationPage> {
  const who = await getSpacetime().authorize({ headers, organizationId });
  const { documents, lastEventId } = await readDocuments(who.organizationId);
  return {
    organization: { id: who.organizationId, name: await organizationName(who.organizationId) },
    role: who.role,
    documents,
    after: lastEventId,
  };
}
