'use strict';
// Argument parsing on node:util's parseArgs (strict: unknown options are usage errors), plus the
// token argument, which may be `-` (read stdin) or omitted when stdin is piped.

const { parseArgs } = require('node:util');
const { decodeToken } = require('../../lib/index.js');
const { readText } = require('./keyfile.js');
const { usage } = require('./output.js');

/** Parses `argv` with `options` (parseArgs format); `--help`/`-h` and `--json` are always accepted. */
function parse(argv, options = {}) {
  try {
    return parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usage(e.message);
  }
}

/** Standard input as text, untouched (a subject map's edge whitespace is meaningful). */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The token: the positional argument, `-` for stdin, or stdin when nothing is given and it is piped. */
async function tokenArgument(positionals) {
  const [value, extra] = positionals;
  if (extra !== undefined) throw usage(`unexpected argument: ${extra}`);
  if (value === '-' || (value === undefined && !process.stdin.isTTY)) {
    const text = (await readStdin()).trim();
    if (!text) throw usage('no token on standard input');
    return text;
  }
  if (value === undefined) throw usage('a token is required (or `-` to read it from standard input)');
  return value;
}

/** A non-negative whole number option. */
function wholeNumber(name, value) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usage(`--${name} must be a whole number, got ${value}`);
  return Number(value);
}

/** The token of `--token JWT` or `--token-file FILE` (whichever is given), refused unless it is a JWT. */
function tokenOption(values) {
  const token = values['token-file'] === undefined ? values.token : readText(values['token-file']).trim();
  try {
    decodeToken(token);
  } catch (e) {
    throw usage(`the token is not a JWT: ${e.message}`);
  }
  return token;
}

module.exports = { parse, readStdin, tokenArgument, tokenOption, wholeNumber };
