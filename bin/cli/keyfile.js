'use strict';
// Reading key files: the JSON written by `keys generate`, a JWK (with kid), or a JWKS for verification.

const { readFileSync } = require('node:fs');
const { environment } = require('./output.js');

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw environment('FILE_UNREADABLE', `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

function readJson(file) {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    if (text.includes('-----BEGIN')) {
      throw environment('KEY_INVALID', `${file} is a PEM file; key files are JSON: wrap it as {"kid": "…", "pem": "…"} or use \`keys generate\``);
    }
    throw environment('KEY_INVALID', `${file} is not JSON: ${e.message}`);
  }
}

/** A key as TokenBroker takes it, from a key file. */
function readKey(file) {
  const value = readJson(file);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw environment('KEY_INVALID', `${file} does not hold a key object`);
  }
  return value;
}

/** A JWKS from a file holding a JWKS, a single JWK, or a key file. */
function readJwks(file) {
  const value = readJson(file);
  if (Array.isArray(value?.keys)) return value;
  if (value?.publicJwk) return { keys: [value.publicJwk] };
  if (value?.kty) {
    // A private JWK verifies through its public half only.
    const { d, p, q, dp, dq, qi, oth, ...publicPart } = value;
    return { keys: [publicPart] };
  }
  throw environment('JWKS_INVALID', `${file} holds neither a JWKS ({"keys": [...]}), a JWK nor a key file`);
}

module.exports = { readKey, readJwks, readText };
