// A bounded LRU of decisions keyed by the canonical form of the inquiry, with hit/miss statistics.
import { integerOption } from '../options.js';
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
    this.#maxSize = integerOption('maxSize', options.maxSize, { fallback: 10_000, min: 1 });
    this.#maxKeyLength = integerOption('maxKeyLength', options.maxKeyLength, { fallback: 4096, min: 1 });
  }

  /** Changes whenever the cache is cleared, so a decision computed before a change is not stored after it. */
  get generation(): number {
    return this.#generation;
  }

  /** The cache key of an inquiry, or `undefined` when it cannot be cached (too large, not JSON data). */
  keyOf(inquiry: unknown): string | undefined {
    const walk: KeyWalk = { nodes: 0, maxNodes: this.#maxKeyLength, maxLength: this.#maxKeyLength };
    const key = canonical(inquiry, 0, walk);
    return key !== undefined && key.length <= this.#maxKeyLength ? key : undefined;
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

interface KeyWalk {
  nodes: number;
  readonly maxNodes: number;
  readonly maxLength: number;
}

// Canonical JSON: object keys sorted, strings quoted so 1 and "1" never collide, NaN and Infinity spelt
// out so they never collide with null. Undefined when not cacheable (too big, too deep, not JSON data).
function canonical(value: unknown, depth: number, walk: KeyWalk): string | undefined {
  if (++walk.nodes > walk.maxNodes || depth > 8) return undefined;
  switch (typeof value) {
    case 'string':
      return value.length > walk.maxLength ? undefined : JSON.stringify(value);
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'u';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let index = 0; index < value.length; index++) {
      const item = canonical(value[index], depth + 1, walk);
      if (item === undefined) return undefined;
      out += `${item},`;
    }
    return `${out}]`;
  }
  if (!isPlainObject(value)) return undefined;
  out = '{';
  const keys = Object.keys(value);
  if (keys.length > 1) keys.sort();
  for (const key of keys) {
    const item = canonical(value[key], depth + 1, walk);
    if (item === undefined) return undefined;
    out += `${JSON.stringify(key)}:${item},`;
  }
  return `${out}}`;
}
