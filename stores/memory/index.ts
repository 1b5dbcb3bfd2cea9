// `portcullis/memory`: the in-process stores, the embedded default, held to the same contracts as the others.
export { MemorySessionStore, type MemorySessionStoreOptions } from './sessions.js';
export { MemoryPrincipalStore } from './principals.js';
export {
  MemoryRateLimitStore,
  MemoryQuotaStore,
  type MemoryCounterOptions,
  type MemoryRateLimitOptions,
} from './rate-limit.js';
export { MemoryRecordStore, type MemoryRecordStoreOptions } from './records.js';
export { MemoryAttachmentStore } from './attachments.js';
export { MemoryAuditStore, type MemoryAuditStoreOptions } from './audit.js';
export { MemoryReliabilityQueue } from './audit-queue.js';
export { MemoryPolicyStore, type MemoryPolicyStoreOptions } from './policies.js';
export { EncryptedMemoryCollection, type EncryptedMemoryCollectionOptions } from './encrypted-collection.js';
