import analog from '@analogjs/platform';
import { spacetimeGateway } from 'spacetime-gateway/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  build: { target: ['es2022'] },
  resolve: { mainFields: ['module'] },
  plugins: [
    analog({
      // Server-side rendering on every request; Analog prerenders `/` by default, which would render the
      // organization picker at build time, without a session.
      ssr: true,
      prerender: { routes: [] },
    }),
    // Dev: keeps Vite's dependency pre-bundling away from the addon (docs/frameworks.md).
    spacetimeGateway(),
  ],
});
