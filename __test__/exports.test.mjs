// Every export of the package is visible to both module systems. Vitest transforms imports itself, so
// the ESM side is checked in a real Node process: Node's ESM loader only sees CommonJS exports it can
// detect statically, and a missing one would break `import { X } from 'spacetime-gateway'`.

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

it('ESM `import` sees exactly the names `require` sees', async () => {
  const cjs = Object.keys(createRequire(import.meta.url)('spacetime-gateway')).sort();
  // Node 24 adds a `'module.exports'` key (the whole CommonJS object) to the namespace of every CommonJS
  // module; it is not one of the package's names.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import * as m from 'spacetime-gateway'; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()))"], { cwd: ROOT });
  expect(JSON.parse(stdout)).toEqual(cjs);
  for (const name of ['Gateway', 'GatewayError', 'TokenBroker', 'generateKeyPair', 'verifyToken', 'deriveIdentity']) expect(cjs).toContain(name);
});

it('ESM `import` of spacetime-gateway/h3 sees the names `require` sees', async () => {
  const cjs = Object.keys(createRequire(import.meta.url)('spacetime-gateway/h3')).sort();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import * as m from 'spacetime-gateway/h3'; console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()))"], { cwd: ROOT });
  expect(JSON.parse(stdout)).toEqual(cjs);
  expect(cjs).toEqual(['serveStream']);
});

it('no CommonJS file of lib/ reads as ESM to a bundler (nitropack 2 would bundle it and the .node with it)', () => {
  // mlly's `isValidNodeImport` — how nitropack 2 decides whether a dependency can stay external — calls a
  // `.js` file of a package without `"type": "module"` ESM when its text, comments included, matches this
  // (mlly's ESM syntax test). A doc comment with `export default …` made Analog's build bundle lib/h3.js.
  const esmLooking = /([\s;]|^)(import[\s\w*,{}]*from|import\s*["'*{]|export\b\s*(?:[*{]|default|class|type|function|const|var|let|async function)|import\.meta\b)/m;
  const files = readdirSync(join(ROOT, 'lib')).filter((f) => f.endsWith('.js'));
  expect(files).toContain('h3.js');
  const flagged = files.filter((f) => esmLooking.test(readFileSync(join(ROOT, 'lib', f), 'utf8')));
  expect(flagged).toEqual([]);
  expect(esmLooking.test('/**\n * export default defineEventHandler(…)\n */')).toBe(true); // the test can fail
});
