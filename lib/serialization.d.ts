// `spacetime-gateway/serialization`: see lib/serialization.mjs and docs/tanstack-start.md.

/** What crosses the wire of a GatewayError. */
export interface SerializedGatewayError {
  code: string;
  message: string;
}

/**
 * A GatewayError as the browser receives it (`code`, `message`). `instanceof` matches every GatewayError,
 * the server package's included.
 */
export declare class GatewayError extends Error {
  constructor(code: string, message: string);
  readonly name: 'GatewayError';
  readonly code: string;
}

/** Whether `value` is a GatewayError (of the server package or of this module). */
export declare function isGatewayError(value: unknown): value is GatewayError;

/**
 * TanStack Start's serialization adapter for GatewayError:
 * `createStart(() => ({ serializationAdapters: [gatewayErrorAdapter] }))`. Structurally a
 * `SerializationAdapter<GatewayError, SerializedGatewayError>` (`~types` exists only for the compiler).
 */
export declare const gatewayErrorAdapter: {
  '~types': { input: GatewayError; output: SerializedGatewayError; extends: never };
  key: string;
  test: (value: unknown) => value is GatewayError;
  toSerializable: (error: GatewayError) => SerializedGatewayError;
  fromSerializable: (value: SerializedGatewayError) => GatewayError;
};
