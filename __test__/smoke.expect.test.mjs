// The checks `smoke` applies to SSE frames, on hand-made frames: each kind of envelope problem, and lost
// or repeated events, is reported (the CLI suite shows the passing side against the real server).

import { describe, expect, it } from 'vitest';
import expectations from '../bin/cli/smoke/expect.js';
import sse from '../bin/cli/smoke/sse.js';

const { envelopeProblems, expectationProblems, deliveryReport, contains } = expectations;
const frame = (id, event, data = {}) => ({ id, event, data: { event, id: id ?? null, tenant_id: 't', schema_version: 1, payload: {}, ...data } });

describe('envelopes', () => {
  it('accepts what the relay writes', () => {
    const text = 'retry: 2000\n\nid: e0-1\nevent: snapshot\ndata: {"event":"snapshot","id":"e0-1","tenant_id":"t","schema_version":1,"payload":{"phase":"begin","tables":[]}}\n\n: hb\n\n';
    const { frames, rest } = sse.parseSse(`${text}id: e0-3\nevent: x.insert\ndata: {"event":"x.insert","id":"e0-3","tenant_id":"t","schema_version":1,"payload":{"row":{}}}\n\npartial`);
    expect(rest).toBe('partial');
    expect(envelopeProblems(frames)).toEqual([]);
  });

  it('names missing members, mismatched ids and events, and ids that repeat or go back', () => {
    const { payload, ...noPayload } = frame('e-3', 'x.insert').data;
    const problems = envelopeProblems([
      { id: 'e-3', event: 'x.insert', data: noPayload },
      frame('e-6', 'x.update', { id: 'e-7' }),
      frame('e-9', 'x.delete', { event: 'x.insert' }),
      frame('e-9', 'x.insert'),
      frame('e-8', 'x.insert'),
      frame('e-12', 'x.insert', { schema_version: '1' }),
    ]);
    expect(problems).toEqual([
      'frame 0 (x.insert): the envelope lacks payload',
      'frame 1 (x.update): envelope id "e-7" differs from the SSE id "e-6"',
      'frame 2 (x.delete): envelope event "x.insert" differs from the SSE event',
      'frame 3 (x.insert): id e-9 repeats',
      'frame 4 (x.insert): id e-8 does not increase (after position 9)',
      'frame 5 (x.insert): schema_version is not an integer',
    ]);
  });

  it('takes database ids, which count within their transaction', () => {
    const ids = ['e-301', 'e-302', 'tab-0', 'tab-3', 'tcd-0', 'tcd-2'];
    expect(envelopeProblems(ids.map((id) => frame(id, 'x.insert')))).toEqual([]);
    expect(envelopeProblems(['tab-3', 'tab-0'].map((id) => frame(id, 'x.insert')))).toEqual(['frame 1 (x.insert): id tab-0 does not increase (after position 3)']);
  });
});

describe('expectations and delivery', () => {
  it('compares objects by the expected keys only, recursively', () => {
    expect(contains({ row: { id: '1', title: 'a' }, oldRow: null }, { row: { title: 'a' } })).toBe(true);
    expect(contains({ row: { title: 'a' } }, { row: { title: 'b' } })).toBe(false);
    expect(contains([1, 2], [1, 2])).toBe(true);
    const f = frame('e-3', 'x.insert', { tenant_id: 't1', payload: { row: { title: 'a' } } });
    expect(expectationProblems(f, { event: 'x.insert', tenant_id: 't1', schema_version: 1, payload: { row: { title: 'a' } } })).toEqual([]);
    expect(expectationProblems(f, { tenant_id: 't2', payload: { row: { title: 'b' } } })).toEqual([
      'expected tenant_id "t2", got "t1"',
      'expected the payload to contain {"row":{"title":"b"}}, got {"row":{"title":"a"}}',
    ]);
  });

  it('counts each marked call as received once, lost, or repeated, and reports resyncs', () => {
    const carrying = (id, marker) => frame(id, 'x.insert', { payload: { row: { title: marker } } });
    const frames = [carrying('e-3', 'm-1'), carrying('e-6', 'm-2'), carrying('e-9', 'm-2'), frame('e-10', 'resync', { payload: { reason: 'gap' } })];
    expect(deliveryReport(frames, ['m-1', 'm-2', 'm-3'])).toEqual({ calls: 3, received: 2, lost: ['m-3'], repeated: ['m-2'], resyncs: ['gap'] });
  });
});
