// Store contracts, the memory implementations and createStores(config).
export type * from '../src/contracts/index.js';
export * from './memory/index.js';
export {
  createStores,
  type Stores,
  type Connections,
  type HealthReport,
  type CreateStoresOptions,
} from './create-stores.js';
export { mongoCall, redisCall, isMongoUnavailable, isRedisUnavailable, isDuplicateKey } from './errors.js';
export { EncryptedRecordStore, DECRYPTION_ERROR_FIELD, type EncryptedRecordStoreOptions } from './encrypted-records.js';
export { recordStoreFactory, type RecordStoreFactory, type RecordStoreOptions } from './records-factory.js';
