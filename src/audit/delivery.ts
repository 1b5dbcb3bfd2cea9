// Reliable delivery (cased's ReliabilityEngine, finished): primary store, else durable fallback tiers, replayed in order.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AuditStore } from '../contracts/audit.js';
import type { ReliabilityQueue } from '../contracts/queue.js';
import { errorForLog, type Logger } from '../logger.js';
import type { AuditEvent } from './event.js';
import { withDeadline } from './timeout.js';

export interface DeliveryOptions {
  primary: AuditStore;
  /** Durable queues tried in order when the primary fails, e.g. Redis then a local file. */
  fallbacks: readonly ReliabilityQueue[];
  /** A primary or fallback call slower than this counts as failed. */
  writeTimeoutMs: number;
  /** How long to wait before retrying the primary after a failure. */
  retryIntervalMs: number;
  logger: Logger;
  now: Clock;
  /** Called with each batch the primary accepted, in the order they were accepted. */
  onStored(events: readonly AuditEvent[]): void;
  /** Called with each batch this process appended to a fallback queue. */
  onQueued?(events: readonly AuditEvent[]): void;
}

/** Raised when neither the primary nor any fallback accepted a batch; the caller keeps it in memory. */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
}

/**
 * Ordering rule: a batch is appended to the fallback tier holding the newest queued batches or a later
 * one, never an earlier one, so replaying tier 0, then tier 1, ... replays batches in the order they came.
 * While anything is queued, new batches queue behind it instead of overtaking it into the primary.
 */
export class ReliableDelivery {
  readonly #options: DeliveryOptions;
  /** Index of the last tier that may hold batches; -1 when all are empty. */
  #tail = -1;
  #nextAttemptAt = 0;
  #primaryDown = false;
  /** The replay under way: concurrent writers share it, so no queued batch is read and acked twice. */
  #replaying: Promise<boolean> | undefined;
  /** Batches queued so far: a replay only declares the queues empty if none was queued while it ran. */
  #queuedCount = 0;
  #sweeping = false;

  constructor(options: DeliveryOptions) {
    this.#options = options;
  }

  /** Finds batches left queued by an earlier run so they are replayed before anything new. */
  async init(): Promise<void> {
    const { fallbacks } = this.#options;
    for (let index = 0; index < fallbacks.length; index++) {
      try {
        if ((await withDeadline(fallbacks[index]!.size(), this.#options.writeTimeoutMs)) > 0) this.#tail = index;
      } catch {
        // Unknown: assume it may hold batches; replay will find out.
        this.#tail = index;
      }
    }
  }

  /** True while batches wait in a fallback queue. */
  get backlog(): boolean {
    return this.#tail >= 0;
  }

  get primaryDown(): boolean {
    return this.#primaryDown;
  }

  /** True when a replay attempt is due. */
  get replayDue(): boolean {
    return this.#tail >= 0 && this.#options.now() >= this.#nextAttemptAt;
  }

  /** Stores the batch in the primary or queues it. Throws `DeliveryFailedError` when nothing took it. */
  async deliver(events: AuditEvent[]): Promise<'stored' | 'queued'> {
    if (this.#tail >= 0 && this.replayDue) await this.replay(this.#options.writeTimeoutMs);
    if (this.#tail < 0 && this.#options.now() >= this.#nextAttemptAt) {
      if (await this.#writePrimary(events)) return 'stored';
    }
    await this.#queue(events);
    return 'queued';
  }

  /** Replays queued batches, oldest first, for about `budgetMs`; true when every queue is empty. */
  replay(budgetMs: number): Promise<boolean> {
    return this.#startReplay(budgetMs, -1);
  }

  /**
   * Replays batches that other processes left in a shared queue while this one has none queued: a process
   * that is stuck (its store client broken) or gone (killed) would otherwise leave them there until it
   * runs again. Batches go to the store as they are: each stream's digests stay its owner's to sign.
   */
  async sweep(budgetMs: number): Promise<void> {
    if (this.#tail >= 0 || this.#replaying || this.#sweeping || this.#options.now() < this.#nextAttemptAt) return;
    this.#sweeping = true;
    try {
      const { fallbacks } = this.#options;
      let last = -1;
      for (let index = 0; index < fallbacks.length; index++) {
        const size = await withDeadline(fallbacks[index]!.size(), this.#options.writeTimeoutMs).catch(() => 0);
        if (size > 0) last = index;
      }
      if (last >= 0) await this.#startReplay(budgetMs, last);
    } finally {
      this.#sweeping = false;
    }
  }

  #startReplay(budgetMs: number, through: number): Promise<boolean> {
    this.#replaying ??= this.#replay(budgetMs, through).finally(() => (this.#replaying = undefined));
    return this.#replaying;
  }

  /** Replays tiers 0 to the last that may hold batches (this process's, or `through` when later). */
  async #replay(budgetMs: number, through: number): Promise<boolean> {
    const deadline = performance.now() + budgetMs;
    const { fallbacks } = this.#options;
    const queuedBefore = this.#queuedCount;
    let skipped = false;
    for (let index = 0; index <= Math.max(this.#tail, through) && index < fallbacks.length; index++) {
      const tier = fallbacks[index]!;
      for (;;) {
        if (performance.now() > deadline) return false;
        let batch;
        try {
          batch = await withDeadline(tier.peek(), this.#options.writeTimeoutMs);
        } catch (error) {
          // This tier is unreachable: later tiers are replayed meanwhile (stores order by seq, not arrival).
          this.#options.logger.warn({ tier: tier.backend, err: errorForLog(error) }, 'audit fallback unreadable');
          skipped = true;
          break;
        }
        if (!batch) break;
        if (!(await this.#writePrimary(batch.events))) return false;
        try {
          await withDeadline(tier.ack(batch.id), this.#options.writeTimeoutMs);
        } catch (error) {
          // The batch stays queued and will be written again: ids make that harmless.
          this.#options.logger.warn({ tier: tier.backend, err: errorForLog(error) }, 'audit fallback ack failed');
          skipped = true;
          break;
        }
      }
    }
    if (skipped || this.#queuedCount !== queuedBefore) return false;
    this.#tail = -1;
    return true;
  }

  /** Batches waiting in the fallback queues (tiers that cannot answer count as 0). */
  async queuedBatches(): Promise<number> {
    let total = 0;
    for (const tier of this.#options.fallbacks) {
      total += await withDeadline(tier.size(), this.#options.writeTimeoutMs).catch(() => 0);
    }
    return total;
  }

  async #writePrimary(events: AuditEvent[]): Promise<boolean> {
    try {
      await withDeadline(this.#options.primary.write(events), this.#options.writeTimeoutMs);
    } catch (error) {
      if (!this.#primaryDown) {
        this.#options.logger.warn({ err: errorForLog(error) }, 'audit store failed; queueing events');
      }
      this.#primaryDown = true;
      this.#nextAttemptAt = this.#options.now() + this.#options.retryIntervalMs;
      return false;
    }
    if (this.#primaryDown) this.#options.logger.info({}, 'audit store is back; replaying queued events');
    this.#primaryDown = false;
    this.#options.onStored(events);
    return true;
  }

  async #queue(events: AuditEvent[]): Promise<void> {
    const { fallbacks } = this.#options;
    const batch = { id: randomUUID(), events };
    for (let index = Math.max(this.#tail, 0); index < fallbacks.length; index++) {
      const tier = fallbacks[index]!;
      try {
        await withDeadline(tier.append(batch), this.#options.writeTimeoutMs);
        // Concurrent writers may queue into different tiers; the tail only ever moves later.
        this.#tail = Math.max(this.#tail, index);
        this.#queuedCount++;
        this.#options.onQueued?.(events);
        return;
      } catch (error) {
        this.#options.logger.warn({ tier: tier.backend, err: errorForLog(error) }, 'audit fallback refused a batch');
      }
    }
    throw new DeliveryFailedError('neither the audit store nor any fallback queue accepted the batch');
  }
}
