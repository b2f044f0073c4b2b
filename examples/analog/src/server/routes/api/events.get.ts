// GET /api/events?tenant=<orgId>: the organization's documents as Server-Sent Events. The tenant in the
// URL is only a request: the session's membership decides (401 without a session, 403 outside the
// organization). The stream resumes after `Last-Event-ID` (EventSource's reconnects) or `?after=` (a
// server-rendered page's first connect), and ends `revoked` when the member is removed.
import { defineEventHandler, toWebRequest } from 'h3';
import { serveStream } from 'spacetime-gateway/h3';
import { OrganizationId } from '../../../../../shared/schemas';
import { getSpacetime } from '../../../../../shared/server/auth';
import { errorResponse } from '../../../../../shared/server/errors';
import { getGateway } from '../../../../../shared/server/gateway';
import { queryParam } from '../../../../../shared/server/input';

export default defineEventHandler(async (event) => {
  try {
    const organizationId = queryParam(toWebRequest(event), 'tenant', OrganizationId);
    const who = await getSpacetime().authorize({ headers: event.headers, organizationId });
    // h3 v1: serveStream pipes the stream into the Node response (backpressure, ends when the client
    // goes). `principal` lets the organization hooks revoke this stream when the member is removed.
    return await serveStream(event, getGateway(), { tenantId: who.organizationId, tables: ['document'], principal: who.principal });
  } catch (error) {
    return errorResponse(error);
  }
});
