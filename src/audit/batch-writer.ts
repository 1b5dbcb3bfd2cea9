// The audit batch writer: buffers sealed events and writes them in batches through reliable delivery.
import { StoreUnavailableError } from '../errors.js';
import { errorForLog, type Logger } from '../logger.js';
import type { ReliableDelivery } from './delivery.js';
import type { AuditEvent } from './event.js';
import { withDeadline } from './timeout.js';

export interface BatchWriterOptions {
  delivery: ReliableDelivery;
  /** Events per write. */
  batchSize: number;
  /** Full batches written at once while the store is healthy. */
  writeConcurrency: number;
  /** Longest time an event waits in the buffer before a write, in ms (0: write at once). */
  flushInterval: number;
  /** Events buffered before `waitForSpace` makes callers wait. */
  bufferLimit: number;
  /** How long `waitForSpace` and `durable` wait before failing with 503, in ms. */
  maxWait: number;
  /** Budget of one replay of queued batches, in ms. */
  writeTimeout: number;
  /** Pause after a batch nothing accepted, and period of the replay of queued batches, in ms. */
  retryInterval: number;
  logger: Logger;
}

/**
 * The writer's state, all of it here: the buffer, the events being written, the one pump that writes them,
 * its timer and wake-up, and the callers waiting for space or for their event to be durable.
 *
 * One pump at a time takes batches off the buffer: up to `writeConcurrency` full batches at once into a
 * healthy store, one at a time while batches wait in a fallback (so the replay keeps their order). A batch
 * nothing accepted goes back to the front of the buffer and the pump pauses for `retryInterval`.
 */
export class AuditBatchWriter {
  readonly #options: BatchWriterOptions;
  #buffer: AuditEvent[] = [];
  /** Events taken off the buffer whose write has not settled. */
  #inFlight = 0;
  #pumping: Promise<void> | undefined;
  /** Wakes the pump while it waits on a write, when a full batch is ready for another concurrent write. */
  #wake: (() => void) | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #spaceWaiters: (() => void)[] = [];
  /** Callers waiting for their event to be delivered (acknowledged durability); empty otherwise. */
  readonly #durableWaiters = new Map<AuditEvent, () => void>();
  readonly #replayTimer: NodeJS.Timeout;
  /** Events handed to a fallback queue. */
  queued = 0;

  constructor(options: BatchWriterOptions) {
    this.#options = options;
    // Retries queued batches even when no new event arrives, and replays the batches other processes left
    // in a shared queue (a process that is stuck or gone) when this one has none of its own.
    this.#replayTimer = setInterval(() => {
      if (this.#pumping) return;
      if (options.delivery.backlog) void this.#kick();
      else void options.delivery.sweep(options.writeTimeout);
    }, options.retryInterval);
    this.#replayTimer.unref();
  }

  /** True while the buffer is at its limit. */
  get saturated(): boolean {
    return this.#buffer.length >= this.#options.bufferLimit;
  }

  /** Events in memory: buffered plus being written. */
  get depth(): number {
    return this.#buffer.length + this.#inFlight;
  }

  add(event: AuditEvent): void {
    this.#buffer.push(event);
    this.#schedule();
  }

  /** Resolves when the buffer has room; rejects with 503 after `maxWait`. */
  async waitForSpace(): Promise<void> {
    if (this.#buffer.length < this.#options.bufferLimit) return;
    void this.#kick();
    let release!: () => void;
    const space = new Promise<void>((resolve) => (release = resolve));
    this.#spaceWaiters.push(release);
    try {
      await withDeadline(space, this.#options.maxWait);
    } catch {
      this.#spaceWaiters.splice(this.#spaceWaiters.indexOf(release), 1);
      throw new StoreUnavailableError('audit');
    }
  }

  /** Resolves once `event` is in the store or a fallback queue; rejects with 503 after `maxWait`. */
  async durable(event: AuditEvent): Promise<void> {
    const delivered = new Promise<void>((resolve) => this.#durableWaiters.set(event, resolve));
    // A running pump takes this event with the next write (a group commit); an idle one starts now.
    if (!this.#pumping) void this.#kick();
    try {
      await withDeadline(delivered, this.#options.maxWait);
    } catch {
      this.#durableWaiters.delete(event);
      throw new StoreUnavailableError('audit');
    }
  }

  /** Writes everything buffered (to the store or a fallback). After `close`, gives up after three failed rounds. */
  async flush(): Promise<void> {
    let failures = 0;
    while (this.#buffer.length > 0 || this.#pumping) {
      await this.#kick();
      if (this.#buffer.length > 0 && this.#closed && ++failures >= 3) {
        this.#options.logger.error(
          { events: this.#buffer.length },
          'audit events could not be stored or queued at shutdown',
        );
        return;
      }
    }
  }

  /** Stops the timers, flushes, and replays what it can of the queued batches within `writeTimeout`. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#replayTimer);
    await this.flush();
    if (this.#options.delivery.backlog) {
      await this.#options.delivery.replay(this.#options.writeTimeout).catch(() => false);
    }
  }

  #schedule(): void {
    const { batchSize, flushInterval } = this.#options;
    if (this.#pumping) {
      if (this.#wake && this.#buffer.length >= batchSize) this.#wake();
      return;
    }
    if (this.#buffer.length >= batchSize || flushInterval === 0) {
      void this.#kick();
      return;
    }
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#kick();
    }, flushInterval);
  }

  #kick(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#buffer.length > 0 && !this.#closed) this.#schedule();
    });
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    const { delivery, batchSize, writeConcurrency, retryInterval, writeTimeout } = this.#options;
    const writing = new Set<Promise<void>>();
    let failed = false;
    // Resolves when a write settles or, when `wakeable`, when add() fills a batch meanwhile.
    const settled = (wakeable: boolean) => {
      if (!wakeable) return Promise.race(writing);
      const woken = new Promise<void>((resolve) => (this.#wake = resolve));
      return Promise.race([...writing, woken]).finally(() => (this.#wake = undefined));
    };
    while (this.#buffer.length > 0 || delivery.replayDue || writing.size > 0) {
      if (failed) {
        // Nothing accepted a batch: once the other writes settle, pause and try again.
        await Promise.all(writing);
        failed = false;
        this.#releaseWaiters();
        await new Promise((resolve) => setTimeout(resolve, retryInterval));
        if (this.#closed) return;
        continue;
      }
      if (this.#buffer.length === 0 && writing.size === 0) {
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
      if (this.#buffer.length === 0 || (writing.size > 0 && this.#buffer.length < batchSize)) {
        await settled(true);
        continue;
      }
      const batch = this.#takeBatch();
      const write: Promise<void> = delivery
        .deliver(batch)
        .then(
          (outcome) => {
            if (outcome === 'queued') this.queued += batch.length;
            this.#delivered(batch);
          },
          (error: unknown) => {
            // Keep the batch first in line.
            this.#buffer = batch.concat(this.#buffer);
            this.#options.logger.error(
              { err: errorForLog(error), events: batch.length },
              'audit events kept in memory',
            );
            failed = true;
          },
        )
        .finally(() => {
          this.#inFlight -= batch.length;
          writing.delete(write);
          this.#releaseWaiters();
        });
      writing.add(write);
    }
  }

  #takeBatch(): AuditEvent[] {
    const { batchSize } = this.#options;
    const buffer = this.#buffer;
    const batch = buffer.length <= batchSize ? buffer : buffer.slice(0, batchSize);
    this.#buffer = buffer.length <= batchSize ? [] : buffer.slice(batchSize);
    this.#inFlight += batch.length;
    return batch;
  }

  #delivered(batch: readonly AuditEvent[]): void {
    if (this.#durableWaiters.size === 0) return;
    for (const event of batch) {
      const resolve = this.#durableWaiters.get(event);
      if (resolve) {
        this.#durableWaiters.delete(event);
        resolve();
      }
    }
  }

  #releaseWaiters(): void {
    while (this.#buffer.length < this.#options.bufferLimit && this.#spaceWaiters.length > 0) {
      this.#spaceWaiters.shift()!();
    }
  }
}
