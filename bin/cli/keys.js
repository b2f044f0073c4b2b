'use strict';
// `keys generate`: a JSON key file TokenBroker and `issuer serve` take as-is.

const { writeFileSync } = require('node:fs');
const { generateKeyPair } = require('../../lib/index.js');
const { parse } = require('./args.js');
const { EXIT, environment, print, printJson, usage } = require('./output.js');

async function generate(argv) {
  const { values, positionals } = parse(argv, {
    alg: { type: 'string' },
    kid: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  const alg = values.alg ?? 'ES256';
  if (alg !== 'ES256' && alg !== 'RS256') {
    throw usage(`--alg must be ES256 or RS256 (the algorithms SpacetimeDB accepts), got ${alg}`);
  }
  const pair = generateKeyPair({ alg, kid: values.kid });
  const text = `${JSON.stringify(pair, null, 2)}\n`;
  if (values.out === undefined) {
    print(text);
    return EXIT.OK;
  }
  try {
    // 0600: the file holds a private key. `wx` refuses to replace an existing key by accident.
    writeFileSync(values.out, text, { mode: 0o600, flag: values.force ? 'w' : 'wx' });
  } catch (e) {
    const why = e.code === 'EEXIST' ? 'it exists (use --force to replace it)' : e.message;
    throw environment('FILE_UNWRITABLE', `cannot write ${values.out}: ${why}`);
  }
  if (values.json) printJson({ alg: pair.alg, kid: pair.kid, file: values.out, publicJwk: pair.publicJwk });
  else print(`wrote ${pair.alg} key ${pair.kid} to ${values.out}`);
  return EXIT.OK;
}

module.exports = { generate };
