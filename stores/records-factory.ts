// Records stores per resource on the configured RECORDS backend: the memory collection or a MongoDB collection.
import type { Connection } from 'mongoose';
import type { Backend } from '../src/config/store-kinds.js';
import type { RecordStore } from '../src/contracts/records.js';
import type { RecordStoreFactory } from '../src/contracts/store-set.js';
import { MemoryRecordStore } from './memory/records.js';
import type * as MongoBackend from './mongodb/index.js';

/**
 * Builds one store per resource (cached by name) from a field declaration: an in-memory collection, or a
 * strict mongoose model (`mongooseSchemaFor`) on the shared connection.
 */
export function recordStoreFactory(
  backend: Backend,
  mongodb: { connection: Connection; backend: typeof MongoBackend } | undefined,
): RecordStoreFactory {
  const stores = new Map<string, RecordStore>();
  return (resource, fields, options = {}) => {
    const existing = stores.get(resource);
    if (existing) return existing;
    const common = {
      ...(options.idPrefix ? { idPrefix: options.idPrefix } : {}),
      ...(options.extraPaths ? { extraPaths: options.extraPaths } : {}),
    };
    let store: RecordStore;
    if (backend === 'mongodb') {
      if (!mongodb) throw new TypeError('the MongoDB server for RECORDS_BACKEND=mongodb is not configured');
      const { connection, backend: mongo } = mongodb;
      const model =
        connection.models[resource] ??
        connection.model(resource, mongo.mongooseSchemaFor(fields), options.collection ?? resource);
      // The declaration itself, not one rebuilt from mongoose types: its flags have no mongoose form.
      store = new mongo.MongoRecordStore({ model, schema: fields, ...common });
    } else {
      store = new MemoryRecordStore({ schema: fields, ...common });
    }
    stores.set(resource, store);
    return store;
  };
}
