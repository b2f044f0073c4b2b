// /t/<orgId>: the organization's documents. The server renders them from the gateway's projection
// (`gateway.snapshot()`, with the stream position they were read at); in the browser an EventSource
// continues exactly after that position and keeps the list live.
import { createFileRoute } from '@tanstack/react-router';
import { ErrorNotice } from '../components/ErrorNotice';
import { DocumentItem } from '../components/DocumentItem';
import { NewDocumentForm } from '../components/NewDocumentForm';
import { useLiveDocuments } from '../client/use-live-documents';
import { loadOrganization } from '../functions/documents';

export const Route = createFileRoute('/t/$orgId')({
  loader: ({ params }) => loadOrganization({ data: { organizationId: params.orgId } }),
  component: OrganizationPage,
  errorComponent: ({ error }) => <ErrorNotice error={error} />,
});

function OrganizationPage() {
  const data = Route.useLoaderData();
  // A new render position (navigation, reload) starts a new list and stream.
  return <Documents key={data.after} {...data} />;
}

function Documents({ organization, role, documents: rendered, after }: ReturnType<typeof Route.useLoaderData>) {
  const { documents, status } = useLiveDocuments(organization.id, rendered, after);
  return (
    <main>
      <h2 data-testid="org-title">{organization.name}</h2>
      <p className="muted">
        Your role: {role} · <span data-testid="doc-count">{documents.length}</span> documents ·{' '}
        <span data-testid="live-status" data-state={status}>
          {STATUS_TEXT[status]}
        </span>
      </p>
      <NewDocumentForm organizationId={organization.id} disabled={status === 'revoked' || status === 'signed-out'} />
      <ul>
        {documents.map((d) => (
          <DocumentItem key={d.id} organizationId={organization.id} document={d} />
        ))}
      </ul>
      {documents.length === 0 && <p className="muted">No documents yet.</p>}
    </main>
  );
}

const STATUS_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  revoked: 'your access to this organization was removed',
  'signed-out': 'signed out: sign in again',
};
