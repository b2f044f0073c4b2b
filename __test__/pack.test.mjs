// The tarball `npm pack` makes (scripts/test.sh packs once per run, through the package's own prepack
// hook): exactly the package's files, and the native addon a stripped release build — whatever the
// working tree held (the tests themselves run on a debug build).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TARBALL = process.env.SPACETIME_GATEWAY_TARBALL;
const ROOT = join(import.meta.dirname, '..');
const ADDON = 'spacetime-gateway.linux-x64-gnu.node';

/** Section names of a 64-bit little-endian ELF file (what `readelf -S` lists). */
function elfSections(bytes) {
  if (bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(bytes.readBigUInt64LE(0x28));
  const shentsize = bytes.readUInt16LE(0x3a);
  const shnum = bytes.readUInt16LE(0x3c);
  const names = shoff + bytes.readUInt16LE(0x3e) * shentsize;
  const strtab = Number(bytes.readBigUInt64LE(names + 0x18));
  const nameAt = (offset) => bytes.toString('latin1', strtab + offset, bytes.indexOf(0, strtab + offset));
  return Array.from({ length: shnum }, (_, i) => nameAt(bytes.readUInt32LE(shoff + i * shentsize)));
}

let dir;
beforeAll(() => {
  if (!TARBALL) throw new Error('SPACETIME_GATEWAY_TARBALL is not set: run the suite with `npm test` (scripts/test.sh packs the tarball)');
  dir = mkdtempSync(join(tmpdir(), 'stg-pack-'));
  execFileSync('tar', ['-xzf', TARBALL, '-C', dir]);
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('npm pack', () => {
  it("holds the package's files and nothing else", () => {
    const files = execFileSync('tar', ['-tzf', TARBALL], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    const lib = readdirSync(join(ROOT, 'lib')).map((f) => `lib/${f}`);
    const cli = readdirSync(join(ROOT, 'bin', 'cli')).map((f) => `bin/cli/${f}`);
    expect(files).toEqual([ADDON, 'README.md', 'bin/spacetime-gateway.js', ...cli, 'index.d.ts', 'index.js', ...lib, 'package.json'].sort());
  });

  it('carries a stripped release build of the addon that loads', () => {
    const addon = join(dir, 'package', ADDON);
    const sections = elfSections(readFileSync(addon));
    expect(sections).toContain('.text');
    expect(sections.filter((s) => s === '.symtab' || s.startsWith('.debug'))).toEqual([]);
    const native = createRequire(import.meta.url)(addon);
    expect(native.nativeProfile()).toBe('release');
    expect(native.nativeVersion()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('leaves the working tree its own (debug) build', () => {
    expect(createRequire(import.meta.url)(join(ROOT, 'index.js')).nativeProfile()).toBe('debug');
  });
});
