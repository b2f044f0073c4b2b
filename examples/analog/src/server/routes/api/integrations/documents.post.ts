// POST /api/integrations/documents with `x-api-key`: machine-to-machine writes
// (examples/shared/server/integrations.ts).
import { createDocumentWithKey } from '../../../../../../shared/server/integrations';
import { defineJsonRoute } from '../../../http/route';

export default defineJsonRoute(createDocumentWithKey);
