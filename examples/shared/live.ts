// Applying the gateway's SSE envelopes to a page's documents (docs/sse.md): a pure reducer, so the rules
// are in one place and the hook that feeds it stays small.
import type { Document } from './schemas';

export interface LiveState {
  /** The documents shown, by id. */
  documents: Map<string, Document>;
  /** A snapshot being received (after `resync` or on a fresh stream): replaces `documents` at its end. */
  pending: Map<string, Document> | null;
}

export const initialState = (documents: Document[]): LiveState => ({ documents: new Map(documents.map((d) => [d.id, d])), pending: null });

/** The JSON of one SSE frame (`{ event, id, tenant_id, schema_version, payload }`). */
export interface Envelope {
  event: string;
  id: string | null;
  payload: { phase?: 'begin' | 'rows' | 'end'; table?: string; rows?: Document[]; row?: Document; oldRow?: Document; reason?: string };
}

/** The state after one envelope. Unknown events change nothing. */
export function apply(state: LiveState, envelope: Envelope): LiveState {
  const { event, payload } = envelope;
  switch (event) {
    case 'snapshot': {
      if (payload.phase === 'begin') return { ...state, pending: new Map() };
      if (payload.phase === 'rows' && state.pending) {
        const pending = new Map(state.pending);
        for (const row of payload.rows ?? []) pending.set(row.id, row);
        return { ...state, pending };
      }
      if (payload.phase === 'end' && state.pending) return { documents: state.pending, pending: null };
      return state;
    }
    case 'resync':
      // The stream could not continue exactly (gap, another server process, changed rights): a snapshot
      // follows. Keep showing the old rows until it is complete.
      return { ...state, pending: null };
    case 'document.insert':
    case 'document.update': {
      const documents = new Map(state.documents);
      documents.set(payload.row!.id, payload.row!);
      return { ...state, documents };
    }
    case 'document.delete': {
      const documents = new Map(state.documents);
      documents.delete(payload.row!.id);
      return { ...state, documents };
    }
    default:
      return state;
  }
}

/** The documents in id order (ids are u64 decimal strings). */
export function sorted(state: LiveState): Document[] {
  return [...state.documents.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
}
