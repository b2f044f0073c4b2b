// Hand-written in the shape of generated bindings (update_document_reducer.ts): the reducer's arguments as
// one product type, in the module's parameter order, with camelCase names.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * Arguments of the `update_document` reducer.
 * @typedef {object} UpdateDocument
 * @property {bigint} id
 * @property {string} title
 * @property {string} body
 */

/** A namespace for generated helper functions. */
export const UpdateDocument = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('id', AlgebraicType.createU64Type()),
      new ProductTypeElement('title', AlgebraicType.createStringType()),
      new ProductTypeElement('body', AlgebraicType.createStringType()),
    ]);
  },
  serialize(writer, value) {
    UpdateDocument.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {UpdateDocument} */
  deserialize(reader) {
    return UpdateDocument.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
