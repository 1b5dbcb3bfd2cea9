// In-process rate-limit and quota counters with lazy expiry, held to the same contracts as Redis.
import { systemClock, type Clock } from '../../src/clock.js';
import type { QuotaStore, QuotaUse, RateLimitHit, RateLimitStore } from '../../src/contracts/rate-limit.js';

interface Counter {
  count: number;
  expiresAt: number;
}

export interface MemoryCounterOptions {
  now?: Clock;
  /** Most counters kept; the oldest window is dropped beyond it. Default 100 000. */
  maxKeys?: number;
}

export interface MemoryRateLimitOptions extends MemoryCounterOptions {
  /** Prepended to every key. Default none. */
  prefix?: string;
}

class Counters {
  readonly #map = new Map<string, Counter>();
  readonly #now: Clock;
  readonly #maxKeys: number;
  constructor(options: MemoryCounterOptions) {
    this.#now = options.now ?? systemClock;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }
  now(): number {
    return this.#now();
  }
  live(key: string): Counter | undefined {
    const counter = this.#map.get(key);
    if (counter && counter.expiresAt <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    return counter;
  }
  open(key: string, ttlMs: number): Counter {
    if (this.#map.size >= this.#maxKeys) this.#sweep();
    const counter = { count: 0, expiresAt: this.#now() + ttlMs };
    this.#map.set(key, counter);
    return counter;
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  #sweep(): void {
    const now = this.#now();
    for (const [key, counter] of this.#map) if (counter.expiresAt <= now) this.#map.delete(key);
    if (this.#map.size >= this.#maxKeys) this.#map.delete(this.#map.keys().next().value!);
  }
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly backend = 'memory' as const;
  readonly localKeys = true;
  readonly prefix: string;
  #counters: Counters;
  #windowMs = 60_000;
  constructor(options: MemoryRateLimitOptions = {}) {
    this.#counters = new Counters(options);
    this.prefix = options.prefix ?? '';
  }
  async init(options?: { windowMs: number }): Promise<void> {
    if (options) this.#windowMs = options.windowMs;
  }
  forLimiter(name: string): MemoryRateLimitStore {
    const view = new MemoryRateLimitStore({ prefix: `${this.prefix}${name}:` });
    view.#counters = this.#counters;
    return view;
  }
  async increment(key: string): Promise<RateLimitHit> {
    const full = this.prefix + key;
    const counter = this.#counters.live(full) ?? this.#counters.open(full, this.#windowMs);
    counter.count += 1;
    return { totalHits: counter.count, resetTime: new Date(counter.expiresAt) };
  }
  async decrement(key: string): Promise<void> {
    const counter = this.#counters.live(this.prefix + key);
    if (counter) counter.count = Math.max(0, counter.count - 1);
  }
  async get(key: string): Promise<RateLimitHit | undefined> {
    const counter = this.#counters.live(this.prefix + key);
    return counter && { totalHits: counter.count, resetTime: new Date(counter.expiresAt) };
  }
  async resetKey(key: string): Promise<void> {
    this.#counters.delete(this.prefix + key);
  }
}

export class MemoryQuotaStore implements QuotaStore {
  readonly backend = 'memory' as const;
  readonly #counters: Counters;
  constructor(options: MemoryCounterOptions = {}) {
    this.#counters = new Counters(options);
  }
  async consume(key: string, limit: number, periodMs: number, cost = 1): Promise<QuotaUse> {
    const existing = this.#counters.live(key);
    const used = existing?.count ?? 0;
    if (used + cost > limit) {
      const resetAt = new Date(existing?.expiresAt ?? this.#counters.now() + periodMs);
      return { allowed: false, used, limit, remaining: Math.max(0, limit - used), resetAt };
    }
    const counter = existing ?? this.#counters.open(key, periodMs);
    counter.count += cost;
    return {
      allowed: true,
      used: counter.count,
      limit,
      remaining: Math.max(0, limit - counter.count),
      resetAt: new Date(counter.expiresAt),
    };
  }
  async peek(key: string, limit: number): Promise<QuotaUse> {
    const counter = this.#counters.live(key);
    const used = counter?.count ?? 0;
    return {
      allowed: used < limit,
      used,
      limit,
      remaining: Math.max(0, limit - used),
      resetAt: new Date(counter?.expiresAt ?? this.#counters.now()),
    };
  }
  async reset(key: string): Promise<void> {
    this.#counters.delete(key);
  }
}
