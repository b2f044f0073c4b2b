// Hand-written in the shape of generated bindings (tenant_type.ts); see document_type.js for why.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * A row of the module's `tenant` table.
 * @typedef {object} Tenant
 * @property {string} id                                                      primary key
 * @property {string} name
 * @property {import('@clockworklabs/spacetimedb-sdk').Identity} createdBy
 * @property {import('@clockworklabs/spacetimedb-sdk').Timestamp} createdAt
 */

/** A namespace for generated helper functions. */
export const Tenant = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('id', AlgebraicType.createStringType()),
      new ProductTypeElement('name', AlgebraicType.createStringType()),
      new ProductTypeElement('createdBy', AlgebraicType.createIdentityType()),
      new ProductTypeElement('createdAt', AlgebraicType.createTimestampType()),
    ]);
  },
  serialize(writer, value) {
    Tenant.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {Tenant} */
  deserialize(reader) {
    return Tenant.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
