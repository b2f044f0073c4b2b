import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideClientHydration, withEventReplay } from '@angular/platform-browser';
import { provideFileRouter, requestContextInterceptor } from '@analogjs/router';
import { sessionCookieInterceptor } from './session-cookie.interceptor';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideFileRouter(),
    // The pages' `.server.ts` loads are fetched through HttpClient: on the server in-process (with the
    // request's session cookie), in the browser from /api/_analog/pages/…; the server's answer travels in
    // the page, so hydration does not fetch it again.
    provideHttpClient(withFetch(), withInterceptors([sessionCookieInterceptor, requestContextInterceptor])),
    provideClientHydration(withEventReplay()),
  ],
};
