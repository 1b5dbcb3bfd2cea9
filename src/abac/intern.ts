// A bounded table for sharing equal immutable values (rules, compiled patterns) across loaded policies.

/**
 * Two generations of at most `limit` entries each: a new entry goes to the young one; when it is full it
 * becomes the old one and the previous old one is dropped; a hit in the old one moves back to the young.
 * So a value met again and again (the `In("read", "get")` of every policy) stays shared for good, one met
 * once (`Eq("alice")`) is forgotten after at most `2 × limit` newer ones, and memory stays bounded.
 */
export class InternTable<K, V> {
  readonly #limit: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= this.#limit) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}
