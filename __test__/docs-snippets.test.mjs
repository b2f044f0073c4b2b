// The guides quote tested code: a code block whose first line is a comment naming a file of the repository
// (`// examples/shared/server/gateway.ts`, `// src/actors/token_check.rs`, `# examples/replicas/nginx.conf`)
// must be that file's text — each part between `// …` (or `# …`) lines a contiguous run of the file's lines
// (indentation included) — so a guide never shows code or configuration that no test runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
/** Each guide and the fewest quotes it has (a guide that lost its quotes fails too). */
const GUIDES = { 'docs/tanstack-start.md': 6, 'docs/analog.md': 7, 'docs/authorization-cookbook.md': 6, 'docs/machine-actors.md': 4, 'docs/identity-migration.md': 3, 'docs/better-auth.md': 4, 'docs/scaling.md': 4 };
const SOURCE = /^(?:\/\/|#) ((?:examples|bin|lib|scripts|src|__test__)\/\S+)$/;

/** The quoted blocks of a guide: `{ file, parts }`. */
function quotes(markdown) {
  const blocks = [...markdown.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((m) => m[1].replace(/\n$/, '').split('\n'));
  return blocks
    .filter((lines) => SOURCE.test(lines[0]))
    .map(([first, ...rest]) => {
      const parts = [[]];
      for (const line of rest) {
        if (line.trim() === '// …' || line.trim() === '# …') parts.push([]);
        else parts.at(-1).push(line);
      }
      return { file: SOURCE.exec(first)[1], parts: parts.filter((p) => p.length > 0).map((p) => p.join('\n')) };
    });
}

for (const [guide, fewest] of Object.entries(GUIDES)) {
  it(`${guide} quotes the files as they are`, () => {
    const found = quotes(readFileSync(join(ROOT, guide), 'utf8'));
    expect(found.length).toBeGreaterThanOrEqual(fewest);
    for (const { file, parts } of found) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const part of parts) expect({ file, quoted: text.includes(part) ? 'as is' : part }).toEqual({ file, quoted: 'as is' });
    }
  });
}

it('finds a quote that differs from its file (the check can fail)', () => {
  const [quote] = quotes('```ts\n// examples/tanstack-start/vite.config.ts\nexport default defineConfig({ plugins: [] });\n```\n');
  expect(readFileSync(join(ROOT, quote.file), 'utf8').includes(quote.parts[0])).toBe(false);
});

it('finds a quote of a file with # comments (nginx.conf) that differs from it', () => {
  const [quote] = quotes('```nginx\n# examples/replicas/nginx.conf\nworker_processes 7;\n```\n');
  expect(quote.file).toBe('examples/replicas/nginx.conf');
  expect(readFileSync(join(ROOT, quote.file), 'utf8').includes(quote.parts[0])).toBe(false);
});

it('docs/scaling.md shows the whole nginx.conf that scripts/replicas.sh runs, all but its header comment', () => {
  const [quote] = quotes(readFileSync(join(ROOT, 'docs/scaling.md'), 'utf8')).filter((q) => q.file === 'examples/replicas/nginx.conf');
  const file = readFileSync(join(ROOT, quote.file), 'utf8');
  expect(quote.parts).toHaveLength(1);
  expect(`${quote.parts[0]}\n`).toBe(file.slice(file.indexOf('\nworker_processes') + 1));
  expect(readFileSync(join(ROOT, 'scripts/replicas.sh'), 'utf8')).toContain('cp "$root/examples/replicas/nginx.conf" "$inst/nginx.conf"');
});
