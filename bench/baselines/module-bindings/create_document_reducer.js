// Hand-written in the shape of generated bindings (create_document_reducer.ts): the reducer's arguments as
// one product type, in the module's parameter order, with camelCase names.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * Arguments of the `create_document` reducer.
 * @typedef {object} CreateDocument
 * @property {string} tenantId
 * @property {string} title
 * @property {string} body
 */

/** A namespace for generated helper functions. */
export const CreateDocument = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('tenantId', AlgebraicType.createStringType()),
      new ProductTypeElement('title', AlgebraicType.createStringType()),
      new ProductTypeElement('body', AlgebraicType.createStringType()),
    ]);
  },
  serialize(writer, value) {
    CreateDocument.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {CreateDocument} */
  deserialize(reader) {
    return CreateDocument.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
