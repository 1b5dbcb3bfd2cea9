// Redis session store: a hash per session expiring with it, and a per-user sorted set scored by expiry.
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../src/clock.js';
import type { NewSession, SessionRecord, SessionStore } from '../../src/contracts/sessions.js';
import { ConflictError } from '../../src/errors.js';
import { redisCall } from '../errors.js';
import { validateNewSession } from '../session-validation.js';

export interface RedisSessionStoreOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: Redis;
  /** Key prefix. Default `portcullis:`. */
  prefix?: string;
  now?: Clock;
}

// Multi-key steps run as Lua so a crash between them cannot leave a session without its index entry.
// KEYS: session hash, user index. ARGV: id, userId, createdAt, expiresAt, meta, ttlMs.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'createdAt', ARGV[3], 'lastSeenAt', ARGV[3], 'expiresAt', ARGV[4], 'meta', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1`;

// KEYS: session hash. ARGV: lastSeenAt.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
return 1`;

// KEYS: session hash. ARGV: id, user index prefix.
const REVOKE = `
local userId = redis.call('HGET', KEYS[1], 'userId')
if not userId then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[2] .. userId, ARGV[1])
return 1`;

// KEYS: user index. ARGV: session key prefix.
const REVOKE_ALL = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local count = 0
for _, id in ipairs(ids) do count = count + redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[1])
return count`;

export class RedisSessionStore implements SessionStore {
  readonly backend = 'redis' as const;
  readonly #client: Redis;
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
    const created = await redisCall(() =>
      this.#client.eval(
        CREATE,
        2,
        this.#sessionPrefix + session.id,
        this.#userPrefix + session.userId,
        session.id,
        session.userId,
        now,
        now + session.ttlMs,
        JSON.stringify(record.meta),
        session.ttlMs,
      ),
    );
    if (created !== 1) throw new ConflictError('A session with this id already exists.');
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
    const revoked = await redisCall(() => this.#client.eval(REVOKE, 1, this.#sessionPrefix + id, id, this.#userPrefix));
    return revoked === 1;
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    if (typeof userId !== 'string') return [];
    const now = this.#now();
    const ids = await redisCall(() => this.#client.zrangebyscore(this.#userPrefix + userId, `(${now}`, '+inf'));
    if (ids.length === 0) return [];
    const pipeline = this.#client.pipeline();
    for (const id of ids) pipeline.hgetall(this.#sessionPrefix + id);
    const results = (await redisCall(() => pipeline.exec())) ?? [];
    return ids
      .map((id, index) => toRecord(id, (results[index]?.[1] ?? {}) as Record<string, string>, now))
      .filter((record): record is SessionRecord => record !== undefined)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  async revokeAllForUser(userId: string): Promise<number> {
    if (typeof userId !== 'string') return 0;
    const count = await redisCall(() =>
      this.#client.eval(REVOKE_ALL, 1, this.#userPrefix + userId, this.#sessionPrefix),
    );
    return Number(count);
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
