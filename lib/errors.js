'use strict';
// Errors of the public API: every failure is a GatewayError with a stable `code`.
//
// The native layer cannot attach a custom `code` to errors of async functions, so it prefixes the
// message with the code (`CODE: message`); `fromNative` turns that into a GatewayError.

/** An error of spacetime-gateway. `code` is stable; `message` names the cause. */
class GatewayError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {ErrorOptions} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}

/** The error for a bad argument or option of a public function. */
function invalidArgument(message, options) {
  return new GatewayError('INVALID_ARGUMENT', message, options);
}

const CODED_MESSAGE = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/;

/** Converts an error thrown by the native addon into a GatewayError (others pass through). */
function fromNative(err) {
  if (err instanceof GatewayError || !(err instanceof Error)) return err;
  const m = CODED_MESSAGE.exec(err.message);
  if (m) return new GatewayError(m[1], m[2]);
  // napi-rs argument conversion errors (e.g. a string where a number is expected) carry codes such as
  // 'InvalidArg' / 'NumberExpected'; they are the caller's mistake.
  if (typeof err.code === 'string' && /Arg|Expected/.test(err.code)) {
    return invalidArgument(err.message);
  }
  return err;
}

/** Calls `fn` and rethrows native errors as GatewayErrors (sync). */
function callNative(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** Awaits a native promise (or a function that returns one) and rethrows native errors as GatewayErrors. */
async function awaitNative(fnOrPromise) {
  try {
    return await (typeof fnOrPromise === 'function' ? fnOrPromise() : fnOrPromise);
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { GatewayError, invalidArgument, fromNative, callNative, awaitNative };
