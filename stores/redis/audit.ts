// Redis Streams audit store: a bounded stream (readable by consumer groups) with per-id keys for idempotence.
import { isCluster, shardOf, type RedisClient } from './client.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { READ_ACTIONS } from '../../src/audit/event.js';
import { checkLimit, queryPredicate } from '../../src/audit/query.js';
import type { AuditPage, AuditQuery, AuditScanOptions, AuditStore } from '../../src/contracts/audit.js';
import { ValidationError } from '../../src/errors.js';
import { redisCall } from './errors.js';

export interface RedisAuditStoreOptions {
  /** A connected ioredis client (one server or a `Cluster`); the store never opens or closes it. */
  client: RedisClient;
  /**
   * Key prefix. Default `portcullis:`. On one server the stream is `<prefix>audit:stream`; on a Redis
   * Cluster events are spread over 16 shards by audit stream, each `{<prefix>audit:<n>}:stream` with its
   * id keys and digests under the same hash tag.
   */
  prefix?: string;
  /** Approximate most entries kept per stream (`XADD MAXLEN ~`). Default 1 000 000. */
  maxLength?: number;
  /** How long events are kept, in ms (`XTRIM MINID`). Default 365 days. */
  retention?: number;
  /** How long GET, LIST and SEARCH events are listed, in ms. Default: `retention`. */
  readRetention?: number;
  now?: Clock;
}

// KEYS: stream, then one id key per event. ARGV: max length, id TTL (s), min id ('' for none), then
// id/json pairs in the order of the id keys. An id already recorded is skipped: retried batches never
// add an entry twice. Every key it touches is declared and shares the stream's hash slot.
const WRITE = `
local added = 0
for k = 2, #KEYS do
  local i = 4 + (k - 2) * 2
  if redis.call('EXISTS', KEYS[k]) == 0 then
    local entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[i], 'e', ARGV[i + 1])
    redis.call('SET', KEYS[k], entry, 'EX', ARGV[2])
    added = added + 1
  end
end
if ARGV[3] ~= '' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[3]) end
return added`;

const YEAR = 365 * 24 * 3600 * 1000;
// Sixteen hash tags spread over any cluster of up to a few masters with near certainty (a master of
// three misses all sixteen with probability (2/3)^16, 0.15%); a list page reads every shard, so not more.
const CLUSTER_SHARDS = 16;
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;
type Entry = [string, string[]];

interface Shard {
  stream: string;
  idPrefix: string;
  digests: string;
}

interface Position {
  entry: string;
  shard: number;
}

export class RedisAuditStore implements AuditStore {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #shards: readonly Shard[];
  readonly #maxLength: number;
  readonly #retention: number;
  readonly #readRetention: number;
  readonly #now: Clock;

  constructor(options: RedisAuditStoreOptions) {
    if (!options?.client) throw new TypeError('RedisAuditStore: options.client is required');
    this.#client = options.client;
    const prefix = options.prefix ?? 'portcullis:';
    // One server keeps the layout of earlier versions; a cluster gets one hash tag per shard, so that
    // a stream, its events' id keys and its digests sit in one slot and the shards spread over masters.
    const bases = isCluster(options.client)
      ? Array.from({ length: CLUSTER_SHARDS }, (_, index) => `{${prefix}audit:${index}}:`)
      : [`${prefix}audit:`];
    this.#shards = bases.map((base) => ({
      stream: `${base}stream`,
      idPrefix: `${base}id:`,
      digests: `${base}digests`,
    }));
    this.#maxLength = options.maxLength ?? 1_000_000;
    this.#retention = options.retention ?? YEAR;
    this.#readRetention = Math.min(options.readRetention ?? this.#retention, this.#retention);
    this.#now = options.now ?? systemClock;
  }

  /** The Redis stream keys, for consumers (`XREADGROUP`): one on a single server, one per shard on a cluster. */
  get streamKeys(): readonly string[] {
    return this.#shards.map((shard) => shard.stream);
  }

  #shardOf(stream: string): Shard {
    return this.#shards[shardOf(String(stream), this.#shards.length)]!;
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const byShard = new Map<Shard, AuditEvent[]>();
    for (const event of events) {
      const shard = this.#shardOf(event.stream);
      const list = byShard.get(shard);
      if (list) list.push(event);
      else byShard.set(shard, [event]);
    }
    const common = [
      this.#maxLength,
      Math.ceil(this.#retention / 1000),
      `${Math.max(0, this.#now() - this.#retention)}-0`,
    ];
    await redisCall(() =>
      Promise.all(
        [...byShard].map(([shard, batch]) => {
          const keys = [shard.stream, ...batch.map((event) => shard.idPrefix + event.id)];
          const args: (string | number)[] = [...common];
          for (const event of batch) args.push(event.id, JSON.stringify(event));
          return this.#client.eval(WRITE, keys.length, ...keys, ...args);
        }),
      ),
    );
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    if (typeof id !== 'string' || id.length > 256) return undefined;
    // The id alone does not tell the shard: ask each (one GET per shard, batched per node).
    const entryIds = await redisCall(() =>
      Promise.all(this.#shards.map((shard) => this.#client.get(shard.idPrefix + id))),
    );
    const index = entryIds.findIndex((entryId) => entryId !== null);
    if (index < 0) return undefined;
    const entryId = entryIds[index]!;
    const stream = this.#shards[index]!.stream;
    const entries = (await redisCall(() => this.#client.xrange(stream, entryId, entryId))) as Entry[];
    const event = entries[0] && parse(entries[0]);
    return event && this.#live(event) ? event : undefined;
  }

  /**
   * Lists in arrival order (stream entry ids, then shard), newest first by default; replayed events
   * appear where they arrived. On a cluster the shards' streams are merged page by page.
   */
  async list(query: AuditQuery): Promise<AuditPage> {
    const limit = checkLimit(query.limit);
    const matches = queryPredicate({ ...query, cursor: undefined });
    const ascending = query.order === 'asc';
    const after = query.cursor ? decodeEntryCursor(query.cursor, this.#shards.length) : undefined;
    const readers = this.#shards.map((shard, index) => {
      // Entries order by (entry id, shard): past the cursor's entry, a shard on the far side of the
      // cursor's shard may still hold that same entry id.
      const inclusive = after !== undefined && (ascending ? index > after.shard : index < after.shard);
      return new ShardReader(this.#client, shard.stream, ascending, after?.entry, inclusive, limit + 1);
    });
    const found: { position: Position; event: AuditEvent }[] = [];
    while (found.length <= limit) {
      const heads = await Promise.all(readers.map((reader) => reader.peek()));
      let best = -1;
      for (let index = 0; index < heads.length; index += 1) {
        const head = heads[index];
        if (head === undefined) continue;
        if (best < 0) {
          best = index;
          continue;
        }
        const order = compareEntryIds(head[0], heads[best]![0]) || index - best;
        if (ascending ? order < 0 : order > 0) best = index;
      }
      if (best < 0) break;
      const entry = readers[best]!.take();
      const event = parse(entry);
      if (event && this.#live(event) && matches(event))
        found.push({ position: { entry: entry[0], shard: best }, event });
    }
    const page = found.slice(0, limit);
    const events = page.map((item) => item.event);
    return found.length > limit ? { events, nextCursor: encodeEntryCursor(page.at(-1)!.position) } : { events };
  }

  async writeDigest(digest: AuditDigest): Promise<void> {
    const shard = this.#shardOf(digest.stream);
    await redisCall(() => this.#client.hsetnx(shard.digests, digest.id, JSON.stringify(digest)));
  }

  async digests(options: AuditScanOptions = {}): Promise<AuditDigest[]> {
    const shards = options.stream === undefined ? this.#shards : [this.#shardOf(options.stream)];
    const values = await redisCall(() => Promise.all(shards.map((shard) => this.#client.hvals(shard.digests))));
    return values
      .flat()
      .map((value) => JSON.parse(value) as AuditDigest)
      .filter((digest) => options.stream === undefined || digest.stream === options.stream);
  }

  async *scan(options: AuditScanOptions = {}): AsyncIterable<AuditEvent> {
    const matches = queryPredicate({ limit: 1, from: options.from, to: options.to });
    const shards = options.stream === undefined ? this.#shards : [this.#shardOf(options.stream)];
    for (const shard of shards) {
      let start = '-';
      for (;;) {
        const chunk = (await redisCall(() => this.#client.xrange(shard.stream, start, '+', 'COUNT', 1000))) as Entry[];
        for (const entry of chunk) {
          const event = parse(entry);
          if (!event || !this.#live(event) || !matches(event)) continue;
          if (options.stream !== undefined && event.stream !== options.stream) continue;
          if (options.afterSeq !== undefined && !(event.seq > options.afterSeq)) continue;
          yield event;
        }
        if (chunk.length < 1000) break;
        start = `(${chunk.at(-1)![0]}`;
      }
    }
  }

  #live(event: AuditEvent): boolean {
    const retention = READ_ACTIONS.has(event.action) ? this.#readRetention : this.#retention;
    return Date.parse(event.time) + retention > this.#now();
  }
}

/** Reads one shard's stream in order from a position, a chunk at a time, as the merge takes entries. */
class ShardReader {
  readonly #client: RedisClient;
  readonly #stream: string;
  readonly #ascending: boolean;
  #position: string | undefined;
  #inclusive: boolean;
  #chunkSize: number;
  #buffer: Entry[] = [];
  #done = false;

  constructor(
    client: RedisClient,
    stream: string,
    ascending: boolean,
    position: string | undefined,
    inclusive: boolean,
    firstChunk: number,
  ) {
    this.#client = client;
    this.#stream = stream;
    this.#ascending = ascending;
    this.#position = position;
    this.#inclusive = inclusive;
    this.#chunkSize = Math.min(500, firstChunk);
  }

  async peek(): Promise<Entry | undefined> {
    if (this.#buffer.length === 0 && !this.#done) {
      const from =
        this.#position === undefined
          ? this.#ascending
            ? '-'
            : '+'
          : this.#inclusive
            ? this.#position
            : `(${this.#position}`;
      const count = this.#chunkSize;
      const chunk = (await redisCall(() =>
        this.#ascending
          ? this.#client.xrange(this.#stream, from, '+', 'COUNT', count)
          : this.#client.xrevrange(this.#stream, from, '-', 'COUNT', count),
      )) as Entry[];
      this.#buffer = chunk;
      if (chunk.length < count) this.#done = true;
      else {
        this.#position = chunk.at(-1)![0];
        this.#inclusive = false;
      }
      // Later chunks serve filtered pages, which may skip many entries.
      this.#chunkSize = 500;
    }
    return this.#buffer[0];
  }

  take(): Entry {
    return this.#buffer.shift()!;
  }
}

function compareEntryIds(a: string, b: string): number {
  const [, aMs, aSeq] = ENTRY_ID.exec(a)!;
  const [, bMs, bSeq] = ENTRY_ID.exec(b)!;
  return Number(aMs) - Number(bMs) || Number(aSeq) - Number(bSeq);
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

function encodeEntryCursor(position: Position): string {
  return Buffer.from(`r:${position.entry}/${position.shard}`).toString('base64url');
}

function decodeEntryCursor(cursor: string, shards: number): Position {
  const decoded =
    typeof cursor === 'string' && cursor.length <= 128 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const [entry = '', shard = '0'] = decoded.startsWith('r:') ? decoded.slice(2).split('/') : [];
  const index = /^\d{1,3}$/.test(shard) ? Number(shard) : -1;
  if (!ENTRY_ID.test(entry) || index < 0 || index >= shards) {
    throw new ValidationError('The cursor is not valid.', { code: 'validation.cursor' });
  }
  return { entry, shard: index };
}
