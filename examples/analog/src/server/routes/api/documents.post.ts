// POST /api/documents { organizationId, title, body }: the page's form. Checked (zod), then the session's
// membership, the per-user write limit, and the reducer call with the user's own token. 201 { id }.
import { NewDocument } from '../../../../../shared/schemas';
import { createDocument } from '../../../../../shared/server/documents';
import { parse, readJson } from '../../../../../shared/server/input';
import { sessionWriter } from '../../../../../shared/server/writer';
import { defineJsonRoute, requireJson } from '../../http/route';

export default defineJsonRoute(async (request) => {
  requireJson(request);
  const data = parse(NewDocument, await readJson(request));
  const writer = await sessionWriter(request.headers, data.organizationId);
  return Response.json({ id: await createDocument(writer, data.organizationId, data) }, { status: 201 });
});
