import analog from '@analogjs/platform';
import { spacetimeGateway } from 'spacetime-gateway/vite';
import { defineConfig, type Plugin } from 'vite';

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
    sequentialEnvironmentBuilds(),
  ],
});

/**
 * Builds the client and server environments one after the other. Analog 2.7 builds them at once, and
 * its Angular compiler shares state between the two builds: about one build in three left a component
 * of the server bundle uncompiled (`@Component` decorators instead of `ɵcmp`), and server rendering then
 * failed at run time with "JIT compiler unavailable" (analogjs/analog#2103). Costs a few seconds of build.
 */
function sequentialEnvironmentBuilds(): Plugin {
  return {
    name: 'sequential-environment-builds',
    enforce: 'post',
    config(config) {
      const buildApp = config.builder?.buildApp;
      if (!buildApp) return;
      config.builder!.buildApp = async (builder) => {
        const build = builder.build.bind(builder);
        let previous: Promise<unknown> = Promise.resolve();
        builder.build = (environment) => {
          const next = previous.then(() => build(environment));
          previous = next.catch(() => {});
          return next;
        };
        return buildApp(builder);
      };
    },
  };
}
