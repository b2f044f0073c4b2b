'use strict';
// `identity <iss> <sub>`: the SpacetimeDB Identity of an issuer and subject.

const { deriveIdentity } = require('../../lib/index.js');
const { parse } = require('./args.js');
const { EXIT, print, printJson, usage } = require('./output.js');

async function identity(argv) {
  const { values, positionals } = parse(argv);
  if (positionals.length !== 2) throw usage('identity takes exactly two arguments: <iss> <sub>');
  const [issuer, subject] = positionals;
  const hex = deriveIdentity(issuer, subject);
  if (values.json) printJson({ identity: hex, issuer, subject });
  else print(hex);
  return EXIT.OK;
}

module.exports = { identity };
