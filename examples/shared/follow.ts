// Keeps a server-rendered list of documents live, in any framework: an EventSource that starts exactly
// after the rows the server rendered (`?after=`) and survives reconnects. The React hook
// (tanstack-start/src/client/use-live-documents.ts) and the Angular service
// (analog/src/app/live/live-documents.ts) are thin wrappers around `followDocuments`.
//
// On reconnect: the browser's EventSource reconnects by itself after a dropped connection or a `closed`
// (server shutdown) frame, sending `Last-Event-ID`, and the server continues after it — or answers
// `resync` and a fresh snapshot when it cannot (another server process, a gap): the list is then
// replaced (live.ts), so nothing is missing or doubled. When the server answers with an error status,
// EventSource gives up; we then ask /api/documents why: 401/403 end the stream for good (signed out,
// removed from the organization), anything else retries with a new EventSource from the last id seen.
import type { Envelope } from './live';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'revoked' | 'signed-out';

export interface FollowHandlers {
  /** Each envelope of the stream, in order (apply it with live.ts's `apply`). */
  envelope(envelope: Envelope): void;
  status(status: LiveStatus): void;
}

const EVENTS = ['snapshot', 'resync', 'revoked', 'closed', 'document.insert', 'document.update', 'document.delete'];
const RETRY_MS = 2000;

/** Follows the organization's documents after stream position `after`; returns the function that stops. */
export function followDocuments(organizationId: string, after: string, on: FollowHandlers): () => void {
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let lastEventId = after;
  let stopped = false;
  const stop = (final: LiveStatus) => {
    stopped = true;
    source?.close();
    on.status(final);
  };
  const query = (params: Record<string, string>) => new URLSearchParams({ tenant: organizationId, ...params }).toString();

  const whyClosed = async () => {
    const response = await fetch(`/api/documents?${query({})}`).catch(() => null);
    if (stopped) return;
    if (response?.status === 401) return stop('signed-out');
    if (response?.status === 403) return stop('revoked');
    on.status('reconnecting');
    retry = setTimeout(open, RETRY_MS);
  };

  const open = () => {
    // EventSource cannot send Last-Event-ID on its first request: the position goes in the URL.
    source = new EventSource(`/api/events?${query({ after: lastEventId })}`);
    source.onopen = () => on.status('live');
    const onEnvelope = (event: MessageEvent<string>) => {
      if (event.lastEventId) lastEventId = event.lastEventId;
      const envelope = JSON.parse(event.data) as Envelope;
      if (envelope.event === 'revoked') return stop('revoked');
      if (envelope.event === 'closed') on.status('reconnecting'); // the browser reconnects after `retry:`
      on.envelope(envelope);
    };
    for (const type of EVENTS) source.addEventListener(type, onEnvelope as EventListener);
    source.onerror = () => {
      if (stopped) return;
      if (source?.readyState === EventSource.CONNECTING) return on.status('reconnecting'); // retrying by itself
      source?.close();
      void whyClosed();
    };
  };

  open();
  return () => {
    stopped = true;
    source?.close();
    clearTimeout(retry);
  };
}
