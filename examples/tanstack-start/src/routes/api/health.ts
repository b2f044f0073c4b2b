// GET /api/health: 200 once Better Auth (its schema migrated) and the SpacetimeDB connection are ready;
// 503 otherwise. For load balancers and start-up scripts.
import { createFileRoute } from '@tanstack/react-router';
import { getAuth } from '../../../../shared/server/auth';
import { errorResponse } from '../../../../shared/server/errors';
import { getGateway } from '../../../../shared/server/gateway';

export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: async () => {
        try {
          await getAuth();
          const gateway = await getGateway();
          const status = gateway.state.status;
          return Response.json({ status, identity: gateway.identity }, { status: status === 'live' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
  },
});
