// PATCH /api/documents { organizationId, id, title, body }: renames or edits a document, as the user.
import { DocumentChange } from '../../../../../shared/schemas';
import { updateDocument } from '../../../../../shared/server/documents';
import { parse, readJson } from '../../../../../shared/server/input';
import { sessionWriter } from '../../../../../shared/server/writer';
import { defineJsonRoute, requireJson } from '../../http/route';

export default defineJsonRoute(async (request) => {
  requireJson(request);
  const data = parse(DocumentChange, await readJson(request));
  const writer = await sessionWriter(request.headers, data.organizationId);
  await updateDocument(writer, data.organizationId, data.id, data);
  return Response.json({ id: data.id });
});
