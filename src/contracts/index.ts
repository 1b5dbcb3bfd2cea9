// Store contracts: the interfaces every memory, MongoDB and Redis implementation satisfies.
export type * from './lifecycle.js';
export type * from './sessions.js';
export type * from './principals.js';
export type * from './rate-limit.js';
export type * from './records.js';
export type * from './audit.js';
export type * from './queue.js';
export type * from './policies.js';
export type * from './store-set.js';
export type * from './residency.js';
export type * from './attachments.js';
