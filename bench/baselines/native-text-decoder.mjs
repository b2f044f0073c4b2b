// Opt-in variant of the SDK baseline: `node --import ./bench/baselines/native-text-decoder.mjs …`.
//
// SDK 1.3.3 imports TextDecoder/TextEncoder from `@zxing/text-encoding`, a pure-JavaScript polyfill, and
// builds a new decoder for every string it reads (BinaryReader.readString). On Node that is the largest
// single cost of taking in rows: with Node's own TextDecoder an initial subscription of 10,000 documents
// is taken in 3–5x faster (measured here: 37–165 ms instead of 230–800 ms on a busy 2-core machine).
// This loader hook hands the SDK Node's built-in (WHATWG, UTF-8, same replacement and BOM behaviour)
// classes instead, without touching node_modules. A team could find this with one CPU profile, so
// benchmarks should report the baseline with it as well as without it.
//
// It must run before the SDK is imported, hence `--import` (Node >= 20.6).
import { register } from 'node:module';

register('./native-text-decoder.hooks.mjs', import.meta.url);
