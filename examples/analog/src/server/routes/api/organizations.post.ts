// POST /api/organizations { name }: creates an organization owned by the signed-in user (Better Auth's
// hooks create the tenant in SpacetimeDB). 201 { id }.
import { NewOrganization } from '../../../../../shared/schemas';
import { createOrganization } from '../../../../../shared/server/account';
import { parse, readJson } from '../../../../../shared/server/input';
import { defineJsonRoute, requireJson } from '../../http/route';

export default defineJsonRoute(async (request) => {
  requireJson(request);
  const { name } = parse(NewOrganization, await readJson(request));
  return Response.json(await createOrganization(request.headers, name), { status: 201 });
});
