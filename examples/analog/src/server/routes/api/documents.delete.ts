// DELETE /api/documents { organizationId, id }: deletes a document, as the user.
import { DocumentRef } from '../../../../../shared/schemas';
import { deleteDocument } from '../../../../../shared/server/documents';
import { parse, readJson } from '../../../../../shared/server/input';
import { sessionWriter } from '../../../../../shared/server/writer';
import { defineJsonRoute, requireJson } from '../../http/route';

export default defineJsonRoute(async (request) => {
  requireJson(request);
  const data = parse(DocumentRef, await readJson(request));
  const writer = await sessionWriter(request.headers, data.organizationId);
  await deleteDocument(writer, data.organizationId, data.id);
  return Response.json({ id: data.id });
});
