// Server functions of the account pages: the signed-in user's organizations, and creating one (Better
// Auth's organization plugin; its hooks create the tenant in SpacetimeDB, with the user as Owner).
import { createServerFn } from '@tanstack/react-start';
import { getRequest } from '@tanstack/react-start/server';
import { NewOrganization } from '../schemas';
import { getAuth } from '../server/auth';
import { appError } from '../server/errors';
import { validator } from '../server/input';
import { serverFn } from '../server/session';

async function signedIn(headers: Headers) {
  const auth = await getAuth();
  const session = await auth.api.getSession({ headers });
  if (!session) throw appError('UNAUTHENTICATED', 'sign in first');
  return { auth, user: session.user };
}

export const loadAccount = createServerFn({ method: 'GET' }).handler(() =>
  serverFn(async () => {
    const headers = getRequest().headers;
    const { auth, user } = await signedIn(headers);
    const organizations = await auth.api.listOrganizations({ headers });
    return {
      user: { id: user.id, name: user.name, email: user.email },
      organizations: organizations.map((o) => ({ id: o.id, name: o.name })),
    };
  }),
);

export const createOrganizationFn = createServerFn({ method: 'POST' })
  .validator(validator(NewOrganization))
  .handler(({ data }) =>
    serverFn(async () => {
      const headers = getRequest().headers;
      const { auth } = await signedIn(headers);
      // Slugs are unique in Better Auth; names need not be.
      const slug = `${data.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'org'}-${crypto.randomUUID().slice(0, 8)}`;
      const organization = await auth.api.createOrganization({ body: { name: data.name, slug }, headers });
      if (!organization) throw appError('INVALID_INPUT', 'Better Auth did not create the organization');
      return { id: organization.id };
    }),
  );
