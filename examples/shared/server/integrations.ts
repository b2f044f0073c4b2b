// POST /api/integrations/documents with `x-api-key: <Better Auth API key>` and `{ "title", "body" }`:
// machine-to-machine writes, the same in every framework. Better Auth verifies the key (and its rate
// limit); the gateway exchanges it for a short-lived SpacetimeDB token: an organization's key acts as its
// robot (`sub = robot:<keyId>`), a user's key acts for the user with the robot as `act` (pass
// `?tenant=<orgId>` for those). 201 `{ id }`.
import { DocumentFields, OrganizationId } from '../schemas';
import { getSpacetime } from './auth';
import { createDocument } from './documents';
import { parse, readJson } from './input';

export async function createDocumentWithKey(request: Request): Promise<Response> {
  const tenant = new URL(request.url).searchParams.get('tenant');
  const organizationId = tenant === null ? undefined : parse(OrganizationId, tenant);
  // The key first: an unauthenticated caller learns nothing about the input rules.
  const key = await getSpacetime().apiKeyToken({ headers: request.headers, organizationId });
  const fields = parse(DocumentFields, await readJson(request));
  const id = await createDocument(key, key.organizationId, fields);
  return Response.json({ id }, { status: 201 });
}
