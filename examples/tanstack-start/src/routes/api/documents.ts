// GET /api/documents?tenant=<orgId>: the organization's documents as JSON, authorized like the stream.
// `lastEventId` is where a stream continues after these rows (`/api/events?tenant=…&after=<lastEventId>`).
import { createFileRoute } from '@tanstack/react-router';
import { OrganizationId } from '../../../../shared/schemas';
import { getSpacetime } from '../../../../shared/server/auth';
import { readDocuments } from '../../../../shared/server/documents';
import { jsonRoute } from '../../../../shared/server/errors';
import { queryParam } from '../../../../shared/server/input';

export const Route = createFileRoute('/api/documents')({
  server: {
    handlers: {
      GET: jsonRoute(async (request) => {
        const organizationId = queryParam(request, 'tenant', OrganizationId);
        const who = await getSpacetime().authorize({ headers: request.headers, organizationId });
        return Response.json(await readDocuments(who.organizationId), { headers: { 'cache-control': 'no-store' } });
      }),
    },
  },
});
