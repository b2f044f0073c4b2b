// The SpacetimeDB token issuer's documents: SpacetimeDB fetches
// `${APP_URL}/api/spacetime/.well-known/openid-configuration` and the JWKS it names to check every token
// this app mints (the service connection's and each user's).
import { createFileRoute } from '@tanstack/react-router';
import { appError, errorResponse } from '../../../../../shared/server/errors';
import { getBroker } from '../../../../../shared/server/gateway';

export const Route = createFileRoute('/api/spacetime/$')({
  server: {
    handlers: {
      GET: ({ request }) => getBroker().handleWellKnown(request) ?? errorResponse(appError('NOT_FOUND', 'no such issuer document')),
    },
  },
});
