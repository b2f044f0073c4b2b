'use strict';
// JS values → the JSON text the native codec reads (docs/value-mapping.md).
//
// The mapping is JSON-shaped so that rows, change events and SSE payloads look the same everywhere. On
// the way in we also accept the natural JS types: `bigint` (for 64-bit and wider integers), `Uint8Array`/
// `Buffer` (for byte arrays) and `Date` (for timestamps, at millisecond precision). JSON has no form for
// those, nor for NaN, ±Infinity and -0, so each is sent as a marked one-key object (`{"\u0000bigint":
// "10"}`) and the native encoder decides with the column's or parameter's type whether it fits: a NaN
// never becomes the string "NaN", a bigint never the string "10" (src/codec/value/js_typed.rs).

const { invalidArgument } = require('./errors.js');
const { messageOf } = require('./args.js');

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function bytesToHex(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** The marked form of a value JSON cannot carry. */
const mark = (kind, text) => ({ [`\u0000${kind}`]: text });

/** JSON.stringify replacer: `this[key]` is the value before `toJSON`, so Buffers and Dates are still
 * themselves. */
function replacer(key, value) {
  const original = this[key];
  if (typeof original === 'bigint') return mark('bigint', original.toString());
  if (original instanceof Uint8Array) return mark('bytes', bytesToHex(original));
  if (original instanceof Date) return mark('date', Number.isNaN(original.getTime()) ? null : value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return mark('float', 'NaN');
    if (!Number.isFinite(value)) return mark('float', value > 0 ? 'Infinity' : '-Infinity');
    if (Object.is(value, -0)) return mark('float', '-0');
  }
  if (value === undefined) return null;
  return value;
}

/**
 * Serializes reducer arguments, filter values or options for the native codec. A value that cannot be
 * serialized (a cycle, nesting too deep for the stack, a throwing `toJSON` or getter) is
 * `INVALID_ARGUMENT` naming `name`.
 */
function toWireJson(value, name) {
  return serialize(value, name, replacer);
}

function serialize(value, name, replace) {
  try {
    return JSON.stringify(value, replace);
  } catch (e) {
    throw invalidArgument(`${name} cannot be serialized: ${messageOf(e)}`, { cause: e });
  }
}

/** {@link replacer}, with functions and symbols marked too (in options a member JSON would drop must not
 * pass as absent; src/codec/value/js_typed.rs names them in the error), and `undefined` left out: an
 * option set to `undefined` is absent. */
function optionsReplacer(key, value) {
  const original = this[key];
  if (value === undefined) return undefined;
  if (typeof original === 'function') return mark('function', null);
  if (typeof original === 'symbol') return mark('symbol', null);
  return replacer.call(this, key, value);
}

/** Serializes options for the native layer, which checks them (see {@link toWireJson}). */
function toOptionsJson(value, name) {
  return serialize(value, name, optionsReplacer);
}

module.exports = { toWireJson, toOptionsJson, bytesToHex };
