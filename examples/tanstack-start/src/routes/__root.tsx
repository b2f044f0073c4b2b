import { createRootRoute, HeadContent, Link, Outlet, Scripts } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { STYLE } from '../../../shared/styles';
import { ErrorNotice } from '../components/ErrorNotice';

export const Route = createRootRoute({
  head: () => ({
    meta: [{ charSet: 'utf-8' }, { name: 'viewport', content: 'width=device-width, initial-scale=1' }, { title: 'Documents' }],
  }),
  component: () => (
    <Shell>
      <Outlet />
    </Shell>
  ),
  errorComponent: ({ error }) => (
    <Shell>
      <ErrorNotice error={error} />
    </Shell>
  ),
});

function Shell({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <HeadContent />
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <h1>
            <Link to="/">Documents</Link>
          </h1>
          <span className="muted">TanStack Start · Better Auth · SpacetimeDB</span>
        </header>
        {children}
        <Scripts />
      </body>
    </html>
  );
}
