// The HTTP status of a server-rendered page: Analog renders inside the Node request, so a page whose load
// failed sets the response's status itself (403 for a non-member, 401 without a session) — a crawler or
// a test that reads the page without scripts sees the same status as the API routes would answer.
import { injectResponse } from '@analogjs/router/tokens';

/** On the server: answers `status` (and `location`, for a redirect). In the browser: nothing. */
export function setPageStatus(status: number, location?: string): void {
  const response = injectResponse();
  if (!response || response.headersSent) return;
  response.statusCode = status;
  if (location) response.setHeader('location', location);
}
