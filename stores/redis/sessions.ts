// Redis session store: a hash per session expiring with it, and a per-user sorted set scored by expiry.
import type { RedisClient } from './client.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { NewSession, SessionRecord, SessionStore } from '../../src/contracts/sessions.js';
import { ConflictError } from '../../src/errors.js';
import { redisCall } from './errors.js';
import { validateNewSession } from '../session-validation.js';

export interface RedisSessionStoreOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: RedisClient;
  /** Key prefix. Default `portcullis:`. */
  prefix?: string;
  now?: Clock;
}

// A session hash and its user's index are found by different names (the session id alone must find the
// session), so on a Redis Cluster they live in different slots and no script may touch both. Each step
// below is a script on one key, ordered so that a crash between two steps leaves at worst an index entry
// without a session (ignored by reads, dropped when its score expires), never a session its user's
// "revoke all" cannot reach.

// KEYS: user index. ARGV: id, now, expiresAt. Adds the entry first; the session follows.
const INDEX_ADD = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`;

// KEYS: session hash. ARGV: userId, createdAt, expiresAt, meta, ttlMs. Returns the owner already stored
// under this id (a conflict), or '' once created.
const CREATE = `
local owner = redis.call('HGET', KEYS[1], 'userId')
if owner then return owner end
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'createdAt', ARGV[2], 'lastSeenAt', ARGV[2], 'expiresAt', ARGV[3], 'meta', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return ''`;

// KEYS: session hash. ARGV: lastSeenAt.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
return 1`;

// KEYS: session hash. ARGV: the owner required, or '' for any. Deletes it; returns its owner or false.
const DELETE = `
local owner = redis.call('HGET', KEYS[1], 'userId')
if not owner or (ARGV[1] ~= '' and owner ~= ARGV[1]) then return false end
redis.call('DEL', KEYS[1])
return owner`;

export class RedisSessionStore implements SessionStore {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #sessionPrefix: string;
  readonly #userPrefix: string;
  readonly #now: Clock;

  constructor(options: RedisSessionStoreOptions) {
    if (!options?.client) throw new TypeError('RedisSessionStore: options.client is required');
    this.#client = options.client;
    const prefix = options.prefix ?? 'portcullis:';
    this.#sessionPrefix = `${prefix}session:`;
    this.#userPrefix = `${prefix}user-sessions:`;
    this.#now = options.now ?? systemClock;
  }

  async create(session: NewSession): Promise<SessionRecord> {
    validateNewSession(session);
    const now = this.#now();
    const record: SessionRecord = {
      id: session.id,
      userId: session.userId,
      createdAt: new Date(now),
      lastSeenAt: new Date(now),
      expiresAt: new Date(now + session.ttlMs),
      meta: { ...session.meta },
    };
    const sessionKey = this.#sessionPrefix + session.id;
    const indexKey = this.#userPrefix + session.userId;
    await redisCall(() => this.#client.eval(INDEX_ADD, 1, indexKey, session.id, now, now + session.ttlMs));
    const owner = await redisCall(() =>
      this.#client.eval(
        CREATE,
        1,
        sessionKey,
        session.userId,
        now,
        now + session.ttlMs,
        JSON.stringify(record.meta),
        session.ttlMs,
      ),
    );
    if (owner !== '') {
      // Another user's session has this id: take it back out of this user's index, or their "revoke all"
      // would reach it.
      if (owner !== session.userId) await redisCall(() => this.#client.zrem(indexKey, session.id));
      throw new ConflictError('A session with this id already exists.');
    }
    return record;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (typeof id !== 'string') return undefined;
    const hash = await redisCall(() => this.#client.hgetall(this.#sessionPrefix + id));
    return toRecord(id, hash, this.#now());
  }

  async touch(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const touched = await redisCall(() => this.#client.eval(TOUCH, 1, this.#sessionPrefix + id, this.#now()));
    return touched === 1;
  }

  async revoke(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const owner = await redisCall(() => this.#client.eval(DELETE, 1, this.#sessionPrefix + id, ''));
    if (typeof owner !== 'string') return false;
    await redisCall(() => this.#client.zrem(this.#userPrefix + owner, id));
    return true;
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    if (typeof userId !== 'string') return [];
    const now = this.#now();
    const ids = await redisCall(() => this.#client.zrangebyscore(this.#userPrefix + userId, `(${now}`, '+inf'));
    if (ids.length === 0) return [];
    // One command per session: on a cluster they live on different nodes (the client batches per node).
    const hashes = await redisCall(() => Promise.all(ids.map((id) => this.#client.hgetall(this.#sessionPrefix + id))));
    return ids
      .map((id, index) => toRecord(id, hashes[index] ?? {}, now))
      .filter((record): record is SessionRecord => record !== undefined)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async revokeAllForUser(userId: string): Promise<number> {
    if (typeof userId !== 'string') return 0;
    const indexKey = this.#userPrefix + userId;
    const ids = await redisCall(() => this.#client.zrange(indexKey, '0', '-1'));
    const owners = await redisCall(() =>
      Promise.all(ids.map((id) => this.#client.eval(DELETE, 1, this.#sessionPrefix + id, userId))),
    );
    // Only the entries whose session was deleted leave the index: an entry whose session a concurrent
    // login has not written yet stays, so that session remains reachable.
    const deleted = ids.filter((_, index) => typeof owners[index] === 'string');
    if (deleted.length > 0) await redisCall(() => this.#client.zrem(indexKey, ...deleted));
    return deleted.length;
  }
}

function toRecord(id: string, hash: Record<string, string>, now: number): SessionRecord | undefined {
  if (!hash.userId || !hash.expiresAt) return undefined;
  const expiresAt = Number(hash.expiresAt);
  if (expiresAt <= now) return undefined;
  return {
    id,
    userId: hash.userId,
    createdAt: new Date(Number(hash.createdAt)),
    lastSeenAt: new Date(Number(hash.lastSeenAt)),
    expiresAt: new Date(expiresAt),
    meta: JSON.parse(hash.meta ?? '{}') as Record<string, string>,
  };
}
