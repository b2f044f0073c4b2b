// The document operations behind the pages, the server functions and the HTTP routes. Reads come from
// the gateway's projection (no round trip to SpacetimeDB); writes are reducer calls made with the
// caller's own token, so the module sees the user (or the API key's robot) as `ctx.sender` and checks
// its membership and ownership itself.
import type { CallResult, Change, Gateway } from 'spacetime-gateway';
import type { Document } from '../schemas';
import { appError } from './errors';
import { getGateway } from './gateway';

/** Who writes: a SpacetimeDB token of the user or robot, and the identity it gives. */
export interface Writer {
  token: string;
  identity: string;
}

/** How long a write may take to show in the projection after SpacetimeDB committed it. */
const PROJECTION_WAIT_MS = 10_000;

/**
 * The organization's documents and the id of the stream position they were read at: a page's
 * EventSource started with `?after=<lastEventId>` continues exactly after these rows.
 */
export async function readDocuments(organizationId: string): Promise<{ documents: Document[]; lastEventId: string }> {
  const gateway = await getGateway();
  const { rows, lastEventId } = gateway.snapshot({ tenantId: organizationId, tables: ['document'] });
  return { documents: rows.document as unknown as Document[], lastEventId };
}

/** The organization's name as the module has it (synced from Better Auth by the organization hooks). */
export async function organizationName(organizationId: string): Promise<string> {
  const gateway = await getGateway();
  const [tenant] = gateway.rows('tenant', { id: organizationId });
  return tenant ? String(tenant.name) : organizationId;
}

/** Creates a document as `writer`; resolves its id. */
export async function createDocument(writer: Writer, organizationId: string, fields: { title: string; body: string }): Promise<string> {
  const gateway = await getGateway();
  // Reducers return no value in SpacetimeDB 1.3: the new row is the insert of this writer's document
  // committed at the call's timestamp (one transaction, one document), seen by the service projection.
  const mine = (row: Record<string, unknown>) => row.tenant_id === organizationId && row.owner === writer.identity;
  const row = await insertedBy(gateway, mine, () => gateway.callReducer('create_document', [organizationId, fields.title, fields.body], { token: writer.token }));
  return String(row.id);
}

export async function updateDocument(writer: Writer, organizationId: string, id: string, fields: { title: string; body: string }): Promise<void> {
  const gateway = await getGateway();
  requireDocument(gateway, organizationId, id);
  await gateway.callReducer('update_document', [id, fields.title, fields.body], { token: writer.token });
}

export async function deleteDocument(writer: Writer, organizationId: string, id: string): Promise<void> {
  const gateway = await getGateway();
  requireDocument(gateway, organizationId, id);
  await gateway.callReducer('delete_document', [id], { token: writer.token });
}

/** A document id from the browser must name a document of the organization the caller was checked in. */
function requireDocument(gateway: Gateway, organizationId: string, id: string): void {
  if (gateway.rows('document', { id, tenant_id: organizationId }).length === 0) {
    throw appError('NOT_FOUND', `organization ${organizationId} has no document ${id}`);
  }
}

/** Runs `call` and resolves the document row it inserted (matched by `mine` and the commit timestamp). */
async function insertedBy(gateway: Gateway, mine: (row: Record<string, unknown>) => boolean, call: () => Promise<CallResult>) {
  const inserted: Record<string, unknown>[] = [];
  let wake = () => {};
  // Listening before the call: the service connection may apply the commit before the call's own reply.
  const stop = gateway.onChange((changes: Change[]) => {
    for (const c of changes) if (c.table === 'document' && c.op === 'insert' && mine(c.row)) inserted.push(c.row);
    wake();
  });
  try {
    const { timestamp } = await call();
    const deadline = Date.now() + PROJECTION_WAIT_MS;
    for (;;) {
      const row = inserted.find((r) => r.updated_at === timestamp);
      if (row) return row;
      if (Date.now() > deadline) throw appError('UNAVAILABLE', 'the document was stored but has not reached this server yet; reload to see it');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 250);
      });
    }
  } finally {
    stop();
  }
}
