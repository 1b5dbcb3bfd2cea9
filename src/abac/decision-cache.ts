// A bounded LRU of decisions keyed by the canonical form of the inquiry, with hit/miss statistics.
import { isPlainObject } from './values.js';

export interface DecisionCacheStats {
  hits: number;
  misses: number;
  /** Entries currently held. */
  size: number;
  maxSize: number;
  /** Times the whole cache was dropped because a policy changed. */
  invalidations: number;
}

export interface DecisionCacheOptions {
  /** Most decisions kept; the least recently used is evicted. Default 10 000. */
  maxSize?: number;
  /** Inquiries whose canonical form is longer are not cached. Default 4096 characters. */
  maxKeyLength?: number;
}

export interface CachedDecision {
  allowed: boolean;
  deciders: string[];
  candidates: string[];
  reason: string;
}

export class DecisionCache {
  readonly #entries = new Map<string, CachedDecision>();
  readonly #maxSize: number;
  readonly #maxKeyLength: number;
  #hits = 0;
  #misses = 0;
  #invalidations = 0;
  #generation = 0;

  constructor(options: DecisionCacheOptions = {}) {
    const maxSize = options.maxSize ?? 10_000;
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new TypeError('DecisionCache: maxSize must be a positive integer');
    this.#maxSize = maxSize;
    this.#maxKeyLength = options.maxKeyLength ?? 4096;
  }

  /** Changes whenever the cache is cleared, so a decision computed before a change is not stored after it. */
  get generation(): number {
    return this.#generation;
  }

  /** The cache key of an inquiry, or `undefined` when it cannot be cached (too large, not JSON data). */
  keyOf(inquiry: unknown): string | undefined {
    const parts: string[] = [];
    let length = 0;
    const ok = canonical(inquiry, parts, 0, () => (length += 1) <= this.#maxKeyLength);
    if (!ok) return undefined;
    const key = parts.join('');
    return key.length <= this.#maxKeyLength ? key : undefined;
  }

  get(key: string): CachedDecision | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    // Refresh recency: Map iteration order is insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  set(key: string, decision: CachedDecision, generation: number): void {
    if (generation !== this.#generation) return;
    if (this.#entries.size >= this.#maxSize && !this.#entries.has(key)) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, decision);
  }

  clear(): void {
    this.#entries.clear();
    this.#generation++;
    this.#invalidations++;
  }

  stats(): DecisionCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      size: this.#entries.size,
      maxSize: this.#maxSize,
      invalidations: this.#invalidations,
    };
  }
}

// Canonical JSON: object keys sorted, type-tagged so 1 and "1" never collide. False when not cacheable.
function canonical(value: unknown, out: string[], depth: number, budget: () => boolean): boolean {
  if (!budget() || depth > 8) return false;
  if (value === undefined) out.push('u');
  else if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.push('[');
    for (const item of value) {
      if (!canonical(item, out, depth + 1, budget)) return false;
      out.push(',');
    }
    out.push(']');
  } else if (isPlainObject(value)) {
    out.push('{');
    for (const key of Object.keys(value).sort()) {
      out.push(JSON.stringify(key), ':');
      if (!canonical(value[key], out, depth + 1, budget)) return false;
      out.push(',');
    }
    out.push('}');
  } else {
    return false;
  }
  return true;
}
