'use strict';
// Command dispatch: `<group> <command>` or a single command, `--help` everywhere.

const { HELP } = require('./help.js');
const { EXIT, print, report, usage } = require('./output.js');

/** Help after a usage mistake goes to stderr (stdout stays clean for scripts). */
const printUsage = (text) => process.stderr.write(`${text}\n`);

const COMMANDS = {
  'token decode': () => require('./token.js').decode,
  'token verify': () => require('./token.js').verify,
  'token diagnose': () => require('./token.js').diagnose,
  'token mint': () => require('./token.js').mint,
  identity: () => require('./identity.js').identity,
  'identity migrate': () => require('./identity/migrate.js').migrate,
  'identity retire-check': () => require('./identity/retire-check.js').retireCheck,
  'keys generate': () => require('./keys.js').generate,
  'issuer serve': () => require('./issuer.js').serve,
  smoke: () => require('./smoke.js').smoke,
};

const wantsHelp = (args) => args.includes('--help') || args.includes('-h');

/** Runs the CLI; resolves with the exit code. */
async function run(argv) {
  const json = argv.includes('--json');
  const [first, second, ...rest] = argv;
  if (first === undefined || first === 'help' || (first.startsWith('-') && wantsHelp([first]))) {
    if (first === undefined) {
      printUsage(HELP.main);
      return EXIT.USAGE;
    }
    print(HELP.main);
    return EXIT.OK;
  }
  let name;
  let args;
  if (COMMANDS[`${first} ${second}`]) {
    name = `${first} ${second}`;
    args = rest;
  } else if (COMMANDS[first]) {
    name = first;
    args = second === undefined ? rest : [second, ...rest];
  } else if (HELP[first]) {
    // A group without a (known) command: `token`, `token --help`, `keys foo`.
    if (second !== undefined && wantsHelp([second])) {
      print(HELP[first]);
      return EXIT.OK;
    }
    printUsage(HELP[first]);
    if (second === undefined) return EXIT.USAGE;
    return report(usage(`unknown ${first} command: ${second}`), json);
  } else {
    return report(usage(`unknown command: ${first} (see spacetime-gateway --help)`), json);
  }
  if (wantsHelp(args)) {
    print(HELP[name]);
    return EXIT.OK;
  }
  try {
    return await COMMANDS[name]()(args);
  } catch (err) {
    return report(err, json);
  }
}

module.exports = { run };
