// GET /api/health: 200 once Better Auth (its schema migrated) and the SpacetimeDB connection are ready;
// 503 otherwise. For load balancers and start-up scripts.
import { getAuth } from '../../../../../shared/server/auth';
import { getGateway } from '../../../../../shared/server/gateway';
import { defineJsonRoute } from '../../http/route';

export default defineJsonRoute(async () => {
  await getAuth();
  const gateway = await getGateway();
  const status = gateway.state.status;
  return Response.json({ status, identity: gateway.identity }, { status: status === 'live' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
});
