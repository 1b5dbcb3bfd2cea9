// Redis reliability queue: a list of batches; acknowledging removes the head only if it is the batch replayed.
import type { RedisClient } from './client.js';
import type { QueuedBatch, ReliabilityQueue } from '../../src/contracts/queue.js';
import { redisCall } from './errors.js';

export interface RedisReliabilityQueueOptions {
  /** A connected ioredis client; the queue never opens or closes it. */
  client: RedisClient;
  /** The list key. Default `portcullis:audit:fallback`. */
  key?: string;
}

// KEYS: list. ARGV: batch id. Items are "<id>\n<json>", so the head's id is compared without parsing.
const ACK = `
local head = redis.call('LINDEX', KEYS[1], 0)
if head and string.sub(head, 1, #ARGV[1] + 1) == ARGV[1] .. '\\n' then redis.call('LPOP', KEYS[1]) return 1 end
return 0`;

export class RedisReliabilityQueue implements ReliabilityQueue {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #key: string;

  constructor(options: RedisReliabilityQueueOptions) {
    if (!options?.client) throw new TypeError('RedisReliabilityQueue: options.client is required');
    this.#client = options.client;
    this.#key = options.key ?? 'portcullis:audit:fallback';
  }

  async append(batch: QueuedBatch): Promise<void> {
    await redisCall(() => this.#client.rpush(this.#key, `${batch.id}\n${JSON.stringify(batch)}`));
  }

  async peek(): Promise<QueuedBatch | undefined> {
    const head = await redisCall(() => this.#client.lindex(this.#key, 0));
    if (head === null) return undefined;
    return JSON.parse(head.slice(head.indexOf('\n') + 1)) as QueuedBatch;
  }

  async ack(id: string): Promise<void> {
    await redisCall(() => this.#client.eval(ACK, 1, this.#key, id));
  }

  async size(): Promise<number> {
    return redisCall(() => this.#client.llen(this.#key));
  }
}
