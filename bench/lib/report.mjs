// Benchmark output: a table on stdout and the raw figures, machine facts and versions as JSON in
// bench/results/<name>-<date>.json.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Facts about the machine and the software under test, for the results file. */
export function environment() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    versions: { node: process.version, package: pkg.version, spacetimedb: '1.3.0 (standalone, local)', rustc: tryRun('rustc', ['--version']), git: tryRun('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) },
  };
}

/** Prints a markdown table. `rows` are arrays of cells; the first row is the header. */
export function printTable(title, rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(rows[0]));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows.slice(1)) console.log(line(r));
}

/**
 * Writes `bench/results/<name>-<date>.json` (or the file in BENCH_RESULTS_OUT: `npm run bench` runs a
 * script as one of its scenarios and collects that file) and returns its path.
 */
export function writeResults(name, results) {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = process.env.BENCH_RESULTS_OUT || join(dir, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify({ ...environment(), ...results }, null, 2) + '\n');
  return file;
}
