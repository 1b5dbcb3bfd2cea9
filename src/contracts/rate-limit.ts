// Rate-limit and quota counter contracts: fixed windows and per-period allowances, atomic on every backend.
import type { ManagedStore } from './lifecycle.js';

export interface RateLimitHit {
  /** Hits in the current window, this one included. */
  totalHits: number;
  /** When the current window ends. */
  resetTime: Date;
}

/** Fixed-window hit counters behind `rateLimit()`. */
export interface RateLimitStore extends ManagedStore {
  /** Counts one hit; starts a window of `windowMs` when none is open. Every key it writes expires. */
  increment(key: string, windowMs: number): Promise<RateLimitHit>;
  /** Takes one hit back (`countFailuresOnly`: a request that succeeded). */
  decrement(key: string): Promise<void>;
  /** The current window, if one is open. */
  get(key: string): Promise<RateLimitHit | undefined>;
  reset(key: string): Promise<void>;
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
