// Hand-written in the shape of generated bindings (delete_document_reducer.ts): the reducer's arguments as
// one product type, in the module's parameter order, with camelCase names.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * Arguments of the `delete_document` reducer.
 * @typedef {object} DeleteDocument
 * @property {bigint} id
 */

/** A namespace for generated helper functions. */
export const DeleteDocument = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('id', AlgebraicType.createU64Type()),
    ]);
  },
  serialize(writer, value) {
    DeleteDocument.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {DeleteDocument} */
  deserialize(reader) {
    return DeleteDocument.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
