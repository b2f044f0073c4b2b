'use strict';
// `identity migrate`: moves users from an old issuer to a new one by linking each user's new Identity
// (derived from new issuer + new subject) to the same app actor in the module's `identity_link`, so both
// tokens reach the same rows while both issuers run. A dry run by default; `--apply` writes through the
// module's `link_identity` reducer, only when the map and the database agree, and never twice.

const { deriveIdentity } = require('../../../lib/index.js');
const { parse, readStdin } = require('../args.js');
const { readText } = require('../keyfile.js');
const { CliError, EXIT, print, printJson, usage } = require('../output.js');
const { DATABASE_OPTIONS, callReducer, databaseOf, readActors, readLinks } = require('./database.js');
const { claimProblem, finding, linesText, parseSubjectMap } = require('./map.js');

const OPTIONS = {
  'old-issuer': { type: 'string' },
  'new-issuer': { type: 'string' },
  map: { type: 'string' },
  apply: { type: 'boolean' },
  ...DATABASE_OPTIONS,
};

function issuersOf(values) {
  for (const name of ['old-issuer', 'new-issuer']) {
    if (values[name] === undefined) throw usage(`--${name} is required`);
    const problem = claimProblem(values[name], `--${name}`);
    if (problem) throw usage(problem);
  }
  if (values['old-issuer'] === values['new-issuer']) throw usage('--old-issuer and --new-issuer are the same: nothing to migrate');
  return { oldIssuer: values['old-issuer'], newIssuer: values['new-issuer'] };
}

/**
 * The plan: each entry with both Identities and, when the database was read, who they are linked to
 * and what to do (`write` the new link, or it is already `present`); problems refuse, warnings do not.
 */
async function plan(map, { oldIssuer, newIssuer }, db) {
  const { problems, warnings } = map;
  const entries = map.entries.map((e) => ({
    line: e.line,
    appUser: e.appUser,
    old: { subject: e.oldSubject, identity: deriveIdentity(oldIssuer, e.oldSubject) },
    new: { subject: e.newSubject, identity: deriveIdentity(newIssuer, e.newSubject) },
    action: 'write',
  }));
  if (!db) return { entries, problems, warnings };
  const links = new Map((await readLinks(db, [oldIssuer, newIssuer])).map((l) => [l.identity, l]));
  const actors = await readActors(db);
  for (const e of entries) {
    e.old.linkedTo = links.get(e.old.identity)?.actor ?? null;
    e.new.linkedTo = links.get(e.new.identity)?.actor ?? null;
    if (e.new.linkedTo === e.appUser) e.action = 'present';
    if (!actors.has(e.appUser)) {
      problems.push(finding('UNKNOWN_USER', [e.line], `app user ${e.appUser} is not known to the module (no actor_identity_map row: no identity was ever linked to it)`));
    }
    for (const side of ['old', 'new']) {
      const linkedTo = e[side].linkedTo;
      if (linkedTo !== null && linkedTo !== e.appUser) {
        problems.push(finding('LINK_DISAGREES', [e.line], `the ${side} Identity of ${e[side].subject} is linked to ${linkedTo} in the database, the map says ${e.appUser}`));
      }
    }
    if (actors.get(e.appUser) === false) {
      warnings.push(finding('INACTIVE_USER', [e.line], `app user ${e.appUser} is deactivated: the new link is written, but no identity of it may act until set_actor_active turns it on`));
    }
    if (e.old.linkedTo === null && actors.has(e.appUser)) {
      warnings.push(finding('OLD_NOT_LINKED', [e.line], `the old Identity of ${e.old.subject} is not linked: the map may not match the old issuer's subjects (the new link is still written)`));
    }
  }
  return { entries, problems, warnings };
}

const STATUS = { write: 'to write', present: 'already linked (nothing to do)', written: 'written' };

function printText(report) {
  print(`identity migrate: ${report.mode === 'apply' ? 'apply' : 'dry run (nothing is written; --apply writes)'}`);
  print(`  old issuer  ${report.oldIssuer}`);
  print(`  new issuer  ${report.newIssuer}`);
  print(`  database    ${report.database ? `${report.database.name} on ${report.database.url}` : 'not checked (give --url, --database and --token to check the links)'}`);
  for (const e of report.entries) {
    print(`line ${e.line}: ${e.appUser}`);
    const linked = (side) => (side.linkedTo === undefined ? '' : side.linkedTo === null ? '  not linked' : `  linked to ${side.linkedTo}`);
    print(`  old  ${e.old.identity}  ${e.old.subject}${linked(e.old)}`);
    print(`  new  ${e.new.identity}  ${e.new.subject}  ${STATUS[e.action]}`);
  }
  const rows = report.entries.filter((e) => e.action !== 'present');
  if (rows.length) print('identity_link rows (identity, issuer, subject, actor):');
  for (const e of rows) print(`  ${e.new.identity}  ${report.newIssuer}  ${e.new.subject}  ${e.appUser}  ${STATUS[e.action]}`);
  for (const p of report.problems) print(`✗ ${p.code}${p.lines.length ? ` (${linesText(p.lines)})` : ''}: ${p.message}`);
  for (const w of report.warnings) print(`! ${w.code} (${linesText(w.lines)}): ${w.message}`);
  print(report.message);
}

/** Writes the planned links; returns how many, or throws after reporting the ones written before. */
async function apply(db, entries, newIssuer) {
  for (const e of entries.filter((x) => x.action === 'write')) {
    try {
      await callReducer(db, 'link_identity', [newIssuer, e.new.subject, e.appUser]);
    } catch (err) {
      err.message = `line ${e.line}: ${err.message} (links written before it: ${entries.filter((x) => x.action === 'written').length}; run again once fixed: written links are skipped)`;
      throw err;
    }
    e.action = 'written';
  }
}

function summary(report) {
  const count = (action) => report.entries.filter((e) => e.action === action).length;
  const n = (k, what) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const [toWrite, present, written] = [count('write'), count('present'), count('written')];
  report.summary = { toWrite, present, written, problems: report.problems.length, warnings: report.warnings.length };
  if (report.problems.length) {
    return `refused: ${n(report.problems.length, 'problem')}${report.mode === 'apply' ? '; nothing was written' : ''}`;
  }
  if (report.mode === 'apply') {
    return written ? `wrote ${n(written, 'link')}, ${present} already in place` : `nothing to do: all ${n(present, 'link')} already in place`;
  }
  return `${n(toWrite, 'link')} to write, ${present} already in place; ${n(report.warnings.length, 'warning')}`;
}

async function migrate(argv) {
  const { values, positionals } = parse(argv, OPTIONS);
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  const issuers = issuersOf(values);
  if (values.map === undefined) throw usage('--map FILE is required (`-` reads the map from standard input)');
  const db = databaseOf(values, { required: Boolean(values.apply) });
  const text = values.map === '-' ? await readStdin() : readText(values.map);
  const { entries, problems, warnings } = await plan(parseSubjectMap(text), issuers, db);
  const report = { ok: false, mode: values.apply ? 'apply' : 'dry-run', ...issuers, database: db && { url: db.url, name: db.name }, entries, problems, warnings };
  let failure = null;
  if (values.apply && !problems.length) {
    try {
      await apply(db, entries, issuers.newIssuer);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      failure = err;
    }
  }
  const done = summary(report);
  report.message = failure ? failure.message : done;
  if (failure) report.error = { code: failure.code, message: failure.message };
  else report.ok = !problems.length;
  if (values.json) printJson(report);
  else printText(report);
  if (failure && failure.exitCode !== EXIT.PROBLEMS) return failure.exitCode;
  return report.ok ? EXIT.OK : EXIT.PROBLEMS;
}

module.exports = { migrate };
