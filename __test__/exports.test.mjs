// Every export of the package is visible to both module systems. Vitest transforms imports itself, so
// the ESM side is checked in a real Node process: Node's ESM loader only sees CommonJS exports it can
// detect statically, and a missing one would break `import { X } from 'spacetime-gateway'`.

import { execFile } from 'node:child_process';
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
