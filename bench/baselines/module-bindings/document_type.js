// Hand-written in the shape of `spacetimedb-cli 1.3.x generate --lang typescript` output (document_type.ts),
// as plain ESM JavaScript so the baseline runs on Node 20 without a build step. Field names are camelCase,
// exactly as the generator renames the module's snake_case columns (`tenant_id` -> `tenantId`): the SDK
// reads and writes rows by these names, so they must match the generator's, and their order must match
// the module's column order (BSATN products are positional).
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * A row of the module's `document` table.
 * @typedef {object} Document
 * @property {bigint} id                                                      u64 (auto-inc primary key)
 * @property {string} tenantId
 * @property {string} title
 * @property {string} body
 * @property {import('@clockworklabs/spacetimedb-sdk').Identity} owner
 * @property {import('@clockworklabs/spacetimedb-sdk').Timestamp} updatedAt  microseconds since the epoch (bigint inside)
 * @property {number} version                                                 u32
 */

/** A namespace for generated helper functions. */
export const Document = {
  /** The row type as an AlgebraicType (same columns, same order as `examples/module/src/lib.rs`). */
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('id', AlgebraicType.createU64Type()),
      new ProductTypeElement('tenantId', AlgebraicType.createStringType()),
      new ProductTypeElement('title', AlgebraicType.createStringType()),
      new ProductTypeElement('body', AlgebraicType.createStringType()),
      new ProductTypeElement('owner', AlgebraicType.createIdentityType()),
      new ProductTypeElement('updatedAt', AlgebraicType.createTimestampType()),
      new ProductTypeElement('version', AlgebraicType.createU32Type()),
    ]);
  },
  serialize(writer, value) {
    Document.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {Document} */
  deserialize(reader) {
    return Document.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
