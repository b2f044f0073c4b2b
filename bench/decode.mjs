// Decode: rows/s of an initial subscription of `rows` documents (100 B bodies), spacetime-gateway
// against Baseline A and the floor (a websocket that receives without decoding) (the official SDK 1.3.3, as shipped and with Node's TextDecoder), each variant in
// its own process (decode-one.mjs), same server, same rows, same run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Gateway } from '../lib/index.js';

const ONE = fileURLToPath(new URL('./decode-one.mjs', import.meta.url));
const NATIVE = fileURLToPath(new URL('./baselines/native-text-decoder.mjs', import.meta.url));
export const DECODE_VARIANTS = [
  { key: 'raw', label: 'raw websocket, receive only', args: ['raw'] },
  { key: 'ours', label: 'spacetime-gateway', args: ['ours'] },
  { key: 'sdk', label: 'A: SDK 1.3.3 as shipped', args: ['sdk'] },
  { key: 'sdkNative', label: 'A: SDK 1.3.3 + native TextDecoder', args: ['sdk'], execArgv: ['--import', NATIVE] },
];

/** Seeds a fresh tenant with `rows` documents and times each variant; returns the raw samples. */
export async function decode({ uri, database, rows, repeats }) {
  const owner = await Gateway.connect({ uri, database, callTimeoutMs: 300_000 });
  const tenant = `decode-${Date.now().toString(36)}`;
  await owner.callReducer('create_tenant', [tenant, 'decode']);
  for (let seeded = 0; seeded < rows; seeded += 10_000) await owner.callReducer('seed_documents', [tenant, Math.min(10_000, rows - seeded), 100]);
  await owner.close();
  const query = `SELECT * FROM document WHERE tenant_id = '${tenant}'`;
  const results = {};
  for (const v of DECODE_VARIANTS) {
    const out = execFileSync(process.execPath, [...(v.execArgv ?? []), ONE, ...v.args, query, String(repeats), String(rows)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    results[v.key] = JSON.parse(out.trim().split('\n').at(-1));
    console.error(`[decode] ${v.key}: ${results[v.key].samples.map((s) => s.ms.toFixed(0)).join(', ')} ms`);
  }
  return { rows, repeats, variants: DECODE_VARIANTS.map(({ key, label }) => ({ key, label })), results };
}
