// GET /api/events?tenant=<orgId>: the organization's documents as Server-Sent Events. The tenant in the
// URL is only a request: the session's membership decides (401 without a session, 403 outside the
// organization). The stream resumes after `Last-Event-ID` (EventSource's reconnects) or `?after=` (a
// server-rendered page's first connect), and ends `revoked` when the member is removed.
import { createFileRoute } from '@tanstack/react-router';
import { OrganizationId } from '../../../../shared/schemas';
import { getSpacetime } from '../../../../shared/server/auth';
import { jsonRoute } from '../../../../shared/server/errors';
import { getGateway } from '../../../../shared/server/gateway';
import { queryParam } from '../../../../shared/server/input';

export const Route = createFileRoute('/api/events')({
  server: {
    handlers: {
      GET: jsonRoute(async (request) => {
        const organizationId = queryParam(request, 'tenant', OrganizationId);
        const who = await getSpacetime().authorize({ headers: request.headers, organizationId });
        const gateway = await getGateway();
        // `principal` lets the organization hooks revoke this stream when the member is removed.
        return gateway.streamResponse(request, { tenantId: who.organizationId, tables: ['document'], principal: who.principal });
      }),
    },
  },
});
