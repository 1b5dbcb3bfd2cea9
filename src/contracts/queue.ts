// The reliability queue contract: a durable FIFO of event batches waiting for the primary audit store.
import type { AuditEvent } from '../audit/event.js';
import type { ManagedStore } from './lifecycle.js';

export interface QueuedBatch {
  /** Unique per batch; `ack` removes the batch only if it is still the head with this id. */
  id: string;
  events: AuditEvent[];
}

export interface ReliabilityQueue {
  readonly backend: ManagedStore['backend'] | 'file';
  init?(): Promise<void>;
  close?(): Promise<void>;
  /** Appends a batch durably; rejects when the queue cannot take it (then the next tier is tried). */
  append(batch: QueuedBatch): Promise<void>;
  /** The oldest batch without removing it, or `undefined` when empty. */
  peek(): Promise<QueuedBatch | undefined>;
  /** Removes the head batch if its id is `id` (safe when several processes replay one queue). */
  ack(id: string): Promise<void>;
  /** Number of batches waiting. */
  size(): Promise<number>;
}
