'use strict';
// Reading the arguments of public functions without ever failing with anything but a GatewayError.
//
// An argument is the caller's object: its getters, a Proxy's traps or a `toJSON` may throw, a value may be
// a cycle or nested too deeply to print. Options are therefore read once into a plain copy (inside a
// try), strings are checked here before the native layer converts them (napi-rs renders a wrong value
// with JSON.stringify, which runs the caller's `toJSON`), and messages describe values without calling
// anything on them.

const { GatewayError, invalidArgument } = require('./errors.js');

const MAX_SHOWN = 40;

/** A short, safe description of any value for an error message (never throws, never calls user code). */
function describe(value) {
  switch (typeof value) {
    case 'string': {
      const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
      return value === '' ? 'an empty string' : JSON.stringify(shown);
    }
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `a bigint (${value}n)`;
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      try {
        return Array.isArray(value) ? 'an array' : 'an object';
      } catch {
        return 'an object'; // a revoked Proxy throws even from Array.isArray
      }
  }
}

/**
 * A plain copy of an options object (`undefined` and `null` give `{}`): its own enumerable members, read
 * once. Anything thrown while reading (a getter, a Proxy) is INVALID_ARGUMENT naming `name`. With `known`,
 * an unknown member is INVALID_ARGUMENT too (a typo must not pass silently).
 */
function readOptions(value, name, known) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || isArray(value)) throw invalidArgument(`${name} must be an object, got ${describe(value)}`);
  let copy;
  try {
    copy = { ...value };
  } catch (e) {
    throw invalidArgument(`${name} could not be read: ${messageOf(e)}`, { cause: e });
  }
  if (known) {
    const unknown = Object.keys(copy).find((key) => !known.includes(key));
    if (unknown !== undefined) throw invalidArgument(`unknown option '${unknown}' of ${name} (known: ${known.join(', ')})`);
  }
  return copy;
}

/** What each member type of {@link readTypedOptions} admits. */
const KINDS = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  strings: (v) => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')),
  stringArray: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  any: () => true,
};
const KIND_NAMES = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  strings: 'a string or an array of strings',
  stringArray: 'an array of strings',
};

/**
 * {@link readOptions} with a type per member (`{ issuer: 'string', ttlSeconds: 'number', … }`): a member
 * present with another type is INVALID_ARGUMENT here, before the native layer would render it (with the
 * caller's `toJSON`). Ranges and formats stay the native layer's to check.
 */
function readTypedOptions(value, name, types) {
  const copy = readOptions(value, name, Object.keys(types));
  for (const [key, member] of Object.entries(copy)) {
    if (member === undefined || member === null) continue;
    const kind = types[key];
    if (!KINDS[kind](member)) throw invalidArgument(`${name}: ${key} must be ${KIND_NAMES[kind]}, got ${describe(member)}`);
    if (Array.isArray(member)) copy[key] = [...member];
  }
  return copy;
}

/** `value` if it is a non-empty string (or `undefined` when `optional`), else INVALID_ARGUMENT. */
function requireString(value, name, { optional = false, hint = '' } = {}) {
  if (optional && value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(`${name} must be a non-empty string${hint}, got ${describe(value)}`);
  }
  return value;
}

/** Runs `read` (which reads the caller's values) and turns anything it throws into INVALID_ARGUMENT. */
function readingArgument(name, read) {
  try {
    return read();
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw invalidArgument(`${name} could not be read: ${messageOf(e)}`, { cause: e });
  }
}

function isArray(value) {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

function messageOf(e) {
  return e instanceof RangeError ? 'it is nested too deeply' : typeof e?.message === 'string' ? e.message : describe(e);
}

module.exports = { describe, readOptions, readTypedOptions, readingArgument, requireString, messageOf };
