// Rate-limit and quota counter contracts: fixed windows and per-period allowances, atomic on every backend.
import type { ManagedStore } from './lifecycle.js';

export interface RateLimitHit {
  /** Hits in the current window, this one included. */
  totalHits: number;
  /** When the current window ends. */
  resetTime: Date;
}

/**
 * Fixed-window hit counters behind `rateLimit()`: express-rate-limit's `Store` contract (so its community
 * stores, such as rate-limit-redis, serve `rateLimit()` too), plus the store lifecycle of Portcullis.
 * express-rate-limit gives a store to one limiter only; `forLimiter` lets one configured store serve many.
 */
export interface RateLimitStore extends ManagedStore {
  /** Prepended to every key; express-rate-limit's double-count check tells limiters apart by it. */
  readonly prefix: string;
  /** True when counts live in this process only (express-rate-limit's `localKeys`). */
  readonly localKeys: boolean;
  /**
   * express-rate-limit calls it once with the limiter's options: the window comes from them (60 000 ms until
   * then). Called without options by `createStores()`, where it has nothing to do.
   */
  init(options?: { windowMs: number }): Promise<void>;
  /** Counts one hit; starts a window when none is open. Every key it writes expires. */
  increment(key: string): Promise<RateLimitHit>;
  /** Takes one hit back (`countFailuresOnly`: a request that succeeded); never creates a counter. */
  decrement(key: string): Promise<void>;
  /** The current window, if one is open. */
  get(key: string): Promise<RateLimitHit | undefined>;
  resetKey(key: string): Promise<void>;
  /**
   * A store for one more limiter over the same counters (memory or connection): its own window, and its keys
   * prefixed with `name:`, so limiters sharing a configured store never share a counter.
   */
  forLimiter(name: string): RateLimitStore;
}

export interface QuotaUse {
  /** False when the allowance is spent; a refused use is not counted. */
  allowed: boolean;
  used: number;
  limit: number;
  remaining: number;
  /** When the period ends and the allowance renews. */
  resetAt: Date;
}

/** Per-period allowances (apicrud's grants): N uses of a named action per period, on expiring keys. */
export interface QuotaStore extends ManagedStore {
  /** Uses `cost` of the allowance when enough is left; the period starts at the first use. */
  consume(key: string, limit: number, periodMs: number, cost?: number): Promise<QuotaUse>;
  /** The allowance without using any. */
  peek(key: string, limit: number): Promise<QuotaUse>;
  reset(key: string): Promise<void>;
}
