'use strict';
// `spacetime-gateway/vite`: the Vite plugin that lets the native addon through a framework's bundler
// (TanStack Start, Analog, anything on Vite + Nitro). Vite and Nitro bundle dependencies, and a bundler
// cannot bundle a `.node` file: it must stay a file next to the code that loads it.
//
// - Build (Nitro): the plugin registers a Nitro module (a Vite plugin's `nitro` property, which Nitro's
//   Vite plugin installs) that adds this package to Nitro's `traceDeps`. Nitro then copies the package —
//   `.node` included — into `.output/server/node_modules/` instead of bundling it, so `.output` runs
//   wherever it is moved. (`external` alone builds, but the moved `.output` cannot find the package.)
// - Dev: `optimizeDeps.exclude`, so Vite's dependency pre-bundling never reads the `.node` (server
//   functions lead the client's dependency scan to the gateway module).
//
// Without Nitro the `nitro` property is ignored and only the dev setting applies.

const PACKAGE = 'spacetime-gateway';

/** The Vite plugin: `plugins: [tanstackStart(), nitro(), spacetimeGateway(), viteReact()]`. */
function spacetimeGateway() {
  return {
    name: PACKAGE,
    config() {
      return { optimizeDeps: { exclude: [PACKAGE] } };
    },
    nitro: {
      name: PACKAGE,
      setup(nitro) {
        const traceDeps = (nitro.options.traceDeps ??= []);
        if (!traceDeps.includes(PACKAGE)) traceDeps.push(PACKAGE);
      },
    },
  };
}

module.exports = { spacetimeGateway };
