'use strict';
// The step runner of `smoke`: every step has a deadline and a name, prints a progress line on a terminal,
// and a failure says which step failed, why, and which exit code that means.

const { EXIT } = require('../output.js');

/** A failed step: `exitCode` 1 (the system under test misbehaved), 2 (usage) or 3 (environment). */
class StepFailure extends Error {
  constructor(step, exitCode, code, message) {
    super(`step ${step}: ${message}`);
    this.step = step;
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Gateway error codes that mean the environment (server, network, credentials), not the system's behaviour. */
const ENVIRONMENT_CODES = new Set(['CONNECT_FAILED', 'NO_SUCH_DATABASE', 'UNAUTHORIZED', 'DISCONNECTED', 'CLOSED', 'PROTOCOL']);

/** The exit code of an error thrown inside `step` (steps before `subscribe` fail on the environment). */
function exitCodeFor(step, err) {
  if (err.exitCode !== undefined) return err.exitCode;
  const code = String(err.code ?? '');
  if (code === 'INVALID_ARGUMENT' || code === 'USAGE') return EXIT.USAGE;
  if (['token', 'connect'].includes(step) || ENVIRONMENT_CODES.has(code) || code.startsWith('KEY_') || code.startsWith('FILE_')) {
    return EXIT.ENVIRONMENT;
  }
  return 1;
}

class Steps {
  /** `progress(line)` prints progress (or nothing); `timeoutMs` is every step's default deadline. */
  constructor({ progress, timeoutMs }) {
    this.progress = progress;
    this.timeoutMs = timeoutMs;
    this.done = [];
  }

  /**
   * Runs `fn()` as step `name` within `timeoutMs`; resolves its result. `fn` may return `{ result, detail }`
   * via `Steps.detail`, shown on the progress line and in the report.
   */
  async run(name, fn, timeoutMs = this.timeoutMs) {
    const started = performance.now();
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new StepFailure(name, name === 'connect' || name === 'token' ? EXIT.ENVIRONMENT : 1, 'TIMEOUT', `did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const out = await Promise.race([fn(), deadline]);
      const ms = Math.round(performance.now() - started);
      const { result, detail } = out instanceof Detailed ? out : { result: out, detail: undefined };
      this.done.push({ step: name, ok: true, ms, ...(detail ? { detail } : {}) });
      this.progress(`✓ ${name.padEnd(38)} ${String(ms).padStart(5)} ms${detail ? `  ${detail}` : ''}`);
      return result;
    } catch (err) {
      const failure = err instanceof StepFailure ? err : new StepFailure(name, exitCodeFor(name, err), err.code ?? 'ERROR', err.message);
      this.done.push({ step: name, ok: false, ms: Math.round(performance.now() - started), code: failure.code, message: err.message });
      this.progress(`✗ ${name.padEnd(38)} ${failure.message}`);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }
}

class Detailed {
  constructor(result, detail) {
    this.result = result;
    this.detail = detail;
  }
}

/** A step's result with a detail for the progress line and the report. */
Steps.detail = (result, detail) => new Detailed(result, detail);

module.exports = { Steps, StepFailure };
