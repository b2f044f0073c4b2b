// Client bindings for spacetime-gateway's reference module (examples/module), for the official
// SpacetimeDB TypeScript SDK 1.3.x (`@clockworklabs/spacetimedb-sdk`).
//
// Normally `spacetimedb-cli 1.3.x generate --lang typescript` writes these files (as TypeScript that needs
// a bundler or loader on Node 20). Building that CLI takes ~8.5 minutes here, so they are written by hand
// in the same shape, as plain ESM JavaScript: REMOTE_MODULE, RemoteTables, RemoteReducers, SetReducerFlags,
// SubscriptionBuilder and DbConnection with `DbConnection.builder()`. Only what the baseline uses is
// covered: the tables `document` and `tenant`, and the reducers that create tenants and write documents.
// Do not subscribe to other tables with these bindings (the SDK would find no type for their rows);
// transactions of reducers not listed here still apply their row changes (as "UnknownTransaction").
import { BinaryWriter, DbConnectionBuilder, DbConnectionImpl, SubscriptionBuilderImpl } from '@clockworklabs/spacetimedb-sdk';

import { CreateDocument } from './create_document_reducer.js';
import { CreateTenant } from './create_tenant_reducer.js';
import { DeleteDocument } from './delete_document_reducer.js';
import { SeedDocuments } from './seed_documents_reducer.js';
import { UpdateDocument } from './update_document_reducer.js';
import { DocumentTableHandle } from './document_table.js';
import { TenantTableHandle } from './tenant_table.js';
import { Document } from './document_type.js';
import { Tenant } from './tenant_type.js';

export { CreateDocument, CreateTenant, DeleteDocument, SeedDocuments, UpdateDocument };
export { DocumentTableHandle, TenantTableHandle };
export { Document, Tenant };

const REMOTE_MODULE = {
  tables: {
    document: {
      tableName: 'document',
      rowType: Document.getTypeScriptAlgebraicType(),
      primaryKey: 'id',
      // With a primary key the SDK keys its cache by it and turns a delete + insert of one key in one
      // transaction into onUpdate(oldRow, newRow).
      primaryKeyInfo: {
        colName: 'id',
        colType: Document.getTypeScriptAlgebraicType().product.elements[0].algebraicType,
      },
    },
    tenant: {
      tableName: 'tenant',
      rowType: Tenant.getTypeScriptAlgebraicType(),
      primaryKey: 'id',
      primaryKeyInfo: {
        colName: 'id',
        colType: Tenant.getTypeScriptAlgebraicType().product.elements[0].algebraicType,
      },
    },
  },
  reducers: {
    create_tenant: { reducerName: 'create_tenant', argsType: CreateTenant.getTypeScriptAlgebraicType() },
    create_document: { reducerName: 'create_document', argsType: CreateDocument.getTypeScriptAlgebraicType() },
    update_document: { reducerName: 'update_document', argsType: UpdateDocument.getTypeScriptAlgebraicType() },
    delete_document: { reducerName: 'delete_document', argsType: DeleteDocument.getTypeScriptAlgebraicType() },
    seed_documents: { reducerName: 'seed_documents', argsType: SeedDocuments.getTypeScriptAlgebraicType() },
  },
  // The SDK refuses bindings older than CLI 1.2.0; these follow the 1.3.x generator.
  versionInfo: { cliVersion: '1.3.0' },
  // The constructors the SDK uses to build contexts, table views and reducer accessors (as generated:
  // an event context is a shallow copy of the connection plus the event).
  eventContextConstructor: (imp, event) => ({ ...imp, event }),
  dbViewConstructor: (imp) => new RemoteTables(imp),
  reducersConstructor: (imp, setReducerFlags) => new RemoteReducers(imp, setReducerFlags),
  setReducerFlagsConstructor: () => new SetReducerFlags(),
};

/** Serializes a reducer's arguments and sends the call (fire and forget, as in generated bindings). */
function call(connection, reducerName, argsType, args, flags) {
  const writer = new BinaryWriter(1024);
  argsType.serialize(writer, args);
  connection.callReducer(reducerName, writer.getBuffer(), flags);
}

/**
 * `conn.reducers`: one method per reducer. Calls return nothing; to learn the outcome register
 * `onCreateDocument`-style callbacks (they get `ctx.event.status`, `ctx.event.callerIdentity`, …) or wait
 * for the row callbacks.
 */
export class RemoteReducers {
  constructor(connection, setCallReducerFlags) {
    this.connection = connection;
    this.setCallReducerFlags = setCallReducerFlags;
  }

  /** @param {string} id @param {string} name */
  createTenant(id, name) {
    call(this.connection, 'create_tenant', CreateTenant.getTypeScriptAlgebraicType(), { id, name }, this.setCallReducerFlags.createTenantFlags);
  }
  onCreateTenant(callback) {
    this.connection.onReducer('create_tenant', callback);
  }
  removeOnCreateTenant(callback) {
    this.connection.offReducer('create_tenant', callback);
  }

  /** @param {string} tenantId @param {string} title @param {string} body */
  createDocument(tenantId, title, body) {
    call(this.connection, 'create_document', CreateDocument.getTypeScriptAlgebraicType(), { tenantId, title, body }, this.setCallReducerFlags.createDocumentFlags);
  }
  onCreateDocument(callback) {
    this.connection.onReducer('create_document', callback);
  }
  removeOnCreateDocument(callback) {
    this.connection.offReducer('create_document', callback);
  }

  /** @param {bigint} id @param {string} title @param {string} body */
  updateDocument(id, title, body) {
    call(this.connection, 'update_document', UpdateDocument.getTypeScriptAlgebraicType(), { id, title, body }, this.setCallReducerFlags.updateDocumentFlags);
  }
  onUpdateDocument(callback) {
    this.connection.onReducer('update_document', callback);
  }
  removeOnUpdateDocument(callback) {
    this.connection.offReducer('update_document', callback);
  }

  /** @param {bigint} id */
  deleteDocument(id) {
    call(this.connection, 'delete_document', DeleteDocument.getTypeScriptAlgebraicType(), { id }, this.setCallReducerFlags.deleteDocumentFlags);
  }
  onDeleteDocument(callback) {
    this.connection.onReducer('delete_document', callback);
  }
  removeOnDeleteDocument(callback) {
    this.connection.offReducer('delete_document', callback);
  }

  /** @param {string} tenantId @param {number} count @param {number} bodyLen */
  seedDocuments(tenantId, count, bodyLen) {
    call(this.connection, 'seed_documents', SeedDocuments.getTypeScriptAlgebraicType(), { tenantId, count, bodyLen }, this.setCallReducerFlags.seedDocumentsFlags);
  }
  onSeedDocuments(callback) {
    this.connection.onReducer('seed_documents', callback);
  }
  removeOnSeedDocuments(callback) {
    this.connection.offReducer('seed_documents', callback);
  }
}

/** `conn.setReducerFlags`: per reducer, 'FullUpdate' (default) or 'NoSuccessNotify'. */
export class SetReducerFlags {
  createTenantFlags = 'FullUpdate';
  createTenant(flags) {
    this.createTenantFlags = flags;
  }
  createDocumentFlags = 'FullUpdate';
  createDocument(flags) {
    this.createDocumentFlags = flags;
  }
  updateDocumentFlags = 'FullUpdate';
  updateDocument(flags) {
    this.updateDocumentFlags = flags;
  }
  deleteDocumentFlags = 'FullUpdate';
  deleteDocument(flags) {
    this.deleteDocumentFlags = flags;
  }
  seedDocumentsFlags = 'FullUpdate';
  seedDocuments(flags) {
    this.seedDocumentsFlags = flags;
  }
}

/** `conn.db`: the table handles over the client cache. */
export class RemoteTables {
  constructor(connection) {
    this.connection = connection;
  }
  /** @returns {DocumentTableHandle} */
  get document() {
    return new DocumentTableHandle(this.connection.clientCache.getOrCreateTable(REMOTE_MODULE.tables.document));
  }
  /** @returns {TenantTableHandle} */
  get tenant() {
    return new TenantTableHandle(this.connection.clientCache.getOrCreateTable(REMOTE_MODULE.tables.tenant));
  }
}

export class SubscriptionBuilder extends SubscriptionBuilderImpl {}

/**
 * The connection: `DbConnection.builder().withUri(uri).withModuleName(db).withToken(token)
 * .withCompression('none').onConnect(cb).onConnectError(cb).build()`.
 */
export class DbConnection extends DbConnectionImpl {
  static builder = () => new DbConnectionBuilder(REMOTE_MODULE, (imp) => imp);
  subscriptionBuilder = () => new SubscriptionBuilder(this);
}
