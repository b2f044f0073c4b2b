'use strict';
// What `smoke` asserts about SSE frames: the envelope of every frame, ids in order and never repeated, the
// expected event of a call, and — for `--simulate` — that every call's event arrived exactly once.
// Pure functions: each returns problems as strings (empty: all good).

const ENVELOPE_KEYS = ['event', 'id', 'tenant_id', 'schema_version', 'payload'];

/** An event id `<prefix>-<k>` as `{ prefix, k }`, or null. */
function positionOf(id) {
  const m = /^(.*)-(\d+)$/.exec(id ?? '');
  return m ? { prefix: m[1], k: BigInt(m[2]) } : null;
}

/**
 * Problems with the envelopes of `frames`: missing members, `id` unlike the SSE id, ids out of order. Ids
 * count up within one prefix (a transaction's database ids, or a process's local ids) and never repeat.
 */
function envelopeProblems(frames) {
  const problems = [];
  let last = null;
  const seen = new Set();
  for (const [i, frame] of frames.entries()) {
    if (frame.data === undefined) continue;
    const where = `frame ${i} (${frame.event})`;
    const missing = ENVELOPE_KEYS.filter((k) => !(k in frame.data));
    if (missing.length) problems.push(`${where}: the envelope lacks ${missing.join(', ')}`);
    if (frame.data.event !== frame.event) problems.push(`${where}: envelope event ${JSON.stringify(frame.data.event)} differs from the SSE event`);
    if ((frame.data.id ?? undefined) !== frame.id) problems.push(`${where}: envelope id ${JSON.stringify(frame.data.id)} differs from the SSE id ${JSON.stringify(frame.id)}`);
    if (!Number.isInteger(frame.data.schema_version)) problems.push(`${where}: schema_version is not an integer`);
    if (frame.id !== undefined) {
      const position = positionOf(frame.id);
      if (position === null) problems.push(`${where}: id ${frame.id} has no position`);
      else if (seen.has(frame.id)) problems.push(`${where}: id ${frame.id} repeats`);
      else if (last !== null && position.prefix === last.prefix && position.k <= last.k) {
        problems.push(`${where}: id ${frame.id} does not increase (after position ${last.k})`);
      } else last = position;
      seen.add(frame.id);
    }
  }
  return problems;
}

/** Whether `actual` contains `expected` (objects: every expected key, recursively; else equal). */
function contains(actual, expected) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => contains(actual[k], v));
  }
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** The change frames (`<table>.insert|update|delete`) whose payload mentions `marker`. */
function framesCarrying(frames, marker) {
  return frames.filter((f) => f.data && /\.(insert|update|delete)$/.test(f.event) && JSON.stringify(f.data.payload).includes(marker));
}

/** Problems with `frame` against `expect` (`{ event?, tenant_id?, schema_version?, payload? }`). */
function expectationProblems(frame, expect) {
  const problems = [];
  const show = (v) => JSON.stringify(v);
  if (expect.event !== undefined && frame.event !== expect.event) problems.push(`expected event ${expect.event}, got ${frame.event}`);
  if (expect.tenant_id !== undefined && !contains(frame.data.tenant_id, expect.tenant_id)) {
    problems.push(`expected tenant_id ${show(expect.tenant_id)}, got ${show(frame.data.tenant_id)}`);
  }
  if (expect.schema_version !== undefined && frame.data.schema_version !== expect.schema_version) {
    problems.push(`expected schema_version ${expect.schema_version}, got ${frame.data.schema_version}`);
  }
  if (expect.payload !== undefined && !contains(frame.data.payload, expect.payload)) {
    problems.push(`expected the payload to contain ${show(expect.payload)}, got ${show(frame.data.payload)}`);
  }
  return problems;
}

/**
 * For `--simulate`: how many of `markers` arrived (as change frames) zero times (lost) or more than once
 * (repeated), and the resync frames (a resync means the stream could not continue seamlessly).
 */
function deliveryReport(frames, markers) {
  const counts = markers.map((m) => framesCarrying(frames, m).filter((f) => !f.event.endsWith('.delete')).length);
  return {
    calls: markers.length,
    received: counts.filter((c) => c > 0).length,
    lost: markers.filter((_, i) => counts[i] === 0),
    repeated: markers.filter((_, i) => counts[i] > 1),
    resyncs: frames.filter((f) => f.event === 'resync').map((f) => f.data.payload.reason),
  };
}

module.exports = { envelopeProblems, expectationProblems, framesCarrying, deliveryReport, contains, positionOf };
