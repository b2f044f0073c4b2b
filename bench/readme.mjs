// Rewrites the README's benchmark table (between `<!-- bench:start -->` and `<!-- bench:end -->`) from a
// results file: `node bench/readme.mjs bench/results/<date>.json`. bench/run.mjs calls it after a full run.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { markdown } from './lib/summary.mjs';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces the marked section with `report`; returns what it did. */
export function updateReadme(report) {
  const text = readFileSync(README, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a === -1 || b < a) return `no ${START} … ${END} markers: left alone`;
  writeFileSync(README, `${text.slice(0, a + START.length)}\n${report}\n${text.slice(b)}`);
  return 'Performance table updated';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/readme.mjs bench/results/<date>.json');
  console.log(updateReadme(markdown(JSON.parse(readFileSync(file, 'utf8')))));
}
