// The audit pipeline: enrich, mask, seal and buffer events, then write them in batches with reliable delivery.
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import type { AuditStore } from '../contracts/audit.js';
import type { ReliabilityQueue } from '../contracts/queue.js';
import { ConfigError, StoreUnavailableError, didYouMean } from '../errors.js';
import { errorForLog, silentLogger, type Logger } from '../logger.js';
import { maskOwned, type Masker } from '../pii/masker.js';
import { canonicalCopy, canonicalJson, NestingError } from './canonical.js';
import { HashChain, newStreamPrefix } from './chain.js';
import { auditContext } from './context.js';
import { ReliableDelivery } from './delivery.js';
import { signDigest } from './digest.js';
import { pinOf, writePinFile } from './pin.js';
import { uuidV7Generator, type Enricher } from './enrichers.js';
import type { AuditDigest, AuditEvent, AuditEventBody, AuditEventInput } from './event.js';
import { createHistory, type HistoryFunction } from './history.js';
import { withDeadline } from './timeout.js';
import { isoString } from '../iso-time.js';

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

// Event fields an enricher may set directly; anything else it returns goes into `data`.
const BODY_FIELDS = new Set([
  'id',
  'time',
  'action',
  'resource',
  'resourceId',
  'outcome',
  'status',
  'method',
  'path',
  'pathParams',
  'queryParams',
  'body',
  'user',
  'decision',
  'latencyMs',
  'requestId',
  'changes',
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(name, `must be a number of at least ${min}`, { code: 'config.invalid' });
  }
  return value;
}

function validateOptions(options: AuditPipelineOptions): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if ((options as unknown as Record<string, unknown>)[key] === undefined) continue;
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new ConfigError(key, 'is not an audit pipeline option', {
        code: 'config.unknown',
        hint: didYouMean(key, KNOWN_OPTIONS),
      });
    }
  }
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

/** Creates the pipeline and checks the fallbacks for batches left by an earlier run. */
export async function createAuditPipeline(options: AuditPipelineOptions): Promise<AuditPipeline> {
  validateOptions(options);
  const now = options.now ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const store = options.store;
  const enabled = options.enabled ?? true;
  const batchSize = positive('batchSize', options.batchSize, 500);
  const writeConcurrency = Math.floor(positive('writeConcurrency', options.writeConcurrency, 1));
  const flushInterval = positive('flushInterval', options.flushInterval, 200, 0);
  const bufferLimit = positive('bufferLimit', options.bufferLimit, 20_000);
  const maxWait = positive('maxWait', options.maxWait, 5000, 0);
  const writeTimeout = positive('writeTimeout', options.writeTimeout, 3000);
  const retryInterval = positive('retryInterval', options.retryInterval, 1000);
  const digestInterval = positive('digestInterval', options.digestInterval, 60_000);
  const maxEventBytes = positive('maxEventBytes', options.maxEventBytes, 65_536, 1024);
  const masker = options.masker;
  // The default enricher's work (cased's default plugin), done inline: its ids and times need no checks.
  const nextId = options.defaultEnricher === false ? undefined : uuidV7Generator(now);
  const enrichers = options.enrichers ?? [];
  const chain = new HashChain(options.streamPrefix ?? newStreamPrefix(now()));
  const stats: AuditPipelineStats = { published: 0, stored: 0, queued: 0, digests: 0 };

  // Per stream: the highest seq whose events (and all before it) are in the primary store.
  const committed = new Map<string, { seq: number; hash: string; time: string; ranges: Range[] }>();
  const lastDigest = new Map<string, AuditDigest>();
  interface Range {
    from: number;
    to: number;
    hash: string;
    time: string;
  }

  function onStored(events: readonly AuditEvent[]): void {
    stats.stored += events.length;
    const ranges = new Map<string, Range>();
    for (const event of events) {
      const range = ranges.get(event.stream);
      if (!range) ranges.set(event.stream, { from: event.seq, to: event.seq, hash: event.hash, time: event.time });
      else if (event.seq > range.to) Object.assign(range, { to: event.seq, hash: event.hash, time: event.time });
    }
    for (const [stream, range] of ranges) {
      let state = committed.get(stream);
      // This process's streams start at seq 1 (a later batch may be stored first); a stream first seen here
      // (replayed from an earlier run) starts where its events start.
      const own = stream.startsWith(`${chain.prefix}.`);
      if (!state) committed.set(stream, (state = { seq: own ? 0 : range.from - 1, hash: '', time: '', ranges: [] }));
      state.ranges.push(range);
      state.ranges.sort((a, b) => a.from - b.from);
      while (state.ranges.length > 0 && state.ranges[0]!.from <= state.seq + 1) {
        const next = state.ranges.shift()!;
        if (next.to > state.seq) Object.assign(state, { seq: next.to, hash: next.hash, time: next.time });
      }
    }
  }

  const delivery = new ReliableDelivery({
    primary: store,
    fallbacks: options.fallbacks ?? [],
    writeTimeoutMs: writeTimeout,
    retryIntervalMs: retryInterval,
    logger,
    now,
    onStored,
  });
  await delivery.init();

  let buffer: AuditEvent[] = [];
  let inFlight = 0;
  let pumping: Promise<void> | undefined;
  // Wakes the pump while it waits on a write, when a full batch is ready for another concurrent write.
  let wake: (() => void) | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const spaceWaiters: (() => void)[] = [];
  // Callers waiting for their event to be delivered (acknowledged durability); empty otherwise.
  const durableWaiters = new Map<AuditEvent, () => void>();

  function build(input: AuditEventInput): AuditEvent {
    // The id, time and action stay out of the payload: they are the pipeline's own (or checked) values,
    // never masked, so the masker need not see them and the payload needs no copy without them.
    let id: unknown, time: unknown, action: unknown, requestId: unknown;
    const payload: Record<string, unknown> = {};
    const data: Record<string, unknown> = auditContext.get();
    for (const key of Object.keys(input ?? {})) {
      if (UNSAFE_KEYS.has(key)) continue;
      const value = (input as Record<string, unknown>)[key];
      if (key === 'data' && value && typeof value === 'object') Object.assign(data, value);
      else if (key === 'id') id = value;
      else if (key === 'time') time = value;
      else if (key === 'action') action = value;
      else if (key === 'requestId') requestId = value;
      else if (BODY_FIELDS.has(key)) payload[key] = value;
      else data[key] = value;
    }
    // Ids and times made here are valid by construction; only given ones are checked.
    const madeId = nextId !== undefined && id === undefined;
    const madeTime = nextId !== undefined && time === undefined;
    if (madeId) id = nextId!();
    if (madeTime) time = isoString(now());
    if (enrichers.length > 0) {
      const view = { ...payload, id, time, action };
      enrich(view, payload, data);
      ({ id, time, action } = view);
    }
    if (!madeId && (typeof id !== 'string' || !SAFE_ID.test(id))) id = randomUUID();
    if (!madeTime && (typeof time !== 'string' || Number.isNaN(Date.parse(time)))) time = isoString(now());
    action = typeof action === 'string' && action ? action.slice(0, 128) : 'UNKNOWN';
    // `data` is a fresh null-prototype copy of the context; the canonical copy below makes it plain.
    if (Object.keys(data).length > 0) payload.data = data;
    // The request id stays out of the masker's reach too: it is how a response is matched to its event, and a
    // recognizer found card and phone numbers inside random UUIDs (about 1 in 400).
    requestId ??= payload.requestId;
    delete payload.requestId;
    if (typeof requestId !== 'string' || !SAFE_ID.test(requestId)) requestId = undefined;
    const [body, json] = masked(
      payload as Partial<AuditEventBody>,
      id as string,
      time as string,
      action as string,
      requestId as string | undefined,
    );
    // The body is a fresh copy (canonicalCopy or JSON.parse) that only this event holds.
    return chain.seal(body, json, true);
  }

  /** Runs the extra enrichers; each fills only fields the event lacks. `view` is the event so far. */
  function enrich(view: Record<string, unknown>, payload: Record<string, unknown>, data: Record<string, unknown>) {
    for (const enricher of enrichers) {
      let additions: Record<string, unknown> | undefined;
      try {
        additions = enricher(view as AuditEventInput);
      } catch (error) {
        logger.warn({ err: errorForLog(error) }, 'audit enricher failed; skipped');
        continue;
      }
      for (const key of Object.keys(additions ?? {})) {
        if (UNSAFE_KEYS.has(key)) continue;
        const value = additions![key];
        if (key === 'id' || key === 'time' || key === 'action') {
          if (view[key] === undefined) view[key] = value;
        } else if (BODY_FIELDS.has(key)) {
          if (payload[key] === undefined) view[key] = payload[key] = value;
        } else if (data[key] === undefined) data[key] = value;
      }
    }
  }

  function masked(
    payload: Partial<AuditEventBody>,
    id: string,
    time: string,
    action: string,
    requestId: string | undefined,
  ): [AuditEventBody, string] {
    let result: Record<string, unknown>;
    try {
      result = masker ? maskOwned(masker, payload) : payload;
      if (typeof result !== 'object' || result === null || Array.isArray(result)) {
        throw new TypeError('the masker did not return an object for the event');
      }
      // A masker's own object (frozen, or kept elsewhere) is copied rather than changed below.
      if (result !== payload) result = { ...result };
    } catch (error) {
      // Never store what could not be masked: keep only the request's shape.
      logger.error({ err: errorForLog(error), eventId: id }, 'audit masking failed; event stored without payload');
      const { body: _b, queryParams: _q, pathParams: _p, changes: _c, data: _d, user, ...rest } = payload;
      result = { ...rest, ...(user ? { user: { id: user.id } } : {}), data: { maskFailed: true } };
    }
    // Set after masking: the masker can neither see nor change them.
    result.id = id;
    result.time = time;
    result.action = action;
    if (requestId !== undefined) result.requestId = requestId;
    let body: AuditEventBody;
    let json: string;
    try {
      [body, json] = plainAndJson(result);
    } catch (error) {
      if (!(error instanceof NestingError)) throw error;
      // A payload nested past the bound (a body no jsonBody() measured) is dropped; the event is kept.
      const { body: _b, changes: _c, queryParams: _q, data: _d, ...rest } = result;
      [body, json] = plainAndJson({ ...rest, data: { truncated: true, tooDeep: true } });
    }
    if (json.length > maxEventBytes) {
      const { body: _b, changes: _c, queryParams: _q, data: _d, ...rest } = result;
      [body, json] = plainAndJson({ ...rest, data: { truncated: true, bytes: json.length } });
    }
    return [body, json];
  }

  // The body as plain JSON (what a store gives back) and its canonical text, in one walk when possible.
  function plainAndJson(event: object): [AuditEventBody, string] {
    const copy = canonicalCopy(event);
    if (copy !== undefined) return [copy as AuditEventBody, JSON.stringify(copy)];
    const json = canonicalJson(event);
    return [JSON.parse(json) as AuditEventBody, json];
  }

  function record(input: AuditEventInput): AuditEvent | undefined {
    if (!enabled) return undefined;
    const event = build(input);
    buffer.push(event);
    stats.published++;
    schedule();
    return event;
  }

  function schedule(): void {
    if (pumping) {
      if (wake && buffer.length >= batchSize) wake();
      return;
    }
    if (buffer.length >= batchSize || flushInterval === 0) {
      kick();
      return;
    }
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined;
      kick();
    }, flushInterval);
  }

  function kick(): Promise<void> {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    pumping ??= pump().finally(() => {
      pumping = undefined;
      if (buffer.length > 0 && !closed) schedule();
    });
    return pumping;
  }

  async function pump(): Promise<void> {
    const writing = new Set<Promise<void>>();
    let failed = false;
    // Resolves when a write settles or, when `wakeable`, when record() fills a batch meanwhile.
    const settled = (wakeable: boolean) => {
      if (!wakeable) return Promise.race(writing);
      const woken = new Promise<void>((resolve) => (wake = resolve));
      return Promise.race([...writing, woken]).finally(() => (wake = undefined));
    };
    while (buffer.length > 0 || delivery.replayDue || writing.size > 0) {
      if (failed) {
        // Nothing accepted a batch: once the other writes settle, pause and try again.
        await Promise.all(writing);
        failed = false;
        releaseWaiters();
        await new Promise((resolve) => setTimeout(resolve, retryInterval));
        if (closed) return;
        continue;
      }
      if (buffer.length === 0 && writing.size === 0) {
        await delivery.replay(writeTimeout);
        break;
      }
      // More than one write only for full batches into a healthy store; while batches are queued in a
      // fallback, one write at a time keeps the replay order.
      const lanes = delivery.backlog || delivery.primaryDown ? 1 : writeConcurrency;
      if (writing.size >= lanes) {
        await settled(false);
        continue;
      }
      if (buffer.length === 0 || (writing.size > 0 && buffer.length < batchSize)) {
        await settled(true);
        continue;
      }
      const batch = buffer.length <= batchSize ? buffer : buffer.slice(0, batchSize);
      buffer = buffer.length <= batchSize ? [] : buffer.slice(batchSize);
      inFlight += batch.length;
      const write: Promise<void> = delivery
        .deliver(batch)
        .then(
          (outcome) => {
            if (outcome === 'queued') stats.queued += batch.length;
            if (durableWaiters.size > 0) {
              for (const event of batch) {
                const delivered = durableWaiters.get(event);
                if (delivered) {
                  durableWaiters.delete(event);
                  delivered();
                }
              }
            }
          },
          (error: unknown) => {
            // Keep the batch first in line.
            buffer = batch.concat(buffer);
            logger.error({ err: errorForLog(error), events: batch.length }, 'audit events kept in memory');
            failed = true;
          },
        )
        .finally(() => {
          inFlight -= batch.length;
          writing.delete(write);
          releaseWaiters();
        });
      writing.add(write);
    }
  }

  function releaseWaiters(): void {
    while (buffer.length < bufferLimit && spaceWaiters.length > 0) spaceWaiters.shift()!();
  }

  async function durable(event: AuditEvent | undefined): Promise<void> {
    if (event === undefined) return;
    const delivered = new Promise<void>((resolve) => durableWaiters.set(event, resolve));
    // A running pump takes this event with the next write (a group commit); an idle one starts now.
    if (!pumping) void kick();
    try {
      await withDeadline(delivered, maxWait);
    } catch {
      durableWaiters.delete(event);
      throw new StoreUnavailableError('audit');
    }
  }

  async function waitForSpace(): Promise<void> {
    if (buffer.length < bufferLimit) return;
    kick();
    let release!: () => void;
    const space = new Promise<void>((resolve) => (release = resolve));
    spaceWaiters.push(release);
    try {
      await withDeadline(space, maxWait);
    } catch {
      spaceWaiters.splice(spaceWaiters.indexOf(release), 1);
      throw new StoreUnavailableError('audit');
    }
  }

  // Retries queued batches even when no new event arrives.
  const replayTimer = setInterval(() => {
    if (delivery.backlog && !pumping) void kick();
  }, retryInterval);
  replayTimer.unref();

  /**
   * Signs a digest of each of this process's streams: of the events stored since the last one, or of none
   * (a heartbeat, `fromSeq` past `toSeq`); `final` marks the close record. Streams replayed from an earlier
   * run are not signed here: their digest chain belongs to the process that made them.
   */
  // Per stream, a digest whose write failed or timed out: it is written again, unchanged, before the next.
  const unconfirmed = new Map<string, AuditDigest>();

  async function writeDigests(final = false): Promise<void> {
    if (!options.signingKey) return;
    let written = 0;
    for (const [stream, state] of committed) {
      if (!stream.startsWith(`${chain.prefix}.`) || !state.hash) continue;
      // A write that timed out may still have landed: write that same digest again (stores keep one copy per
      // id) before signing the next, or two digests would follow the same one and the chain would fork.
      const unsure = unconfirmed.get(stream);
      if (unsure) {
        try {
          await withDeadline(store.writeDigest(unsure), writeTimeout);
          unconfirmed.delete(stream);
          lastDigest.set(stream, unsure);
          stats.digests++;
          written++;
        } catch (error) {
          logger.warn({ err: errorForLog(error), stream }, 'audit digest not written; retrying later');
          continue;
        }
      }
      const previous = lastDigest.get(stream);
      const advanced = state.seq > (previous?.toSeq ?? 0);
      const digest: AuditDigest = signDigest(
        {
          stream,
          fromSeq: (previous?.toSeq ?? 0) + 1,
          toSeq: advanced ? state.seq : previous!.toSeq,
          lastHash: advanced ? state.hash : previous!.lastHash,
          lastTime: advanced ? state.time : previous!.lastTime,
          prevSignature: previous?.signature ?? '',
          ...(final ? { final: true } : {}),
        },
        options.signingKey,
        now(),
      );
      try {
        await withDeadline(store.writeDigest(digest), writeTimeout);
        lastDigest.set(stream, digest);
        stats.digests++;
        written++;
      } catch (error) {
        unconfirmed.set(stream, digest);
        logger.warn({ err: errorForLog(error), stream }, 'audit digest not written; retrying later');
      }
    }
    if (written > 0 && options.pinFile) {
      await writePinFile(options.pinFile, [...lastDigest.values()].map(pinOf)).catch((error: unknown) =>
        logger.warn({ err: errorForLog(error), file: options.pinFile }, 'audit digest pin not written'),
      );
    }
  }
  let digesting: Promise<void> | undefined;
  const digestTimer = setInterval(() => {
    digesting ??= writeDigests().finally(() => (digesting = undefined));
  }, digestInterval);
  digestTimer.unref();

  async function flush(): Promise<void> {
    let failures = 0;
    while (buffer.length > 0 || pumping) {
      await kick();
      // After close the pump gives up on a batch nothing accepted instead of retrying forever.
      if (buffer.length > 0 && closed && ++failures >= 3) {
        logger.error({ events: buffer.length }, 'audit events could not be stored or queued at shutdown');
        return;
      }
    }
  }

  return {
    store,
    enabled,
    streamPrefix: chain.prefix,
    record,
    async publish(input) {
      if (!enabled) return undefined;
      await waitForSpace();
      return record(input);
    },
    durable,
    get saturated() {
      return buffer.length >= bufferLimit;
    },
    waitForSpace,
    flush,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(replayTimer);
      clearInterval(digestTimer);
      await flush();
      if (delivery.backlog) await delivery.replay(writeTimeout).catch(() => false);
      await digesting;
      await writeDigests(true);
    },
    queueDepth: () => buffer.length + inFlight,
    fallbackDepth: () => delivery.queuedBatches(),
    stats: () => ({ ...stats }),
    history: createHistory(store),
  };
}
