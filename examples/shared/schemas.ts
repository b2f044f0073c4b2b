// What the app accepts from browsers and integrations, checked on the server before anything else runs
// (the forms use the same schemas for their hints). Limits follow the module's (examples/module): a
// title of 1–200 bytes, a body of at most 64 KiB.
import { z } from 'zod';

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** An organization id as Better Auth makes them (the tenant id in SpacetimeDB). */
export const OrganizationId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an organization id (letters, digits, - and _; at most 64)');

/** A document id: SpacetimeDB's u64 as a decimal string. */
export const DocumentId = z
  .string()
  .regex(/^\d{1,20}$/, 'must be a document id (a decimal number)')
  .refine((id) => BigInt(id) < 2n ** 64n, 'must be a document id (at most 2^64 - 1)');

export const DocumentFields = z
  .object({
    title: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .refine((s) => bytes(s) <= 200, 'must be at most 200 bytes'),
    body: z
      .string()
      .default('')
      .refine((s) => bytes(s) <= 64 * 1024, 'must be at most 64 KiB'),
  })
  .strict();

export const NewDocument = DocumentFields.extend({ organizationId: OrganizationId }).strict();
export const DocumentChange = DocumentFields.extend({ organizationId: OrganizationId, id: DocumentId }).strict();
export const DocumentRef = z.object({ organizationId: OrganizationId, id: DocumentId }).strict();
export const TenantRef = z.object({ organizationId: OrganizationId }).strict();
export const NewOrganization = z.object({ name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters') }).strict();

/** A document row as the gateway delivers it (value mapping: u64 and Identity as strings). */
export interface Document {
  id: string;
  tenant_id: string;
  title: string;
  body: string;
  owner: string;
  updated_at: string;
  version: number;
}
