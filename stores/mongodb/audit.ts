// MongoDB audit store: one document per event keyed by its id (idempotent); see audit-document.ts for its form.
import type { Connection } from 'mongoose';
import type { Filter } from 'mongodb';
import { systemClock, type Clock } from '../../src/clock.js';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { checkLimit, checkWhere, decodeCursor, encodeCursor } from '../../src/audit/query.js';
import type { AuditPage, AuditQuery, AuditScanOptions, AuditStore } from '../../src/contracts/audit.js';
import { isDuplicateKey, mongoCall, onlyDuplicateKeys } from './errors.js';
import { expiryOf, fromDocument, toDocument, type AuditDocument, type AuditRetention } from './audit-document.js';
import { ensureTtlIndex, sweepExpired } from './ttl.js';

export interface MongoAuditStoreOptions {
  /** A connected mongoose connection; the store never opens or closes it. */
  connection: Connection;
  /** Collection of events. Default `portcullis_audit`; digests go to `<collection>_digests`. */
  collection?: string;
  /** How long events are kept, in ms. Default 365 days. */
  retention?: number;
  /** How long GET, LIST and SEARCH events are kept, in ms. Default: `retention`. */
  readRetention?: number;
  /**
   * Which secondary indexes `init()` builds on the events collection. `'all'`: time, user, action,
   * resource, stream and expiry indexes. `'auto'` (default): all of them, unless the server cannot use a
   * secondary index for any query (FerretDB v1 on SQLite only pushes `_id` equality down to SQLite and
   * filters and sorts everything else in memory), where they would only slow every write.
   */
  indexes?: 'auto' | 'all';
  now?: Clock;
}

interface DigestDocument extends Omit<AuditDigest, 'id'> {
  _id: string;
  expireAt: Date;
}

const YEAR = 365 * 24 * 3600 * 1000;
const SWEEP_EVERY = 60_000;

export class MongoAuditStore implements AuditStore {
  readonly backend = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #name: string;
  readonly #retention: number;
  readonly #readRetention: number;
  readonly #now: Clock;
  readonly #indexMode: 'auto' | 'all';
  #indexed = true;
  #expiry: 'ttl' | 'sweep' = 'ttl';
  #lastSweep = 0;

  constructor(options: MongoAuditStoreOptions) {
    if (!options?.connection) throw new TypeError('MongoAuditStore: options.connection is required');
    this.#connection = options.connection;
    this.#name = options.collection ?? 'portcullis_audit';
    this.#retention = options.retention ?? YEAR;
    this.#readRetention = Math.min(options.readRetention ?? this.#retention, this.#retention);
    this.#now = options.now ?? systemClock;
    const indexes = options.indexes ?? 'auto';
    if (indexes !== 'auto' && indexes !== 'all') {
      throw new TypeError(`MongoAuditStore: options.indexes must be 'auto' or 'all', not ${JSON.stringify(indexes)}`);
    }
    this.#indexMode = indexes;
  }

  /** After `init()`: whether the secondary indexes were built (see the `indexes` option). */
  get secondaryIndexes(): boolean {
    return this.#indexed;
  }

  get #events() {
    return this.#connection.collection<AuditDocument>(this.#name);
  }

  get #digests() {
    return this.#connection.collection<DigestDocument>(`${this.#name}_digests`);
  }

  async init(): Promise<void> {
    await mongoCall(async () => {
      await ensureTtlIndex(this.#digests, 'expireAt');
      this.#indexed = this.#indexMode === 'all' || (await this.#serverUsesIndexes());
      if (!this.#indexed) {
        // Such a server (FerretDB v1) has no TTL indexes either: expired events are swept.
        this.#expiry = 'sweep';
        return;
      }
      // expireAt already holds each event's own retention (reads may expire sooner), so expire at that instant.
      this.#expiry = await ensureTtlIndex(this.#events, 'expireAt');
      await this.#events.createIndex({ time: -1, _id: -1 }, { name: 'time_id' });
      await this.#events.createIndex({ 'user.id': 1, time: -1 }, { name: 'user_time' });
      await this.#events.createIndex({ action: 1, time: -1 }, { name: 'action_time' });
      await this.#events.createIndex({ resource: 1, resourceId: 1, time: 1 }, { name: 'resource_time' });
      await this.#events.createIndex({ stream: 1, seq: 1 }, { name: 'stream_seq' });
    });
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const retention = this.#retentions();
    const documents = events.map((event) => toDocument(event, expiryOf(event, retention)));
    await mongoCall(async () => {
      await this.#sweepIfDue();
      try {
        await this.#events.insertMany(documents, { ordered: false });
      } catch (error) {
        // A retried batch: the events already stored are skipped, the others were inserted.
        if (!onlyDuplicateKeys(error)) throw error;
      }
    });
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    if (typeof id !== 'string') return undefined;
    // `_id` alone, so FerretDB too looks it up by key instead of scanning; expiry is checked here.
    const document = await mongoCall(() => this.#events.findOne({ _id: id }));
    const expireAt = document?.expireAt;
    if (!document || !(expireAt instanceof Date) || !(expireAt.getTime() > this.#now())) return undefined;
    return fromDocument(document, this.#retentions());
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const limit = checkLimit(query.limit);
    const ascending = query.order === 'asc';
    const clauses: Filter<AuditDocument>[] = [{ expireAt: { $gt: this.#date() } }];
    for (const [field, values] of checkWhere(query.where)) {
      const key = field === 'id' ? '_id' : field;
      clauses.push({ [key]: values.length === 1 ? values[0] : { $in: values } } as Filter<AuditDocument>);
    }
    if (query.from || query.to) {
      clauses.push({ time: { ...(query.from && { $gte: query.from }), ...(query.to && { $lt: query.to }) } });
    }
    if (query.cursor) {
      const { time, id } = decodeCursor(query.cursor);
      const op = ascending ? '$gt' : '$lt';
      const at = new Date(time);
      clauses.push({ $or: [{ time: { [op]: at } }, { time: at, _id: { [op]: id } }] } as Filter<AuditDocument>);
    }
    if (query.filter) clauses.push(renameId(query.filter.mongo) as Filter<AuditDocument>);
    const direction = ascending ? 1 : -1;
    const documents = await mongoCall(() =>
      this.#events
        .find(clauses.length === 1 ? clauses[0]! : { $and: clauses })
        .sort({ time: direction, _id: direction })
        .limit(limit + 1)
        .toArray(),
    );
    const retention = this.#retentions();
    const events = documents.slice(0, limit).map((document) => fromDocument(document, retention));
    return documents.length > limit ? { events, nextCursor: encodeCursor(events.at(-1)!) } : { events };
  }

  async writeDigest(digest: AuditDigest): Promise<void> {
    const { id, ...rest } = digest;
    // A digest expires with the last event it covers, so verification never sees one without the other;
    // one that signs no new event (a heartbeat or close record) proves the stream's end, so it lives from
    // when it was made.
    const retention = digest.stream.endsWith('.r') ? this.#readRetention : this.#retention;
    const since = digest.fromSeq > digest.toSeq ? digest.time : digest.lastTime;
    const expireAt = new Date(Date.parse(since) + retention);
    await mongoCall(async () => {
      try {
        await this.#digests.insertOne({ _id: id, ...rest, expireAt });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    });
  }

  async digests(options: AuditScanOptions = {}): Promise<AuditDigest[]> {
    const filter: Filter<DigestDocument> = { expireAt: { $gt: this.#date() } };
    if (options.stream !== undefined) filter.stream = options.stream;
    const documents = await mongoCall(() => this.#digests.find(filter).toArray());
    return documents.map(({ _id, expireAt: _expireAt, ...rest }) => ({ id: _id, ...rest }));
  }

  async *scan(options: AuditScanOptions = {}): AsyncIterable<AuditEvent> {
    const filter: Filter<AuditDocument> = { expireAt: { $gt: this.#date() } };
    if (options.stream !== undefined) filter.stream = options.stream;
    if (options.afterSeq !== undefined) filter.seq = { $gt: options.afterSeq };
    if (options.from || options.to) {
      filter.time = { ...(options.from && { $gte: options.from }), ...(options.to && { $lt: options.to }) };
    }
    const retention = this.#retentions();
    const cursor = this.#events.find(filter).batchSize(2000);
    try {
      for (;;) {
        const document = await mongoCall(() => cursor.next());
        if (!document) return;
        yield fromDocument(document, retention);
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** The events collection, for maintenance scripts and tamper tests. */
  collection() {
    return this.#events;
  }

  /**
   * False only on FerretDB when an equality filter on an indexed field is not pushed down to its backend
   * (v1 on SQLite): there no query could use a secondary index. Real MongoDB always uses them.
   */
  async #serverUsesIndexes(): Promise<boolean> {
    const db = this.#connection.db;
    if (!db) return true;
    const info = await db.admin().command({ buildInfo: 1 });
    if (typeof info.ferretdbVersion !== 'string') return true;
    try {
      await db.createCollection(this.#name);
    } catch (error) {
      // 48: NamespaceExists.
      if ((error as { code?: unknown }).code !== 48) throw error;
    }
    const plan = (await this.#events.find({ action: 'probe' }).explain()) as { filterPushdown?: unknown };
    return plan.filterPushdown !== false;
  }

  #retentions(): AuditRetention {
    return { retention: this.#retention, readRetention: this.#readRetention };
  }

  #date(): Date {
    return new Date(this.#now());
  }

  async #sweepIfDue(): Promise<void> {
    if (this.#expiry !== 'sweep') return;
    const now = this.#now();
    if (now - this.#lastSweep < SWEEP_EVERY) return;
    this.#lastSweep = now;
    await sweepExpired(this.#events, 'expireAt', new Date(now));
    await sweepExpired(this.#digests, 'expireAt', new Date(now));
  }
}

/** The public field `id` is `_id` in the collection; other names are stored as they are. */
function renameId(filter: Record<string, unknown>): Record<string, unknown> {
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'id') renamed._id = value;
    else if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
      renamed[key] = value.map((item) => renameId(item as Record<string, unknown>));
    } else renamed[key] = value;
  }
  return renamed;
}
