'use strict';
// Reading key files (the JSON written by `keys generate`, a JWK with kid, or a JWKS for verification) and
// the issuers file of a several-issuer `token verify`.

const { readFileSync } = require('node:fs');
const { environment } = require('./output.js');

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw environment('FILE_UNREADABLE', `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

/** A JSON file; a file that is not JSON is `invalidCode` (KEY_INVALID for key and JWKS files). */
function readJson(file, invalidCode = 'KEY_INVALID') {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    if (invalidCode === 'KEY_INVALID' && text.includes('-----BEGIN')) {
      throw environment(invalidCode, `${file} is a PEM file; key files are JSON: wrap it as {"kid": "…", "pem": "…"} or use \`keys generate\``);
    }
    throw environment(invalidCode, `${file} is not JSON: ${e.message}`);
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

/**
 * The issuers of a several-issuer verifier from a file: a JSON array of TokenVerifier issuer options
 * (`{ issuer, audience, jwks | jwksUri | discovery, algorithms?, clockToleranceSeconds? }`), or an object
 * with that array as `issuers` (the options of `new TokenVerifier` as they are).
 */
function readIssuers(file) {
  const value = readJson(file, 'ISSUERS_INVALID');
  const issuers = Array.isArray(value) ? value : value?.issuers;
  if (!Array.isArray(issuers) || issuers.length === 0) {
    throw environment('ISSUERS_INVALID', `${file} holds neither a non-empty array of issuer options nor {"issuers": [...]}`);
  }
  return issuers;
}

module.exports = { readIssuers, readKey, readJwks, readText };
