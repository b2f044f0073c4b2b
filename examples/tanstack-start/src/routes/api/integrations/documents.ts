// POST /api/integrations/documents with `x-api-key`: machine-to-machine writes
// (examples/shared/server/integrations.ts).
import { createFileRoute } from '@tanstack/react-router';
import { jsonRoute } from '../../../../../shared/server/errors';
import { createDocumentWithKey } from '../../../../../shared/server/integrations';

export const Route = createFileRoute('/api/integrations/documents')({
  server: { handlers: { POST: jsonRoute(createDocumentWithKey) } },
});
