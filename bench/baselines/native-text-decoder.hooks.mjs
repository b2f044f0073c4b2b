// Module resolution hook for native-text-decoder.mjs: `@zxing/text-encoding` resolves to a module that
// re-exports Node's built-in TextDecoder and TextEncoder (and marks that it was loaded, for
// `sdkTextDecoder()` in connect.mjs).
const NATIVE =
  'data:text/javascript,' +
  encodeURIComponent(
    "globalThis[Symbol.for('spacetime-gateway.bench.nativeTextDecoder')] = true;" +
      'export const TextDecoder = globalThis.TextDecoder; export const TextEncoder = globalThis.TextEncoder;',
  );

export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@zxing/text-encoding') return { url: NATIVE, shortCircuit: true };
  return nextResolve(specifier, context);
}
