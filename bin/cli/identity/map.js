'use strict';
// The subject map of `identity migrate`: one line per subject, `old_subject,app_user_id,new_subject`, or
// a JSON line `{"old_subject": …, "app_user_id": …, "new_subject": …}` for subjects holding a comma or
// edge whitespace. Blank lines and `#` comments are skipped; a first line equal to the CSV header too.
// Nothing is trimmed: SpacetimeDB hashes the exact `iss|sub` string, so " alice" is another identity.
// Pure: every finding carries the line numbers it is about, and nothing here touches a database.

const FIELDS = ['old_subject', 'app_user_id', 'new_subject'];
const HEADER = FIELDS.join(',');
/** SpacetimeDB's limit for `iss` and `sub` (and the module's for actor ids). */
const MAX_CLAIM_BYTES = 128;
const ROBOT_PREFIX = 'robot:';
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const finding = (code, lines, message) => ({ code, lines, message });
const isRobot = (id) => id.startsWith(ROBOT_PREFIX);

/** A problem with one claim value (issuer or subject), or null. Shared with the issuer options. */
function claimProblem(value, what) {
  if (value === '') return `${what} is empty`;
  if (Buffer.byteLength(value) > MAX_CLAIM_BYTES) return `${what} is ${Buffer.byteLength(value)} bytes, the limit is ${MAX_CLAIM_BYTES}`;
  if (value.trim() !== value) return `${what} ${JSON.stringify(value)} has leading or trailing whitespace (the Identity hashes the exact string)`;
  return null;
}

/** The three fields of one line, or an error message. */
function fieldsOf(text) {
  if (text.startsWith('{')) {
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return `not JSON: ${e.message}`;
    }
    const keys = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : [];
    if (keys.join() !== [...FIELDS].sort().join() || FIELDS.some((f) => typeof value[f] !== 'string')) {
      return `a JSON line needs exactly the string fields ${FIELDS.join(', ')}`;
    }
    return FIELDS.map((f) => value[f]);
  }
  const parts = text.split(',');
  if (parts.length !== 3) return `expected 3 comma-separated fields (${HEADER}), got ${parts.length} (a subject with a comma needs a JSON line)`;
  return parts;
}

/** The problem of a well-formed line's values, or null. */
function entryProblem([oldSubject, appUser, newSubject]) {
  for (const [value, what] of [[oldSubject, 'old_subject'], [appUser, 'app_user_id'], [newSubject, 'new_subject']]) {
    const problem = claimProblem(value, what);
    if (problem) return problem;
  }
  // The module links a robot subject only to a robot actor (robot:<keyId>), a person's only to a person.
  for (const [subject, what] of [[oldSubject, 'old_subject'], [newSubject, 'new_subject']]) {
    if (isRobot(subject) !== isRobot(appUser)) return `${what} ${subject} and app user ${appUser} are not the same kind (robot:<keyId> is a robot)`;
  }
  return null;
}

/** Lines of `lines` numbers as "line 3" / "lines 3, 7". */
const linesText = (lines) => `line${lines.length === 1 ? '' : 's'} ${lines.join(', ')}`;

/** Groups entries by `key`; returns the groups with more than one entry. */
function repeated(entries, key) {
  const groups = new Map();
  for (const e of entries) groups.set(key(e), [...(groups.get(key(e)) ?? []), e]);
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * Parses a subject map. Returns `{ entries: [{ line, oldSubject, appUser, newSubject }], problems,
 * warnings }`; any problem refuses the map (malformed lines, a repeated old subject, one new subject for
 * two users), warnings (e-mail subjects) do not.
 */
function parseSubjectMap(text) {
  const entries = [];
  const problems = [];
  let first = true;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = i + 1;
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (content.trim() === '' || content.startsWith('#')) continue;
    const isHeader = first && content === HEADER;
    first = false;
    if (isHeader) continue;
    const fields = fieldsOf(content);
    const problem = typeof fields === 'string' ? fields : entryProblem(fields);
    if (problem) {
      problems.push(finding('MALFORMED_LINE', [line], problem));
      continue;
    }
    const [oldSubject, appUser, newSubject] = fields;
    entries.push({ line, oldSubject, appUser, newSubject });
  }
  for (const group of repeated(entries, (e) => e.oldSubject)) {
    const lines = group.map((e) => e.line);
    problems.push(finding('DUPLICATE_OLD_SUBJECT', lines, `old subject ${JSON.stringify(group[0].oldSubject)} is mapped on ${linesText(lines)}: one line per old subject`));
  }
  for (const group of repeated(entries, (e) => e.newSubject)) {
    const users = [...new Set(group.map((e) => e.appUser))];
    if (users.length === 1) continue; // two old accounts of one user may merge into one new subject
    const lines = group.map((e) => e.line);
    const who = group.map((e) => `${e.appUser} (line ${e.line})`).join(', ');
    problems.push(finding('NEW_SUBJECT_COLLISION', lines, `new subject ${JSON.stringify(group[0].newSubject)} is mapped to different users: ${who}; one Identity can belong to one user only`));
  }
  if (entries.length === 0 && problems.length === 0) problems.push(finding('EMPTY_MAP', [], 'the subject map has no entries'));
  const emailLines = entries.filter((e) => EMAIL.test(e.oldSubject) || EMAIL.test(e.newSubject)).map((e) => e.line);
  const warnings = emailLines.length
    ? [
        finding(
          'EMAIL_SUBJECT',
          emailLines,
          'subjects that look like e-mail addresses: an address is reassigned (a new hire inherits a leaver\'s address, and with it their Identity and rows), changes on renames and domain moves, and differs by case or normalisation between providers ("Alice@x" is another Identity than "alice@x"); map the provider\'s stable, immutable user id (OIDC `sub`, Entra `oid`) instead',
        ),
      ]
    : [];
  return { entries, problems, warnings };
}

module.exports = { parseSubjectMap, claimProblem, linesText, finding, HEADER };
