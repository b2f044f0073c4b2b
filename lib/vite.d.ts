// `spacetime-gateway/vite`: see lib/vite.js and docs/vite.md.
import type { Plugin } from 'vite';

/**
 * The Vite plugin that keeps the native addon out of the bundle: in a Nitro build (TanStack Start,
 * Analog) the package is traced and copied into `.output/server/node_modules/` with its `.node`; in dev,
 * Vite's dependency pre-bundling leaves it alone.
 *
 * ```ts
 * plugins: [tanstackStart(), nitro(), spacetimeGateway(), viteReact()]
 * ```
 */
export declare function spacetimeGateway(): Plugin & {
  /** A Nitro module (installed by Nitro's Vite plugin) that adds the package to `traceDeps`. */
  nitro: { name: string; setup(nitro: { options: { traceDeps?: (string | RegExp)[] } }): void };
};
