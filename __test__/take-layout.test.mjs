// The Buffer `take()` returns crosses from Rust to JS. Its layout is defined once, in src/relay/take.rs;
// `cargo test take_layout` generates lib/take-layout.js from it and writes a buffer the Rust side built
// (fixtures/take-buffer.json). Here the JS relay hub reads that buffer, with no server and no addon.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { RelayHub } = require('../lib/stream.js');
const TAKE = require('../lib/take-layout.js');

/** A stand-in for the native relay: hands out stream ids and the given takes, then empty ones. */
function fakeNative(ids, takes) {
  const native = {
    wake: null,
    takes: 0,
    setWaker: (wake) => (native.wake = wake),
    keepAlive() {},
    open: () => ids.shift(),
    take() {
      native.takes++;
      return takes.shift() ?? Buffer.alloc(TAKE.HEADER_BYTES);
    },
    closeStream() {},
  };
  return native;
}

/** What a piped stream wrote, and whether it ended. */
function sink() {
  const res = { written: '', ended: false, headersSent: true, writableNeedDrain: false };
  res.write = (chunk) => ((res.written += Buffer.from(chunk).toString()), true);
  res.end = () => (res.ended = true);
  res.on = () => res;
  return res;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('the JS relay hub hands each stream its part of a take the Rust side laid out', async () => {
  const { hex } = JSON.parse(readFileSync(new URL('./fixtures/take-buffer.json', import.meta.url), 'utf8'));
  const native = fakeNative([7, 9, 8], [Buffer.from(hex, 'hex')]);
  const hub = new RelayHub(native);
  const [seven, nine, eight] = [sink(), sink(), sink()];
  hub.open({}).pipe(seven);
  hub.open({}).pipe(nine);
  hub.open({}).pipe(eight);

  // Piped streams resume, which schedules a take (as a wake would).
  await turn();
  expect(native.takes).toBe(1);
  expect([seven, nine, eight].map(({ written, ended }) => ({ written, ended }))).toEqual([
    { written: 'abc', ended: false },
    { written: '', ended: true },
    { written: 'de', ended: true },
  ]);
  // The buffer says there is more: the hub takes again on its own, and not after an empty take.
  await turn();
  expect(native.takes).toBe(2);
  await turn();
  expect(native.takes).toBe(2);
});
