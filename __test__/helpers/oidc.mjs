// The stand-in identity providers (tools/oidc-standins) for a suite: started as their own process by the
// project's CLI, as a user would (`scripts/oidc.sh serve`), stopped by pid; users signed in over HTTP.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TokenVerifier } from '../../lib/index.js';
import { signIn } from '../../tools/oidc-standins/sign-in.mjs';
import { ROOT } from './auth.mjs';

const OIDC_SH = join(ROOT, 'scripts', 'oidc.sh');
/** Starting takes about a second (key generation, loading oidc-provider); far more means it is stuck
 * (scripts/test.sh installs Node 24 before the suites, so no download happens here). */
const READY_TIMEOUT_MS = 20_000;

/**
 * Starts the stand-ins (default the four of each kind) on free ports, their clients accepting
 * `redirectUris` instead of the default one: `{ providers, pid, signIn(name, user), stop() }`. `providers[name]` is `{ issuer,
 * discoveryUrl, alg, clientId, clientSecret, redirectUri, users }`.
 */
export async function startStandIns(names = [], { redirectUris = [] } = {}) {
  const args = ['serve', ...names.flatMap((n) => ['--provider', n]), ...redirectUris.flatMap((u) => ['--redirect-uri', u])];
  // oidc.sh execs Node 24 (what oidc-provider supports), so `child.pid` is the stand-ins' own process.
  const child = spawn('bash', [OIDC_SH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('close', resolve));
  let stdout = '';
  const described = await new Promise((resolve, reject) => {
    // A stand-in that never gets ready fails the suite with what it printed, not a hook timeout.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the stand-ins printed no description within ${READY_TIMEOUT_MS} ms; stdout: ${stdout || '(none)'}; stderr: ${stderr || '(none)'}`));
    }, READY_TIMEOUT_MS);
    // oidc-provider may print notices on stdout too: the description is the line that parses.
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      if (!line.startsWith('{')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the stand-ins exited with ${code ?? signal}: ${stderr}`));
    });
  });
  return {
    pid: child.pid,
    providers: described.providers,
    /** Signs `user` in at the stand-in `name`: `{ idToken, header, claims }`. */
    signIn: (name, user) => signInOnceMore(described.providers[name], user),
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Signs in, and once more after a request of the flow went unanswered (printed to stderr): the sign-in
 * is the suites' setup, not what they test, and a fresh flow is what a user would do. Any other failure
 * (a refusal, a wrong state, a bad token) fails at once.
 */
async function signInOnceMore(provider, user) {
  try {
    return await signIn(provider, user);
  } catch (e) {
    if (e.cause?.name !== 'TimeoutError') throw e;
    process.stderr.write(`oidc helper: ${e.message}; signing in once more\n`);
    return signIn(provider, user);
  }
}

/** A stand-in's verification options: discovery, its client id as the audience, its one algorithm. */
export const issuerOptions = (provider) => ({ issuer: provider.issuer, audience: provider.clientId, discovery: true, algorithms: [provider.alg] });

/** A verifier trusting the named stand-ins (and any further issuer options given). */
export function verifierFor(providers, ...more) {
  return new TokenVerifier({ issuers: [...providers.map(issuerOptions), ...more] });
}
