// GET /api/documents?tenant=<orgId>: the organization's documents as JSON, authorized like the stream.
// `lastEventId` is where a stream continues after these rows (`/api/events?tenant=…&after=<lastEventId>`).
import { OrganizationId } from '../../../../../shared/schemas';
import { getSpacetime } from '../../../../../shared/server/auth';
import { readDocuments } from '../../../../../shared/server/documents';
import { queryParam } from '../../../../../shared/server/input';
import { defineJsonRoute } from '../../http/route';

export default defineJsonRoute(async (request) => {
  const organizationId = queryParam(request, 'tenant', OrganizationId);
  const who = await getSpacetime().authorize({ headers: request.headers, organizationId });
  return Response.json(await readDocuments(who.organizationId), { headers: { 'cache-control': 'no-store' } });
});
