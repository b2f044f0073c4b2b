// The "before" of the snapshot-storm scenario: the package as it was at BASE_COMMIT, the last commit
// before shared snapshot frames and snapshot limits (each stream encoded its own snapshot, a take filled
// up with snapshot frames of whichever streams came first). Comparing against the real old code, built
// the same way (release) and run in the same invocation, measures exactly what changed; a switch in the
// new code that "turns it off" would not. Extracted with `git archive`, built once per machine and cached
// in <cache>/bench-base/<commit>/ (cache: SPACETIME_GATEWAY_CACHE or ~/.cache/spacetime-gateway), with a
// target dir of its own, <cache>/bench-base/target: sharing this clone's would let cargo take one copy
// of the crate's artifacts for the other's (same name and version, and sources it finds unchanged), and
// a later build here could quietly link the old code. BENCH_STORM_BASE=<ref> compares against another
// commit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_COMMIT = 'cd6b83feff9763f630f2c53a4e07c8077162395d';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The root of the baseline package (its lib/index.js is what the storm's gateway process loads). */
export function baselineRoot(ref = process.env.BENCH_STORM_BASE ?? BASE_COMMIT) {
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  const cache = process.env.SPACETIME_GATEWAY_CACHE ?? join(homedir(), '.cache', 'spacetime-gateway');
  const dir = join(cache, 'bench-base', commit);
  const done = join(dir, '.built');
  if (existsSync(done)) return { root: dir, commit };
  console.error(`[storm] building the baseline ${commit.slice(0, 7)} in ${dir} (release, once per machine)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive --format=tar ${commit} | tar -x -C "${dir}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(join(ROOT, 'node_modules', '.bin', 'napi'), ['build', '--platform', '--release', '--js', 'index.js', '--dts', 'index.d.ts'], {
    cwd: dir,
    env: { ...process.env, CARGO_TARGET_DIR: join(cache, 'bench-base', 'target') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return { root: dir, commit };
}
