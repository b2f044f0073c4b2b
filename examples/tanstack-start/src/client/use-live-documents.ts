// Keeps a server-rendered list of documents live in React: `followDocuments` (examples/shared/follow.ts)
// feeds the pure reducer of examples/shared/live.ts; a new organization or render position starts anew.
import { useEffect, useReducer, useState } from 'react';
import { followDocuments, type LiveStatus } from '../../../shared/follow';
import { apply, initialState, sorted } from '../../../shared/live';
import type { Document } from '../../../shared/schemas';

export function useLiveDocuments(organizationId: string, documents: Document[], after: string) {
  const [state, dispatch] = useReducer(apply, documents, initialState);
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => followDocuments(organizationId, after, { envelope: dispatch, status: setStatus }), [organizationId, after]);
  return { documents: sorted(state), status };
}
