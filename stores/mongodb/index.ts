// `portcullis/mongodb`: the MongoDB stores and helpers; each store takes a connected mongoose connection.
// Gives `Stores.connections.mongodb` its mongoose type.
import './connection-type.js';
export { MongoSessionStore, type MongoSessionStoreOptions } from './sessions.js';
export { MongoPolicyStore, type MongoPolicyStoreOptions } from './policies.js';
export { connectMongo, mongoHealth, type MongoConnectOptions } from '../connections/mongodb.js';
export { MongoPrincipalStore, type MongoPrincipalStoreOptions } from './principals.js';
export { MongoRecordStore, type MongoRecordStoreOptions, type RecordIndex } from './records.js';
export { MongoAttachmentStore, type MongoAttachmentStoreOptions } from './attachments.js';
export { MigrationLog, type Migration } from './migrations.js';
export { mongooseSchemaFor, fieldsOfModel, idTypeOfModel, type AnyModel } from './records-schema.js';
export { MongoAuditStore, type MongoAuditStoreOptions } from './audit.js';
export {
  fieldEncryption,
  decryptionErrorsOf,
  splitDecrypted,
  decryptionProblems,
  type EncryptionPluginOptions,
} from './encryption-plugin.js';
export { mongoRotationSource } from './key-rotation.js';
export { mongoCall, isMongoUnavailable, isDuplicateKey } from './errors.js';
