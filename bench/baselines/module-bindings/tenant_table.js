// Hand-written in the shape of generated bindings (tenant_table.ts).
import { deepEqual } from '@clockworklabs/spacetimedb-sdk';

/** Table handle for the table `tenant`: `conn.db.tenant`. */
export class TenantTableHandle {
  /** @param {import('@clockworklabs/spacetimedb-sdk').TableCache} tableCache */
  constructor(tableCache) {
    this.tableCache = tableCache;
  }

  count() {
    return this.tableCache.count();
  }

  /** @returns {Iterable<import('./tenant_type.js').Tenant>} */
  iter() {
    return this.tableCache.iter();
  }

  /** Access to the `id` unique index (the primary key); scans the cache, as generated. */
  id = {
    /** @param {string} colVal @returns {import('./tenant_type.js').Tenant | undefined} */
    find: (colVal) => {
      for (const row of this.tableCache.iter()) {
        if (deepEqual(row.id, colVal)) return row;
      }
      return undefined;
    },
  };

  onInsert = (cb) => this.tableCache.onInsert(cb);
  removeOnInsert = (cb) => this.tableCache.removeOnInsert(cb);
  onDelete = (cb) => this.tableCache.onDelete(cb);
  removeOnDelete = (cb) => this.tableCache.removeOnDelete(cb);
  onUpdate = (cb) => this.tableCache.onUpdate(cb);
  removeOnUpdate = (cb) => this.tableCache.removeOnUpdate(cb);
}
