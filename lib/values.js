'use strict';
// JS values → the JSON text the native codec reads (docs/value-mapping.md).
//
// The mapping is JSON-shaped so that rows, change events and SSE payloads look the same everywhere. On
// the way in we also accept the natural JS types: `bigint` (for 64-bit and wider integers), `Uint8Array`/
// `Buffer` (for byte arrays) and `Date` (for timestamps, at millisecond precision).

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function bytesToHex(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** JSON.stringify replacer: `this[key]` is the value before `toJSON`, so Buffers are still Buffers. */
function replacer(key, value) {
  const original = this[key];
  if (typeof original === 'bigint') return original.toString();
  if (original instanceof Uint8Array) return bytesToHex(original);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  if (value === undefined) return null;
  return value;
}

/** Serializes reducer arguments or filter values for the native codec. */
function toWireJson(value) {
  return JSON.stringify(value, replacer);
}

module.exports = { toWireJson, bytesToHex };
