// The audit pipeline: builds sealed events, writes them in batches with reliable delivery, signs digests.
import { systemClock, type Clock } from '../clock.js';
import type { AuditStore } from '../contracts/audit.js';
import type { ReliabilityQueue } from '../contracts/queue.js';
import { ConfigError } from '../errors.js';
import { checkOptions, integerOption } from '../options.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Masker } from '../pii/masker.js';
import { AuditBatchWriter } from './batch-writer.js';
import { HashChain, newStreamPrefix } from './chain.js';
import { ReliableDelivery } from './delivery.js';
import { DigestSigner } from './digest-signer.js';
import type { Enricher } from './enrichers.js';
import { EventBuilder } from './event-builder.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import { createHistory, type HistoryFunction } from './history.js';

export interface AuditPipelineOptions {
  /** The primary store (MongoDB, Redis Streams or memory). Required. */
  store: AuditStore;
  /** Durable queues used, in order, while the store fails or is slow (e.g. Redis, then a local file). Default none. */
  fallbacks?: ReliabilityQueue[];
  /** Masks every event before it is stored, queued or logged. Default: no masking. */
  masker?: Masker;
  /** Extra enrichers, run after the default one. Default none. */
  enrichers?: Enricher[];
  /** Run the default enricher (id and timestamp). Default true. */
  defaultEnricher?: boolean;
  /** When false nothing is published (cased's `disable_publishing`). Default true. */
  enabled?: boolean;
  /** Events per write. Default 500. */
  batchSize?: number;
  /**
   * Full batches written to the store at once while it is healthy (1 = one write at a time). Batches may
   * then be stored out of order; every store orders by (time, id) or seq, and the hash chain and digests
   * only count a stream as stored up to its first missing event. Default 1.
   */
  writeConcurrency?: number;
  /** Longest time an event waits in the buffer before a write, in ms. Default 200. */
  flushInterval?: number;
  /** Events buffered in memory before publishers must wait (backpressure). Default 20 000. */
  bufferLimit?: number;
  /** How long `publish` and requests wait for buffer space before failing with 503, in ms. Default 5000. */
  maxWait?: number;
  /** A store or queue call slower than this counts as failed, in ms. Default 3000. */
  writeTimeout?: number;
  /** Pause before retrying a failed store, in ms. Default 1000. */
  retryInterval?: number;
  /** HMAC key for signed digests; without it no digests are written. Default none. */
  signingKey?: string;
  /**
   * How often digests are signed, in ms: every stream of this process gets one per interval, even without
   * new events (a heartbeat), so `audit verify` can tell a live stream from a cut one. Default 60 000.
   */
  digestInterval?: number;
  /**
   * A file outside the store where each stream's newest digest is pinned after every round of digests
   * (`AUDIT_DIGEST_PIN_FILE`); `audit verify --pin FILE` then detects a deleted tail. One file per process.
   * Default none.
   */
  pinFile?: string;
  /** Largest serialized event; larger bodies are replaced by a note of their size. Default 65 536. */
  maxEventBytes?: number;
  /** Stream name prefix of this process's chains. Default: time-based and random. */
  streamPrefix?: string;
  logger?: Logger;
  now?: Clock;
}

const KNOWN_OPTIONS = [
  'store',
  'fallbacks',
  'masker',
  'enrichers',
  'defaultEnricher',
  'enabled',
  'batchSize',
  'writeConcurrency',
  'flushInterval',
  'bufferLimit',
  'maxWait',
  'writeTimeout',
  'retryInterval',
  'signingKey',
  'digestInterval',
  'pinFile',
  'maxEventBytes',
  'streamPrefix',
  'logger',
  'now',
];

export interface AuditPipelineStats {
  published: number;
  stored: number;
  queued: number;
  digests: number;
}

export interface AuditPipeline {
  readonly store: AuditStore;
  readonly enabled: boolean;
  /** Prefix of this process's streams. */
  readonly streamPrefix: string;
  /** Seals and buffers an event; waits while the buffer is full. Resolves with the sealed event. */
  publish(input: AuditEventInput): Promise<AuditEvent | undefined>;
  /** Like `publish` but never waits (the buffer may pass its limit); for code that cannot wait. */
  record(input: AuditEventInput): AuditEvent | undefined;
  /**
   * Resolves once `event` (from `record` or `publish`) is in a durable place: the store or a fallback queue.
   * Rejects with 503 after `maxWait`. The event is written at once, with whatever else is buffered, instead
   * of after `flushInterval`. For answers that must not leave before their event (acknowledged durability).
   */
  durable(event: AuditEvent | undefined): Promise<void>;
  /** True while the buffer is at its limit. */
  readonly saturated: boolean;
  /** Resolves when the buffer has room; rejects with 503 after `maxWait`. */
  waitForSpace(): Promise<void>;
  /** Writes everything buffered (to the store or a fallback). */
  flush(): Promise<void>;
  /** Flushes, replays what it can within `writeTimeout`, signs each stream's close record and stops timers. */
  close(): Promise<void>;
  /** Events in memory: buffered plus being written. For metrics. */
  queueDepth(): number;
  /** Batches waiting in the fallback queues. */
  fallbackDepth(): Promise<number>;
  stats(): AuditPipelineStats;
  /** The states of one record after each change, newest first. */
  history: HistoryFunction;
}

function validateOptions(options: AuditPipelineOptions): void {
  if (options === undefined) throw new ConfigError('options', 'must be an object');
  checkOptions('createAuditPipeline()', options, KNOWN_OPTIONS);
  const store = options.store as Partial<AuditStore> | undefined;
  for (const method of ['write', 'get', 'list', 'writeDigest', 'digests', 'scan'] as const) {
    if (typeof store?.[method] !== 'function') {
      throw new ConfigError('store', `must be an AuditStore (missing ${method}())`);
    }
  }
  if (options.masker !== undefined && typeof options.masker?.mask !== 'function') {
    throw new ConfigError('masker', 'must have a mask(value) method');
  }
  if (options.enrichers !== undefined && !options.enrichers.every((enricher) => typeof enricher === 'function')) {
    throw new ConfigError('enrichers', 'must be a list of functions');
  }
  if (options.signingKey !== undefined && (typeof options.signingKey !== 'string' || options.signingKey.length < 16)) {
    throw new ConfigError('signingKey', 'must be a string of at least 16 characters');
  }
  if (options.pinFile !== undefined && (typeof options.pinFile !== 'string' || options.pinFile === '')) {
    throw new ConfigError('pinFile', 'must be a file path');
  }
  if (options.pinFile !== undefined && options.signingKey === undefined) {
    throw new ConfigError('pinFile', 'pins signed digests, so it needs signingKey');
  }
}

/**
 * Creates the pipeline and checks the fallbacks for batches left by an earlier run. Three parts, each with
 * its own state: the `EventBuilder` (enrich, mask, bound, seal into this process's chains), the
 * `AuditBatchWriter` (buffer, batches, backpressure, acknowledged durability) over `ReliableDelivery`
 * (store, else fallback queues, replayed in order), and the `DigestSigner` (signed digests of this
 * process's own streams).
 */
export async function createAuditPipeline(options: AuditPipelineOptions): Promise<AuditPipeline> {
  validateOptions(options);
  const now = options.now ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const store = options.store;
  const enabled = options.enabled ?? true;
  const writeTimeout = integerOption('writeTimeout', options.writeTimeout, { fallback: 3000, min: 1 });
  const retryInterval = integerOption('retryInterval', options.retryInterval, { fallback: 1000, min: 1 });
  const batching = {
    batchSize: integerOption('batchSize', options.batchSize, { fallback: 500, min: 1 }),
    writeConcurrency: integerOption('writeConcurrency', options.writeConcurrency, { fallback: 1, min: 1 }),
    flushInterval: integerOption('flushInterval', options.flushInterval, { fallback: 200 }),
    bufferLimit: integerOption('bufferLimit', options.bufferLimit, { fallback: 20_000, min: 1 }),
    maxWait: integerOption('maxWait', options.maxWait, { fallback: 5000 }),
  };
  const digestInterval = integerOption('digestInterval', options.digestInterval, { fallback: 60_000, min: 1 });
  const maxEventBytes = integerOption('maxEventBytes', options.maxEventBytes, { fallback: 65_536, min: 1024 });

  const chain = new HashChain(options.streamPrefix ?? newStreamPrefix(now()));
  const builder = new EventBuilder({
    chain,
    masker: options.masker,
    enrichers: options.enrichers ?? [],
    defaultEnricher: options.defaultEnricher !== false,
    maxEventBytes,
    logger,
    now,
  });
  let stored = 0;
  let signer: DigestSigner | undefined;
  const delivery = new ReliableDelivery({
    primary: store,
    fallbacks: options.fallbacks ?? [],
    writeTimeoutMs: writeTimeout,
    retryIntervalMs: retryInterval,
    logger,
    now,
    onStored(events) {
      stored += events.length;
      signer?.onStored(events);
    },
    onQueued: (events) => signer?.onQueued(events),
  });
  await delivery.init();
  const writer = new AuditBatchWriter({ delivery, ...batching, writeTimeout, retryInterval, logger });
  if (options.signingKey) {
    signer = new DigestSigner({
      store,
      streamPrefix: chain.prefix,
      signingKey: options.signingKey,
      digestInterval,
      writeTimeout,
      pinFile: options.pinFile,
      queuesDrained: () => !delivery.backlog,
      logger,
      now,
    });
  }
  let published = 0;
  let closed = false;

  function record(input: AuditEventInput): AuditEvent | undefined {
    if (!enabled) return undefined;
    const event = builder.build(input);
    published++;
    writer.add(event);
    return event;
  }

  return {
    store,
    enabled,
    streamPrefix: chain.prefix,
    record,
    async publish(input) {
      if (!enabled) return undefined;
      await writer.waitForSpace();
      return record(input);
    },
    async durable(event) {
      if (event !== undefined) await writer.durable(event);
    },
    get saturated() {
      return writer.saturated;
    },
    waitForSpace: () => writer.waitForSpace(),
    flush: () => writer.flush(),
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      await signer?.close();
    },
    queueDepth: () => writer.depth,
    fallbackDepth: () => delivery.queuedBatches(),
    stats: () => ({ published, stored, queued: writer.queued, digests: signer?.written ?? 0 }),
    history: createHistory(store),
  };
}
