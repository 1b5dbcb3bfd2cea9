// MongoDB session store: one document per session, a TTL index for cleanup, queries that ignore expired ones.
import type { Connection } from 'mongoose';
import { systemClock, type Clock } from '../../src/clock.js';
import type { NewSession, SessionRecord, SessionStore } from '../../src/contracts/sessions.js';
import { ConflictError } from '../../src/errors.js';
import { isDuplicateKey, mongoCall } from './errors.js';
import { validateNewSession } from '../session-validation.js';
import { ensureTtlIndex, sweepExpired } from './ttl.js';

export interface MongoSessionStoreOptions {
  /** A connected mongoose connection; the store never opens or closes it. */
  connection: Connection;
  /** Collection name. Default `portcullis_sessions`. */
  collection?: string;
  now?: Clock;
}

interface SessionDocument {
  _id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  meta: Record<string, string>;
}

export class MongoSessionStore implements SessionStore {
  readonly backend = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #collectionName: string;
  readonly #now: Clock;
  #expiry: 'ttl' | 'sweep' = 'ttl';

  constructor(options: MongoSessionStoreOptions) {
    if (!options?.connection) throw new TypeError('MongoSessionStore: options.connection is required');
    this.#connection = options.connection;
    this.#collectionName = options.collection ?? 'portcullis_sessions';
    this.#now = options.now ?? systemClock;
  }

  get #collection() {
    return this.#connection.collection<SessionDocument>(this.#collectionName);
  }

  async init(): Promise<void> {
    await mongoCall(async () => {
      // The TTL index only reclaims space; reads filter on expiresAt so correctness never waits for it.
      this.#expiry = await ensureTtlIndex(this.#collection, 'expiresAt');
      await this.#collection.createIndex({ userId: 1, createdAt: -1 }, { name: 'userId_createdAt' });
    });
  }

  async create(session: NewSession): Promise<SessionRecord> {
    validateNewSession(session);
    const now = this.#now();
    const document: SessionDocument = {
      _id: session.id,
      userId: session.userId,
      createdAt: new Date(now),
      lastSeenAt: new Date(now),
      expiresAt: new Date(now + session.ttlMs),
      meta: { ...session.meta },
    };
    await mongoCall(async () => {
      // Expired documents linger until the TTL monitor runs (or forever without one); they no longer count.
      if (this.#expiry === 'sweep') await sweepExpired(this.#collection, 'expiresAt', new Date(now));
      else await this.#collection.deleteOne({ _id: session.id, expiresAt: { $lte: new Date(now) } });
      try {
        await this.#collection.insertOne(document);
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('A session with this id already exists.');
        throw error;
      }
    });
    return toRecord(document);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (typeof id !== 'string') return undefined;
    const document = await mongoCall(() => this.#collection.findOne(this.#liveFilter({ _id: id })));
    return document ? toRecord(document) : undefined;
  }

  async touch(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const result = await mongoCall(() =>
      this.#collection.updateOne(this.#liveFilter({ _id: id }), { $set: { lastSeenAt: new Date(this.#now()) } }),
    );
    return result.matchedCount === 1;
  }

  async revoke(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const result = await mongoCall(() => this.#collection.deleteOne(this.#liveFilter({ _id: id })));
    await mongoCall(() => this.#collection.deleteOne({ _id: id }));
    return result.deletedCount === 1;
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    if (typeof userId !== 'string') return [];
    const documents = await mongoCall(() =>
      this.#collection.find(this.#liveFilter({ userId })).sort({ createdAt: -1, _id: 1 }).toArray(),
    );
    return documents.map(toRecord);
  }

  async revokeAllForUser(userId: string): Promise<number> {
    if (typeof userId !== 'string') return 0;
    const result = await mongoCall(() => this.#collection.deleteMany(this.#liveFilter({ userId })));
    await mongoCall(() => this.#collection.deleteMany({ userId }));
    return result.deletedCount;
  }

  #liveFilter<F extends object>(filter: F) {
    return { ...filter, expiresAt: { $gt: new Date(this.#now()) } };
  }
}

function toRecord(document: SessionDocument): SessionRecord {
  return {
    id: document._id,
    userId: document.userId,
    createdAt: document.createdAt,
    expiresAt: document.expiresAt,
    lastSeenAt: document.lastSeenAt,
    meta: { ...document.meta },
  };
}
