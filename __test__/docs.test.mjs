// The guides quote code from tested files: a fenced block whose first line names a file
// (`// examples/cookbook/streams.mjs`) must appear in that file verbatim, so a guide never shows code
// that no test runs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const GUIDES = ['docs/authorization-cookbook.md', 'docs/machine-actors.md'];
const SOURCE = /^(?:\/\/|#) ((?:examples|bin|lib|scripts|src|__test__)\/\S+)$/;

/** The fenced blocks of `text` that name their source: `[{ path, code, line }]`. */
function quotedBlocks(text) {
  const blocks = [];
  const re = /^```\w*\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [first, ...rest] = m[1].split('\n');
    const source = SOURCE.exec(first);
    if (source) blocks.push({ path: source[1], code: rest.join('\n').trimEnd(), line: text.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

it('every quoted block of the guides is in its source file, verbatim', () => {
  let quoted = 0;
  for (const guide of GUIDES) {
    for (const { path, code, line } of quotedBlocks(readFileSync(join(ROOT, guide), 'utf8'))) {
      quoted += 1;
      const source = readFileSync(join(ROOT, path), 'utf8');
      expect(source.includes(code), `${guide}:${line} quotes ${path}, which does not contain it`).toBe(true);
    }
  }
  expect(quoted).toBeGreaterThanOrEqual(10);
});
