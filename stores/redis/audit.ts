// Redis Streams audit store: a bounded stream (readable by consumer groups) with per-id keys for idempotence.
import type { RedisClient } from './client.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { READ_ACTIONS } from '../../src/audit/event.js';
import { checkLimit, queryPredicate } from '../../src/audit/query.js';
import type { AuditPage, AuditQuery, AuditScanOptions, AuditStore } from '../../src/contracts/audit.js';
import { ValidationError } from '../../src/errors.js';
import { redisCall } from '../errors.js';

export interface RedisAuditStoreOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: RedisClient;
  /** Key prefix. Default `portcullis:`; the stream is `<prefix>audit:stream`. */
  prefix?: string;
  /** Approximate most entries kept in the stream (`XADD MAXLEN ~`). Default 1 000 000. */
  maxLength?: number;
  /** How long events are kept, in ms (`XTRIM MINID`). Default 365 days. */
  retention?: number;
  /** How long GET, LIST and SEARCH events are listed, in ms. Default: `retention`. */
  readRetention?: number;
  now?: Clock;
}

// KEYS: stream. ARGV: id-key prefix, max length, id TTL (s), min id ('' for none), then id/json pairs.
// An id already recorded is skipped: retried batches never add an entry twice.
const WRITE = `
local added = 0
for i = 5, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'id', ARGV[i], 'e', ARGV[i + 1])
    redis.call('SET', key, entry, 'EX', ARGV[3])
    added = added + 1
  end
end
if ARGV[4] ~= '' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[4]) end
return added`;

const YEAR = 365 * 24 * 3600 * 1000;
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
type Entry = [string, string[]];

export class RedisAuditStore implements AuditStore {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #stream: string;
  readonly #idPrefix: string;
  readonly #digestKey: string;
  readonly #maxLength: number;
  readonly #retention: number;
  readonly #readRetention: number;
  readonly #now: Clock;

  constructor(options: RedisAuditStoreOptions) {
    if (!options?.client) throw new TypeError('RedisAuditStore: options.client is required');
    this.#client = options.client;
    const prefix = options.prefix ?? 'portcullis:';
    this.#stream = `${prefix}audit:stream`;
    this.#idPrefix = `${prefix}audit:id:`;
    this.#digestKey = `${prefix}audit:digests`;
    this.#maxLength = options.maxLength ?? 1_000_000;
    this.#retention = options.retention ?? YEAR;
    this.#readRetention = Math.min(options.readRetention ?? this.#retention, this.#retention);
    this.#now = options.now ?? systemClock;
  }

  /** The stream key, for consumers (`XREADGROUP`). */
  get streamKey(): string {
    return this.#stream;
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const args: (string | number)[] = [
      this.#idPrefix,
      this.#maxLength,
      Math.ceil(this.#retention / 1000),
      `${Math.max(0, this.#now() - this.#retention)}-0`,
    ];
    for (const event of events) args.push(event.id, JSON.stringify(event));
    await redisCall(() => this.#client.eval(WRITE, 1, this.#stream, ...args));
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    if (typeof id !== 'string' || id.length > 256) return undefined;
    const entryId = await redisCall(() => this.#client.get(this.#idPrefix + id));
    if (!entryId) return undefined;
    const entries = (await redisCall(() => this.#client.xrange(this.#stream, entryId, entryId))) as Entry[];
    const event = entries[0] && parse(entries[0]);
    return event && this.#live(event) ? event : undefined;
  }

  /** Lists in stream (arrival) order, newest first by default; replayed events appear where they arrived. */
  async list(query: AuditQuery): Promise<AuditPage> {
    const limit = checkLimit(query.limit);
    const matches = queryPredicate({ ...query, cursor: undefined });
    const ascending = query.order === 'asc';
    let position = query.cursor ? decodeEntryCursor(query.cursor) : undefined;
    const found: { entry: string; event: AuditEvent }[] = [];
    for (;;) {
      const chunk = (await redisCall(() =>
        ascending
          ? this.#client.xrange(this.#stream, position ? `(${position}` : '-', '+', 'COUNT', 500)
          : this.#client.xrevrange(this.#stream, position ? `(${position}` : '+', '-', 'COUNT', 500),
      )) as Entry[];
      for (const entry of chunk) {
        const event = parse(entry);
        if (event && this.#live(event) && matches(event)) found.push({ entry: entry[0], event });
        if (found.length > limit) break;
      }
      if (found.length > limit || chunk.length < 500) break;
      position = chunk.at(-1)![0];
    }
    const page = found.slice(0, limit);
    const events = page.map((item) => item.event);
    return found.length > limit ? { events, nextCursor: encodeEntryCursor(page.at(-1)!.entry) } : { events };
  }

  async writeDigest(digest: AuditDigest): Promise<void> {
    await redisCall(() => this.#client.hsetnx(this.#digestKey, digest.id, JSON.stringify(digest)));
  }

  async digests(options: AuditScanOptions = {}): Promise<AuditDigest[]> {
    const values = await redisCall(() => this.#client.hvals(this.#digestKey));
    return values
      .map((value) => JSON.parse(value) as AuditDigest)
      .filter((digest) => options.stream === undefined || digest.stream === options.stream);
  }

  async *scan(options: AuditScanOptions = {}): AsyncIterable<AuditEvent> {
    const matches = queryPredicate({ limit: 1, from: options.from, to: options.to });
    let start = '-';
    for (;;) {
      const chunk = (await redisCall(() => this.#client.xrange(this.#stream, start, '+', 'COUNT', 1000))) as Entry[];
      for (const entry of chunk) {
        const event = parse(entry);
        if (!event || !this.#live(event) || !matches(event)) continue;
        if (options.stream !== undefined && event.stream !== options.stream) continue;
        yield event;
      }
      if (chunk.length < 1000) return;
      start = `(${chunk.at(-1)![0]}`;
    }
  }

  #live(event: AuditEvent): boolean {
    const retention = READ_ACTIONS.has(event.action) ? this.#readRetention : this.#retention;
    return Date.parse(event.time) + retention > this.#now();
  }
}

function parse(entry: Entry): AuditEvent | undefined {
  const fields = entry[1];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] !== 'e') continue;
    try {
      return JSON.parse(fields[index + 1]!) as AuditEvent;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function encodeEntryCursor(entry: string): string {
  return Buffer.from(`r:${entry}`).toString('base64url');
}

function decodeEntryCursor(cursor: string): string {
  const decoded =
    typeof cursor === 'string' && cursor.length <= 128 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const entry = decoded.startsWith('r:') ? decoded.slice(2) : '';
  if (!ENTRY_ID.test(entry)) throw new ValidationError('The cursor is not valid.', { code: 'validation.cursor' });
  return entry;
}
