// A page's `.server.ts` load never fails as an HTTP request: Analog fetches it through HttpClient (on the
// server in-process, in the browser from /api/_analog/pages/…), where an error status would fail the
// navigation with no page to show. The outcome carries the error instead — code, message and the status
// the page itself answers with (see src/app/ui/page-status.ts).
import { publicError } from '../../../../shared/server/errors';

export type LoadOutcome<T> = { ok: true; data: T } | { ok: false; error: { status: number; code: string; message: string } };

/** `run()`'s value, or the coded error it threw as the caller may see it (never a stack trace). */
export async function loadOutcome<T>(run: () => Promise<T>): Promise<LoadOutcome<T>> {
  try {
    return { ok: true, data: await run() };
  } catch (error) {
    const { status, code, message } = publicError(error);
    return { ok: false, error: { status, code, message } };
  }
}
