'use strict';
// Generated from src/relay/take.rs (the layout of the Buffer `take()` returns: header, data, index);
// do not edit. `SPACETIME_GATEWAY_WRITE_GENERATED=1 cargo test take_layout` rewrites it, and
// `cargo test` fails while it differs.

module.exports = Object.freeze({
  /** bytes before the data */
  HEADER_BYTES: 8,
  /** header: u32 LE number of index entries */
  ENTRIES_AT: 0,
  /** header: u32 LE, 1 = take again after letting the sockets drain */
  MORE_AT: 4,
  /** bytes per index entry (the index ends the buffer) */
  ENTRY_BYTES: 12,
  /** entry: u32 LE stream id */
  ID_AT: 0,
  /** entry: u32 LE byte length of the stream's data */
  LENGTH_AT: 4,
  /** entry: u32 LE flags */
  FLAGS_AT: 8,
  /** flag: the stream ended */
  ENDED: 1,
});
