'use strict';
// `token decode | verify | diagnose | mint`.

const lib = require('../../lib/index.js');
const { parse, tokenArgument, wholeNumber } = require('./args.js');
const { readIssuers, readJwks, readKey } = require('./keyfile.js');
const { EXIT, dateOf, environment, print, printJson, usage } = require('./output.js');

/** The Identity a decoded payload maps to, when iss and sub are strings. */
function identityOf(payload) {
  return typeof payload.iss === 'string' && typeof payload.sub === 'string' ? lib.deriveIdentity(payload.iss, payload.sub) : undefined;
}

function describeTimes(payload) {
  const lines = [];
  for (const [name, label] of [['iat', 'issued'], ['nbf', 'not before'], ['exp', 'expires']]) {
    if (payload[name] !== undefined) lines.push(`  ${label.padEnd(11)} ${dateOf(payload[name])}`);
  }
  return lines;
}

async function decode(argv) {
  const { values, positionals } = parse(argv);
  const token = await tokenArgument(positionals);
  const { header, payload } = lib.decodeToken(token);
  const identity = identityOf(payload);
  if (values.json) {
    printJson({ header, payload, identity });
    return EXIT.OK;
  }
  print('Header (not verified):');
  print(JSON.stringify(header, null, 2));
  print('Payload (not verified):');
  print(JSON.stringify(payload, null, 2));
  const lines = describeTimes(payload);
  if (identity) lines.push(`  identity    ${identity}`);
  if (lines.length) print(lines.join('\n'));
  return EXIT.OK;
}

const VERIFY_OPTIONS = {
  issuer: { type: 'string' },
  issuers: { type: 'string' },
  audience: { type: 'string', multiple: true },
  jwks: { type: 'string' },
  alg: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string' },
};

/** The verifier of one issuer's flags (`--issuer`, `--audience`, `--jwks`, `--alg`, `--clock-tolerance`). */
function singleIssuer(values) {
  if (!values.issuer) throw usage('--issuer is required (the exact iss to accept), or --issuers FILE');
  if (!values.audience?.length) throw usage('--audience is required (SpacetimeDB never checks aud, so you must)');
  const options = {
    issuer: values.issuer,
    audience: values.audience,
    algorithms: values.alg,
    clockToleranceSeconds: wholeNumber('clock-tolerance', values['clock-tolerance']),
  };
  if (values.jwks === undefined) options.discovery = true;
  else if (/^https?:\/\//.test(values.jwks)) options.jwksUri = values.jwks;
  else options.jwks = readJwks(values.jwks);
  return new lib.TokenVerifier(options);
}

/** The verifier of `--issuers FILE`; an entry it refuses is an environment error naming the file. */
function severalIssuers(values) {
  for (const flag of ['issuer', 'audience', 'jwks', 'alg', 'clock-tolerance']) {
    if (values[flag] !== undefined) throw usage(`--issuers names each issuer's options in the file: drop --${flag}`);
  }
  try {
    return new lib.TokenVerifier({ issuers: readIssuers(values.issuers) });
  } catch (err) {
    if (['INVALID_ARGUMENT', 'ISSUER_INVALID'].includes(err.code)) throw environment('ISSUERS_INVALID', `${values.issuers}: ${err.message}`);
    throw err;
  }
}

async function verify(argv) {
  const { values, positionals } = parse(argv, VERIFY_OPTIONS);
  const token = await tokenArgument(positionals);
  const verifier = values.issuers === undefined ? singleIssuer(values) : severalIssuers(values);
  let payload;
  try {
    payload = await verifier.verify(token);
  } catch (err) {
    if (!String(err.code).startsWith('TOKEN_')) throw err;
    if (values.json) printJson({ valid: false, error: { code: err.code, message: err.message } });
    else process.stderr.write(`invalid token: ${err.code}: ${err.message}\n`);
    return EXIT.TOKEN;
  }
  const identity = identityOf(payload);
  if (values.json) {
    printJson({ valid: true, payload, identity });
  } else {
    print(`valid token for sub ${JSON.stringify(payload.sub)} from ${payload.iss}`);
    print([...describeTimes(payload), `  identity    ${identity}`].join('\n'));
  }
  return EXIT.OK;
}

const DIAGNOSE_OPTIONS = {
  'spacetimedb-url': { type: 'string' },
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  offline: { type: 'boolean' },
};

const MARK = { error: '✗ error  ', warning: '! warning', info: '· info   ' };

async function diagnose(argv) {
  const { values, positionals } = parse(argv, DIAGNOSE_OPTIONS);
  const token = await tokenArgument(positionals);
  const findings = await lib.diagnoseToken(token, {
    spacetimedbUrl: values['spacetimedb-url'],
    expectedIssuer: values.issuer,
    expectedAudience: values.audience,
    network: !values.offline,
  });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  if (values.json) {
    printJson({ ok: errors === 0, findings });
  } else {
    for (const f of findings) {
      print(`${MARK[f.severity]} ${f.code}: ${f.message}`);
      if (f.fix) print(`            fix: ${f.fix}`);
    }
    print(errors === 0 ? `no errors (${warnings} warning${warnings === 1 ? '' : 's'})` : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  }
  return errors === 0 ? EXIT.OK : EXIT.TOKEN;
}

const MINT_OPTIONS = {
  key: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string', multiple: true },
  sub: { type: 'string' },
  claim: { type: 'string', multiple: true },
  claims: { type: 'string' },
  ttl: { type: 'string' },
};

/** `NAME=VALUE` → [NAME, VALUE parsed as JSON when it is JSON, else the string]. */
function claimPair(text) {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usage(`--claim takes NAME=VALUE, got ${JSON.stringify(text)}`);
  const raw = text.slice(eq + 1);
  try {
    return [text.slice(0, eq), JSON.parse(raw)];
  } catch {
    return [text.slice(0, eq), raw];
  }
}

async function mint(argv) {
  const { values, positionals } = parse(argv, MINT_OPTIONS);
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  for (const required of ['key', 'issuer', 'sub']) {
    if (!values[required]) throw usage(`--${required} is required`);
  }
  if (!values.audience?.length) throw usage('--audience is required');
  let claims = {};
  if (values.claims) {
    try {
      claims = JSON.parse(values.claims);
    } catch (e) {
      throw usage(`--claims is not JSON: ${e.message}`);
    }
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw usage('--claims must be a JSON object');
  }
  for (const text of values.claim ?? []) {
    const [name, value] = claimPair(text);
    claims[name] = value;
  }
  const broker = new lib.TokenBroker({ issuer: values.issuer, audience: values.audience, keys: readKey(values.key) });
  const ttlSeconds = wholeNumber('ttl', values.ttl);
  const token = broker.mint({ ...claims, sub: values.sub }, { ttlSeconds });
  if (values.json) {
    const { payload } = lib.decodeToken(token);
    printJson({ token, identity: broker.identityFor(values.sub), expiresAt: payload.exp });
  } else {
    print(token);
  }
  return EXIT.OK;
}

module.exports = { decode, verify, diagnose, mint };
