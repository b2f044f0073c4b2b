// The SpacetimeDB token issuer's documents: SpacetimeDB fetches
// `${APP_URL}/api/spacetime/.well-known/openid-configuration` and the JWKS it names to check every token
// this app mints (the service connection's and each user's).
import { appError } from '../../../../../../shared/server/errors';
import { getBroker } from '../../../../../../shared/server/gateway';
import { defineJsonRoute } from '../../../http/route';

export default defineJsonRoute(async (request) => {
  const response = getBroker().handleWellKnown(request);
  if (!response) throw appError('NOT_FOUND', 'no such issuer document');
  return response;
});
