// Who writes: the signed-in user, from the request's Better Auth session cookie — never from anything
// the browser says about itself — as a SpacetimeDB token of that user, after the per-user write limit.
import { getSpacetime } from './auth';
import type { Writer } from './documents';
import { takeWrite } from './rate-limit';

/** The user's SpacetimeDB token in `organizationId` (member checked), after the per-user write limit. */
export async function sessionWriter(headers: Headers, organizationId: string): Promise<Writer> {
  const { token, identity, userId } = await getSpacetime().accessToken({ headers, organizationId });
  takeWrite(userId);
  return { token, identity };
}
