'use strict';
// `identity retire-check --issuer OLD`: may the old issuer be switched off? Reads the module's
// `identity_link` rows of that issuer and their `last_seen_at` (the last connection or committed call
// through the link, recorded by the module at most once a minute) and lists the users and robots that
// used it within `--since`. Exits 1 while any did: their next login would break once it is gone.

const { parse } = require('../args.js');
const { EXIT, print, printJson, usage } = require('../output.js');
const { DATABASE_OPTIONS, databaseOf, readLinks } = require('./database.js');
const { claimProblem } = require('./map.js');

/**
 * The module records a link's use at most once per this many seconds (USE_GRANULARITY_MICROS in
 * examples/cookbook-module/src/caller.rs): a use up to that long after the recorded time leaves no
 * trace, so the window starts that much earlier — a check may list a slightly older use, never miss one.
 */
const USE_GRANULARITY_SECONDS = 60;
const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DEFAULT_SINCE = '30d';

/** `--since`: a duration back from now (`90s`, `15m`, `12h`, `30d`, `2w`) or an ISO 8601 time. */
function sinceOf(text, now) {
  const duration = /^(\d+)([smhdw])$/.exec(text);
  if (duration) return new Date(now - Number(duration[1]) * UNITS[duration[2]] * 1000);
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw usage(`--since takes a duration (90s, 15m, 12h, 30d, 2w) or an ISO 8601 time, got ${text}`);
  if (time > now) throw usage(`--since ${text} is in the future`);
  return new Date(time);
}

const ago = (date, now) => {
  const s = Math.round((now - date) / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : s < 172800 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`;
};

/** One row per actor: its subjects under the issuer and its latest recorded use. */
function byActor(links) {
  const actors = new Map();
  for (const l of links) {
    const a = actors.get(l.actor) ?? { actor: l.actor, kind: l.actor.startsWith('robot:') ? 'robot' : 'user', subjects: [], lastUsed: null };
    a.subjects.push(l.subject);
    if (l.lastSeenAt && (!a.lastUsed || l.lastSeenAt > a.lastUsed)) a.lastUsed = l.lastSeenAt;
    actors.set(l.actor, a);
  }
  return [...actors.values()].sort((x, y) => (y.lastUsed ?? 0) - (x.lastUsed ?? 0) || x.actor.localeCompare(y.actor));
}

function printText(r, now) {
  const used = (a) => (a.lastUsed ? `last used ${a.lastUsed.toISOString()} (${ago(a.lastUsed, now)})` : 'never used');
  if (!r.links) {
    print(`no identity_link rows for issuer ${r.issuer}: nothing uses it (check the exact string: a trailing "/" is another issuer)`);
    return;
  }
  const window = `since ${r.since} (window from ${r.windowStart}: uses are recorded at most once per ${USE_GRANULARITY_SECONDS} s)`;
  if (r.inUse.length) {
    print(`issuer ${r.issuer} is still in use: ${r.inUse.length} actor${r.inUse.length === 1 ? '' : 's'} used it ${window}`);
    for (const a of r.inUse) print(`  ${a.actor}  (${a.kind}, subject ${a.subjects.join(', ')})  ${used(a)}`);
  } else {
    print(`issuer ${r.issuer} unused ${window}: ${r.links} link${r.links === 1 ? '' : 's'} of ${r.idle.length} actor${r.idle.length === 1 ? '' : 's'}`);
  }
  for (const a of r.idle) print(`  idle: ${a.actor}  (${a.kind})  ${used(a)}`);
}

async function retireCheck(argv) {
  const { values, positionals } = parse(argv, { issuer: { type: 'string' }, since: { type: 'string' }, ...DATABASE_OPTIONS });
  if (positionals.length) throw usage(`unexpected argument: ${positionals[0]}`);
  if (values.issuer === undefined) throw usage('--issuer is required (the old issuer, exactly as in its tokens)');
  const problem = claimProblem(values.issuer, '--issuer');
  if (problem) throw usage(problem);
  const now = Date.now();
  const since = sinceOf(values.since ?? DEFAULT_SINCE, now);
  const db = databaseOf(values, { required: true });
  const windowStart = new Date(since.getTime() - USE_GRANULARITY_SECONDS * 1000);
  const links = await readLinks(db, [values.issuer]);
  const actors = byActor(links);
  const inUse = actors.filter((a) => a.lastUsed && a.lastUsed >= windowStart);
  const report = {
    ok: inUse.length === 0,
    issuer: values.issuer,
    since: since.toISOString(),
    windowStart: windowStart.toISOString(),
    granularitySeconds: USE_GRANULARITY_SECONDS,
    links: links.length,
    inUse,
    idle: actors.filter((a) => !inUse.includes(a)),
  };
  if (values.json) printJson(report);
  else printText(report, now);
  return report.ok ? EXIT.OK : EXIT.PROBLEMS;
}

module.exports = { retireCheck };
