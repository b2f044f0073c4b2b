// Server functions of the account pages: the signed-in user's organizations, and creating one
// (examples/shared/server/account.ts does the work; Better Auth's hooks create the tenant in SpacetimeDB).
import { createServerFn } from '@tanstack/react-start';
import { getRequest } from '@tanstack/react-start/server';
import { NewOrganization } from '../../../shared/schemas';
import { createOrganization, readAccount } from '../../../shared/server/account';
import { validator } from '../../../shared/server/input';
import { serverFn } from '../server/session';

export const loadAccount = createServerFn({ method: 'GET' }).handler(() => serverFn(() => readAccount(getRequest().headers)));

export const createOrganizationFn = createServerFn({ method: 'POST' })
  .validator(validator(NewOrganization))
  .handler(({ data }) => serverFn(() => createOrganization(getRequest().headers, data.name)));
