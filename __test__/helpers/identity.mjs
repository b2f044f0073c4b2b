// Helpers of the identity-migration suites: the CLI's database options for the cookbook database (as its
// owner), the module's identity links read back over SQL, and subject maps written to temp files.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cookbookEnv } from './cookbook.mjs';
import { httpCall, sql } from './spacetimedb.mjs';
import { identityOf } from './topology.mjs';

/** `--url … --database … --token …` naming the cookbook database and its owner. */
export function databaseArgs() {
  const { url, db, ownerToken } = cookbookEnv();
  return ['--url', url, '--database', db, '--token', ownerToken];
}

/** The `identity_link` rows of `issuer` (as the owner reads them): `[{ identity, subject, actor, lastSeen }]`. */
export async function linksOf(issuer) {
  const { db, ownerToken } = cookbookEnv();
  const rows = await sql(`SELECT * FROM identity_link WHERE issuer = '${issuer}'`, ownerToken, db);
  return rows.map((r) => ({ identity: identityOf(r.identity), subject: r.subject, actor: r.actor, lastSeen: r.last_seen_at[0] === 0 ? r.last_seen_at[1][0] : null }));
}

const dir = mkdtempSync(join(tmpdir(), 'stg-identity-'));
let files = 0;

/** Writes a subject map (lines joined with \n) to a fresh file; returns its path. */
export function mapFile(...lines) {
  const file = join(dir, `map-${(files += 1)}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Calls a cookbook reducer over SpacetimeDB's HTTP call route with `token`: `{ status, text }` (530: the
 * module refused). Straight to the server, because the cookbook gateway verifies per-user tokens against
 * its own (the old) issuer only.
 */
export const callAs = (token, reducer, args) => httpCall(reducer, args, token, cookbookEnv().db);
