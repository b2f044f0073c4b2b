// Acting as a user of an example instance past the app (tests, benchmarks): a token broker with the
// instance's own signing key. Apart from tools/examples/app.mjs, which must run without the repository's
// own native addon (scripts/example.sh uses it on a clone where only `npm pack` built one).
import { readFileSync } from 'node:fs';
import { TokenBroker } from '../../lib/index.js';

/** `facts`: what tools/examples/app.mjs `up()` resolved (issuer, SPACETIME_KEY_FILE). */
export function exampleBroker(facts) {
  return new TokenBroker({ issuer: facts.issuer, audience: 'spacetimedb', keys: JSON.parse(readFileSync(facts.SPACETIME_KEY_FILE, 'utf8')) });
}
