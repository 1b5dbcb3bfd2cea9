// Redis rate-limit and quota counters: one Lua script per step, so counting and expiry are atomic.
import type { RedisClient } from './client.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { QuotaStore, QuotaUse, RateLimitHit, RateLimitStore } from '../../src/contracts/rate-limit.js';
import { redisCall } from './errors.js';

// Sets the expiry whenever the key has none, so no counter can outlive its window (even one a crash or an
// older client left without a TTL).
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}`;

// DECR on a missing key would create one without expiry.
const DECREMENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local hits = redis.call('DECR', KEYS[1])
  if hits <= 0 then redis.call('DEL', KEYS[1]) end
end
return 0`;

// ARGV: limit, periodMs, cost. Refused uses are not counted.
const CONSUME = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if used + cost > limit then
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  return {0, used, ttl}
end
used = redis.call('INCRBY', KEYS[1], cost)
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {1, used, ttl}`;

type ScriptClient = RedisClient & {
  portcullisRateIncrement(key: string, windowMs: number): Promise<[number, number]>;
  portcullisRateDecrement(key: string): Promise<number>;
  portcullisQuotaConsume(key: string, limit: number, periodMs: number, cost: number): Promise<[number, number, number]>;
};

// defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT, so the scripts survive a Redis restart.
function withScripts(client: RedisClient): ScriptClient {
  const scripted = client as ScriptClient;
  if (typeof scripted.portcullisRateIncrement !== 'function') {
    client.defineCommand('portcullisRateIncrement', { numberOfKeys: 1, lua: INCREMENT });
    client.defineCommand('portcullisRateDecrement', { numberOfKeys: 1, lua: DECREMENT });
    client.defineCommand('portcullisQuotaConsume', { numberOfKeys: 1, lua: CONSUME });
  }
  return scripted;
}

export interface RedisCounterOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: RedisClient;
  /** Key prefix. Default `portcullis:`. */
  prefix?: string;
  now?: Clock;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly backend = 'redis' as const;
  readonly localKeys = false;
  /** The full key prefix: the option's prefix, `rl:`, then the limiter names of `forLimiter`. */
  readonly prefix: string;
  readonly #client: ScriptClient;
  readonly #now: Clock;
  #windowMs = 60_000;

  constructor(options: RedisCounterOptions) {
    if (!options?.client) throw new TypeError('RedisRateLimitStore: options.client is required');
    this.#client = withScripts(options.client);
    this.prefix = `${options.prefix ?? 'portcullis:'}rl:`;
    this.#now = options.now ?? systemClock;
  }

  async init(options?: { windowMs: number }): Promise<void> {
    if (options) this.#windowMs = options.windowMs;
  }

  forLimiter(name: string): RedisRateLimitStore {
    const view = new RedisRateLimitStore({ client: this.#client, now: this.#now });
    (view as { prefix: string }).prefix = `${this.prefix}${name}:`;
    return view;
  }

  async increment(key: string): Promise<RateLimitHit> {
    const [hits, ttl] = await redisCall(() => this.#client.portcullisRateIncrement(this.prefix + key, this.#windowMs));
    return { totalHits: Number(hits), resetTime: new Date(this.#now() + Number(ttl)) };
  }

  async decrement(key: string): Promise<void> {
    await redisCall(() => this.#client.portcullisRateDecrement(this.prefix + key));
  }

  async get(key: string): Promise<RateLimitHit | undefined> {
    const results = await redisCall(() =>
      this.#client
        .multi()
        .get(this.prefix + key)
        .pttl(this.prefix + key)
        .exec(),
    );
    const hits = results?.[0]?.[1] as string | null;
    const ttl = Number(results?.[1]?.[1]);
    if (hits === null || hits === undefined || ttl < 0) return undefined;
    return { totalHits: Number(hits), resetTime: new Date(this.#now() + ttl) };
  }

  async resetKey(key: string): Promise<void> {
    await redisCall(() => this.#client.del(this.prefix + key));
  }
}

export class RedisQuotaStore implements QuotaStore {
  readonly backend = 'redis' as const;
  readonly #client: ScriptClient;
  readonly #prefix: string;
  readonly #now: Clock;

  constructor(options: RedisCounterOptions) {
    if (!options?.client) throw new TypeError('RedisQuotaStore: options.client is required');
    this.#client = withScripts(options.client);
    this.#prefix = `${options.prefix ?? 'portcullis:'}quota:`;
    this.#now = options.now ?? systemClock;
  }

  async consume(key: string, limit: number, periodMs: number, cost = 1): Promise<QuotaUse> {
    const [allowed, used, ttl] = await redisCall(() =>
      this.#client.portcullisQuotaConsume(this.#prefix + key, limit, periodMs, cost),
    );
    const usedCount = Number(used);
    return {
      allowed: Number(allowed) === 1,
      used: usedCount,
      limit,
      remaining: Math.max(0, limit - usedCount),
      resetAt: new Date(this.#now() + Number(ttl)),
    };
  }

  async peek(key: string, limit: number): Promise<QuotaUse> {
    const results = await redisCall(() =>
      this.#client
        .multi()
        .get(this.#prefix + key)
        .pttl(this.#prefix + key)
        .exec(),
    );
    const used = Number((results?.[0]?.[1] as string | null) ?? 0);
    const ttl = Math.max(0, Number(results?.[1]?.[1]));
    return {
      allowed: used < limit,
      used,
      limit,
      remaining: Math.max(0, limit - used),
      resetAt: new Date(this.#now() + ttl),
    };
  }

  async reset(key: string): Promise<void> {
    await redisCall(() => this.#client.del(this.#prefix + key));
  }
}
