// Hand-written in the shape of generated bindings (seed_documents_reducer.ts): the reducer's arguments as
// one product type, in the module's parameter order, with camelCase names.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * Arguments of the `seed_documents` reducer.
 * @typedef {object} SeedDocuments
 * @property {string} tenantId
 * @property {number} count    u32
 * @property {number} bodyLen  u32
 */

/** A namespace for generated helper functions. */
export const SeedDocuments = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('tenantId', AlgebraicType.createStringType()),
      new ProductTypeElement('count', AlgebraicType.createU32Type()),
      new ProductTypeElement('bodyLen', AlgebraicType.createU32Type()),
    ]);
  },
  serialize(writer, value) {
    SeedDocuments.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {SeedDocuments} */
  deserialize(reader) {
    return SeedDocuments.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
