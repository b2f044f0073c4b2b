'use strict';
// Output and exit codes shared by every command.
//
// Exit codes (stable; CI scripts may rely on them):
//   0  success (the token is valid / no error findings / the command did its job)
//   1  the token is bad: verification refused it, diagnose found an error, it cannot be decoded;
//      for `identity migrate` / `retire-check`: problems found, refused, or the old issuer still in use
//   2  usage error: unknown command or option, missing or invalid argument
//   3  environment error: unreadable or invalid key file, unreachable JWKS/issuer, port in use
//  70  internal error (a bug: please report it)

const EXIT = Object.freeze({ OK: 0, TOKEN: 1, PROBLEMS: 1, USAGE: 2, ENVIRONMENT: 3 });

/** A failure with the exit code it maps to. */
class CliError extends Error {
  constructor(exitCode, code, message) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}

const usage = (message) => new CliError(EXIT.USAGE, 'USAGE', message);
const environment = (code, message) => new CliError(EXIT.ENVIRONMENT, code, message);

/** The exit code for an error thrown by the library (a GatewayError) or by Node (fs, net). */
function exitCodeOf(err) {
  if (err instanceof CliError) return err.exitCode;
  const code = String(err?.code ?? '');
  if (code.startsWith('TOKEN_')) return EXIT.TOKEN;
  if (['INVALID_ARGUMENT', 'CLAIM_INVALID', 'ISSUER_INVALID'].includes(code) || code.startsWith('ERR_PARSE_ARGS')) {
    return EXIT.USAGE;
  }
  return EXIT.ENVIRONMENT;
}

function print(text) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(value) {
  print(JSON.stringify(value, null, 2));
}

/** Reports `err` (as JSON on stdout with --json, as one line on stderr otherwise); returns its exit code. */
function report(err, json) {
  const exitCode = exitCodeOf(err);
  const code = err?.code ?? 'ERROR';
  if (json) printJson({ error: { code, message: err.message } });
  else process.stderr.write(`spacetime-gateway: ${code}: ${err.message}\n`);
  return exitCode;
}

/** Seconds from now as "in 4 min" / "3 s ago". */
function relative(seconds) {
  const delta = Math.round(seconds - Date.now() / 1000);
  const abs = Math.abs(delta);
  const text = abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

function dateOf(seconds) {
  return typeof seconds === 'number' ? `${new Date(seconds * 1000).toISOString()} (${relative(seconds)})` : String(seconds);
}

module.exports = { EXIT, CliError, usage, environment, exitCodeOf, print, printJson, report, dateOf };
