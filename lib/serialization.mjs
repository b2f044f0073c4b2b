// `spacetime-gateway/serialization`: keeps a GatewayError's `code` when a framework serializes it from
// the server to the browser (TanStack Start server functions; any serializer with adapters of this
// shape). Browser-safe: no native addon, no Node API, no import of the package's main entry — this file
// ends up in the client bundle.
//
// TanStack Start serializes values with seroval; an error thrown in a server function goes through its
// fallback error plugin, which keeps only `message`. Adapters registered with
// `createStart(() => ({ serializationAdapters: [...] }))` are tried before that fallback, on the server
// (serialize) and in the browser (deserialize).

/** The fields of a GatewayError that cross the wire. */
const fields = (error) => ({ code: String(error.code), message: String(error.message) });

/**
 * A GatewayError as the browser receives it: `code` and `message` (no stack, no cause). `instanceof`
 * matches every GatewayError, whichever copy of the class made it (the server's or this one).
 */
export class GatewayError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }

  static [Symbol.hasInstance](value) {
    return isGatewayError(value);
  }
}

/** Whether `value` is a GatewayError (of the server package or of this module). */
export function isGatewayError(value) {
  return value instanceof Error && value.name === 'GatewayError' && typeof value.code === 'string';
}

/**
 * The TanStack Start serialization adapter for GatewayError (the shape `createSerializationAdapter`
 * takes and returns): `createStart(() => ({ serializationAdapters: [gatewayErrorAdapter] }))`.
 */
export const gatewayErrorAdapter = {
  key: 'spacetime-gateway/GatewayError',
  test: isGatewayError,
  toSerializable: fields,
  fromSerializable: ({ code, message }) => new GatewayError(code, message),
};
