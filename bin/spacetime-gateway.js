#!/usr/bin/env node
'use strict';
// spacetime-gateway: the command-line face of the auth part (tokens, identities, keys, a dev issuer).
// Each command lives in ./cli/; this file only dispatches. Exit codes are documented in ./cli/output.js.

const { run } = require('./cli/main.js');

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Only a bug gets here: commands turn every expected failure into an exit code.
    process.stderr.write(`spacetime-gateway: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
