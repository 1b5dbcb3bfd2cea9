// Audit capture, framework-free: the event model, pipeline, context, enrichers, history and verification.
export type * from './event.js';
export { READ_ACTIONS } from './event.js';
export { AUDIT_QUERY_FIELDS, type AuditQueryField } from './fields.js';
export {
  createAuditPipeline,
  type AuditPipeline,
  type AuditPipelineOptions,
  type AuditPipelineStats,
} from './pipeline.js';
export { auditPipelineFromConfig, type AuditFromConfigOptions } from './from-config.js';
export { auditContext, type AuditContext } from './context.js';
export { defaultEnricher, type Enricher } from './enrichers.js';
export { changedFields } from './changes.js';
export {
  createHistory,
  rebuildHistory,
  type HistoryEntry,
  type HistoryFunction,
  type HistoryOptions,
} from './history.js';
export {
  verifyEvents,
  type DigestPin,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
  type TamperKind,
} from './verify.js';
export { parsePinFile } from './pin.js';
export { canonicalJson, eventHash } from './canonical.js';
export { signDigest, digestSignatureValid, keyIdOf } from './digest.js';
export { HashChain } from './chain.js';
export { FileReliabilityQueue, type FileReliabilityQueueOptions } from './file-queue.js';
export { ReliableDelivery, DeliveryFailedError } from './delivery.js';
