// In-memory reliability queue: for tests and single-process setups where durability is not needed.
import type { QueuedBatch, ReliabilityQueue } from '../../src/contracts/queue.js';

export class MemoryReliabilityQueue implements ReliabilityQueue {
  readonly backend = 'memory' as const;
  readonly #batches: QueuedBatch[] = [];

  async append(batch: QueuedBatch): Promise<void> {
    this.#batches.push(structuredClone(batch));
  }

  async peek(): Promise<QueuedBatch | undefined> {
    const head = this.#batches[0];
    return head && structuredClone(head);
  }

  async ack(id: string): Promise<void> {
    if (this.#batches[0]?.id === id) this.#batches.shift();
  }

  async size(): Promise<number> {
    return this.#batches.length;
  }
}
