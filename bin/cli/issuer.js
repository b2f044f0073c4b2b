'use strict';
// `issuer serve`: a development OIDC issuer on a loopback address, serving discovery + JWKS through
// TokenBroker.handleWellKnown (the same code an app mounts), until SIGINT/SIGTERM.

const http = require('node:http');
const { TokenBroker } = require('../../lib/index.js');
const { parse, wholeNumber } = require('./args.js');
const { readKey } = require('./keyfile.js');
const { EXIT, environment, print, printJson, usage } = require('./output.js');

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address());
    });
  });
}

async function serve(argv) {
  const { values, positionals } = parse(argv, {
    key: { type: 'string', multiple: true },
    port: { type: 'string' },
    host: { type: 'string' },
    path: { type: 'string' },
  });
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  if (!values.key?.length) throw usage('--key is required (a key file from `keys generate`)');
  const host = values.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw usage(`--host must be a loopback address (127.x, ::1, localhost): this issuer is for development only`);
  const path = (values.path ?? '').replace(/\/+$/, '');
  if (path && !path.startsWith('/')) throw usage('--path must start with /');
  const [active, ...retiring] = values.key.map(readKey);

  const server = http.createServer();
  let address;
  try {
    address = await listen(server, wholeNumber('port', values.port) ?? 0, host);
  } catch (e) {
    throw environment('LISTEN_FAILED', `cannot listen on ${host}:${values.port ?? 0}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`);
  }
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const issuer = `http://${hostPart}:${address.port}${path}`;
  let broker;
  try {
    broker = new TokenBroker({ issuer, audience: 'spacetimedb', keys: { active, retiring } });
  } catch (e) {
    server.close();
    throw e;
  }
  server.on('request', (req, res) => {
    const response = broker.handleWellKnown({ method: req.method, url: req.url });
    if (!response) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.text().then((body) => {
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(body);
    });
  });
  const { discoveryUrl, jwksUrl } = broker.wellKnown();
  if (values.json) process.stdout.write(`${JSON.stringify({ issuer, discoveryUrl, jwksUrl, activeKid: broker.activeKid })}\n`);
  else print(`issuer     ${issuer}\ndiscovery  ${discoveryUrl}\njwks       ${jwksUrl}\nactive key ${broker.activeKid}${retiring.length ? ` (+${retiring.length} retiring)` : ''}\n(Ctrl-C to stop)`);

  await new Promise((resolve) => {
    // closeAllConnections: SpacetimeDB keeps its JWKS connection alive, and close() alone waits for it.
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.OK;
}

module.exports = { serve };
