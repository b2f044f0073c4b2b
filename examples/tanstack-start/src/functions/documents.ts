// Server functions of the documents page. Each checks its input (zod), the session and the membership
// (Better Auth's member table) on the server; writes also pass the per-user rate limit and run with the
// user's own SpacetimeDB token.
import { createServerFn } from '@tanstack/react-start';
import { getRequest } from '@tanstack/react-start/server';
import { DocumentChange, DocumentRef, NewDocument, TenantRef } from '../../../shared/schemas';
import { readOrganizationPage } from '../../../shared/server/account';
import { createDocument, deleteDocument, updateDocument } from '../../../shared/server/documents';
import { validator } from '../../../shared/server/input';
import { sessionWriter } from '../../../shared/server/writer';
import { serverFn } from '../server/session';

/** The page's data: the documents, and `after`, the stream position its EventSource continues from. */
export const loadOrganization = createServerFn({ method: 'GET' })
  .validator(validator(TenantRef))
  .handler(({ data }) => serverFn(() => readOrganizationPage(getRequest().headers, data.organizationId)));

export const createDocumentFn = createServerFn({ method: 'POST' })
  .validator(validator(NewDocument))
  .handler(({ data }) =>
    serverFn(async () => {
      const writer = await sessionWriter(getRequest().headers, data.organizationId);
      return { id: await createDocument(writer, data.organizationId, data) };
    }),
  );

export const updateDocumentFn = createServerFn({ method: 'POST' })
  .validator(validator(DocumentChange))
  .handler(({ data }) =>
    serverFn(async () => {
      const writer = await sessionWriter(getRequest().headers, data.organizationId);
      await updateDocument(writer, data.organizationId, data.id, data);
      return { id: data.id };
    }),
  );

export const deleteDocumentFn = createServerFn({ method: 'POST' })
  .validator(validator(DocumentRef))
  .handler(({ data }) =>
    serverFn(async () => {
      const writer = await sessionWriter(getRequest().headers, data.organizationId);
      await deleteDocument(writer, data.organizationId, data.id);
      return { id: data.id };
    }),
  );
