// Builds the audit pipeline from the configuration and the stores createStores() made.
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { AuditStore } from '../contracts/audit.js';
import type { ReliabilityQueue } from '../contracts/queue.js';
import type { Logger } from '../logger.js';
import type { Masker } from '../pii/masker.js';
import type { Enricher } from './enrichers.js';
import { FileReliabilityQueue } from './file-queue.js';
import { createAuditPipeline, type AuditPipeline } from './pipeline.js';

export interface AuditFromConfigOptions {
  masker?: Masker;
  enrichers?: Enricher[];
  logger?: Logger;
}

/**
 * The pipeline over `stores.audit`, falling back to `stores.auditQueue` (Redis) and then to
 * `AUDIT_FALLBACK_FILE`, with the batching, retention and signing variables applied.
 */
export async function auditPipelineFromConfig(
  config: Config,
  stores: { audit: AuditStore; auditQueue?: ReliabilityQueue },
  options: AuditFromConfigOptions = {},
): Promise<AuditPipeline> {
  const fallbacks: ReliabilityQueue[] = [];
  if (stores.auditQueue) fallbacks.push(stores.auditQueue);
  if (config.AUDIT_FALLBACK_FILE) {
    const file = new FileReliabilityQueue({ path: config.AUDIT_FALLBACK_FILE });
    try {
      await file.init();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
      throw new ConfigError(
        'AUDIT_FALLBACK_FILE',
        `cannot open ${config.AUDIT_FALLBACK_FILE} for appending (${code})`,
        {
          code: 'config.unusable',
          cause: error,
        },
      );
    }
    fallbacks.push(file);
  }
  return createAuditPipeline({
    store: stores.audit,
    fallbacks,
    masker: options.masker,
    enrichers: options.enrichers,
    logger: options.logger,
    enabled: config.AUDIT_ENABLED,
    batchSize: config.AUDIT_BATCH_SIZE,
    writeConcurrency: config.AUDIT_WRITE_CONCURRENCY,
    flushInterval: config.AUDIT_FLUSH_INTERVAL,
    bufferLimit: config.AUDIT_BUFFER_LIMIT,
    writeTimeout: config.AUDIT_WRITE_TIMEOUT,
    signingKey: config.AUDIT_SIGNING_KEY,
    digestInterval: config.AUDIT_DIGEST_INTERVAL,
    pinFile: config.AUDIT_DIGEST_PIN_FILE,
  });
}
