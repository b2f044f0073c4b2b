// Server-side rendering fetches a page's `.server.ts` load in-process (requestContextInterceptor, through
// Nitro's local $fetch) — a request of its own, which carries no cookie unless we add it. The load then
// sees the browser's session exactly as an API route would. Only for the app's own page endpoints
// (`/_analog/`): the session cookie never goes to another origin.
import { isPlatformServer } from '@angular/common';
import type { HttpHandlerFn, HttpRequest } from '@angular/common/http';
import { inject, PLATFORM_ID } from '@angular/core';
import { injectRequest } from '@analogjs/router/tokens';

export function sessionCookieInterceptor(request: HttpRequest<unknown>, next: HttpHandlerFn) {
  if (!isPlatformServer(inject(PLATFORM_ID)) || !request.url.includes('/_analog/')) return next(request);
  const cookie = injectRequest()?.headers.cookie;
  return next(cookie ? request.clone({ setHeaders: { cookie } }) : request);
}
