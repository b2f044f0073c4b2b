// Hand-written in the shape of generated bindings (document_table.ts).
import { deepEqual } from '@clockworklabs/spacetimedb-sdk';

/**
 * Table handle for the table `document`: `conn.db.document` (a new handle on every access, as generated;
 * the callbacks live in the shared table cache, so that is harmless).
 */
export class DocumentTableHandle {
  /** @param {import('@clockworklabs/spacetimedb-sdk').TableCache} tableCache */
  constructor(tableCache) {
    this.tableCache = tableCache;
  }

  /** @returns {number} the number of rows in the client cache */
  count() {
    return this.tableCache.count();
  }

  /** @returns {Iterable<import('./document_type.js').Document>} (the SDK copies the cache into a new array) */
  iter() {
    return this.tableCache.iter();
  }

  /**
   * Access to the `id` unique index (the primary key): `conn.db.document.id.find(5n)`.
   * Like the 1.3.x generator's output this scans the whole cache: the SDK keeps rows in a Map keyed by
   * primary key but exposes no lookup by key.
   */
  id = {
    /** @param {bigint} colVal @returns {import('./document_type.js').Document | undefined} */
    find: (colVal) => {
      for (const row of this.tableCache.iter()) {
        if (deepEqual(row.id, colVal)) return row;
      }
      return undefined;
    },
  };

  /** @param {(ctx: any, row: import('./document_type.js').Document) => void} cb */
  onInsert = (cb) => this.tableCache.onInsert(cb);
  removeOnInsert = (cb) => this.tableCache.removeOnInsert(cb);
  /** @param {(ctx: any, row: import('./document_type.js').Document) => void} cb */
  onDelete = (cb) => this.tableCache.onDelete(cb);
  removeOnDelete = (cb) => this.tableCache.removeOnDelete(cb);
  // Updates are only defined for tables with primary keys (a delete and an insert of the same key in
  // one transaction).
  /** @param {(ctx: any, oldRow: import('./document_type.js').Document, newRow: import('./document_type.js').Document) => void} cb */
  onUpdate = (cb) => this.tableCache.onUpdate(cb);
  removeOnUpdate = (cb) => this.tableCache.removeOnUpdate(cb);
}
