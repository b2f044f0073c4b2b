// Hand-written in the shape of generated bindings (create_tenant_reducer.ts): the reducer's arguments as
// one product type, in the module's parameter order, with camelCase names.
import { AlgebraicType, ProductTypeElement } from '@clockworklabs/spacetimedb-sdk';

/**
 * Arguments of the `create_tenant` reducer.
 * @typedef {object} CreateTenant
 * @property {string} id
 * @property {string} name
 */

/** A namespace for generated helper functions. */
export const CreateTenant = {
  getTypeScriptAlgebraicType() {
    return AlgebraicType.createProductType([
      new ProductTypeElement('id', AlgebraicType.createStringType()),
      new ProductTypeElement('name', AlgebraicType.createStringType()),
    ]);
  },
  serialize(writer, value) {
    CreateTenant.getTypeScriptAlgebraicType().serialize(writer, value);
  },
  /** @returns {CreateTenant} */
  deserialize(reader) {
    return CreateTenant.getTypeScriptAlgebraicType().deserialize(reader);
  },
};
