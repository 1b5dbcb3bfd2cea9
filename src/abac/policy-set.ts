// An in-memory, indexed set of policies: candidate lookup touches only the policies an inquiry can match.
import { ConflictError, NotFoundError } from '../errors.js';
import type { Checker } from './checkers.js';
import { exactKey, indexModeFor, policyFieldKeys, prefixKey, type IndexMode } from './index-keys.js';
import type { Primitive } from './values.js';
import type { NormalizedInquiry } from './inquiry.js';
import { POLICY_FIELDS, type Policy, type PolicyField } from './policy.js';

interface Entry {
  policy: Policy;
  /** Last lookup that yielded this entry; dedupes entries reached through several keys. */
  stamp: number;
}

const FIELD_VALUE = { subjects: 'subject', actions: 'action', resources: 'resource' } as const;

class FieldIndex {
  readonly exact = new Map<string, Set<Entry>>();
  readonly prefix = new Map<string, Set<Entry>>();
  /** Prefix lengths present per slot, with a count, so lookups try only lengths that exist. */
  readonly lengths = new Map<string, Map<number, number>>();
  readonly wild = new Set<Entry>();

  add(entry: Entry, field: PolicyField, mode: IndexMode): void {
    const keys = policyFieldKeys(entry.policy, field, mode);
    if (keys.wild) {
      this.wild.add(entry);
      return;
    }
    for (const key of keys.exact) bucket(this.exact, key).add(entry);
    for (const { slot, prefix } of keys.prefixes) {
      bucket(this.prefix, prefixKey(slot, prefix)).add(entry);
      let lengths = this.lengths.get(slot);
      if (!lengths) this.lengths.set(slot, (lengths = new Map()));
      lengths.set(prefix.length, (lengths.get(prefix.length) ?? 0) + 1);
    }
  }

  remove(entry: Entry, field: PolicyField, mode: IndexMode): void {
    const keys = policyFieldKeys(entry.policy, field, mode);
    if (keys.wild) {
      this.wild.delete(entry);
      return;
    }
    for (const key of keys.exact) unbucket(this.exact, key, entry);
    for (const { slot, prefix } of keys.prefixes) {
      unbucket(this.prefix, prefixKey(slot, prefix), entry);
      const lengths = this.lengths.get(slot);
      const count = (lengths?.get(prefix.length) ?? 1) - 1;
      if (count <= 0) lengths?.delete(prefix.length);
      else lengths?.set(prefix.length, count);
    }
  }

  /** The buckets an inquiry value reaches and their total size. */
  collect(value: unknown, out: Set<Entry>[]): number {
    let total = this.wild.size;
    if (total > 0) out.push(this.wild);
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
        total += this.#slot('', value, out);
      }
      return total;
    }
    if (Array.isArray(value)) return total;
    const object = value as Record<string, unknown>;
    for (const name in object) {
      if (!Object.hasOwn(object, name)) continue;
      const attribute = object[name];
      if (
        attribute === null ||
        typeof attribute === 'string' ||
        typeof attribute === 'number' ||
        typeof attribute === 'boolean'
      ) {
        total += this.#slot(name, attribute, out);
      }
    }
    return total;
  }

  #slot(slot: string, primitive: Primitive, out: Set<Entry>[]): number {
    let total = 0;
    if (this.exact.size > 0) {
      const hit = this.exact.get(exactKey(slot, primitive));
      if (hit) {
        out.push(hit);
        total += hit.size;
      }
    }
    if (typeof primitive !== 'string') return total;
    const lengths = this.lengths.get(slot);
    if (!lengths) return total;
    for (const length of lengths.keys()) {
      if (length > primitive.length) continue;
      const prefixHit = this.prefix.get(prefixKey(slot, primitive.slice(0, length)));
      if (prefixHit) {
        out.push(prefixHit);
        total += prefixHit.size;
      }
    }
    return total;
  }
}

function bucket(map: Map<string, Set<Entry>>, key: string): Set<Entry> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

function unbucket(map: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(entry);
  if (set.size === 0) map.delete(key);
}

type ModeIndex = Record<PolicyField, FieldIndex>;

export type PolicySetChange =
  { kind: 'add' | 'update'; uid: string } | { kind: 'delete'; uid: string } | { kind: 'reset' };

/**
 * Policies held in memory with an index per checker mode and field. `candidates()` returns a superset
 * of the policies that can match (never missing one), usually a handful whatever the policy count.
 */
export class PolicySet {
  readonly #entries = new Map<string, Entry>();
  readonly #indexes: Record<IndexMode, ModeIndex> = {
    rule: newModeIndex(),
    regex: newModeIndex(),
    exact: newModeIndex(),
  };
  readonly #listeners = new Set<(change: PolicySetChange) => void>();
  #stamp = 0;
  // Bucket lists reused by candidates(), which runs synchronously to the end: the lists of the best field
  // so far and of the field being collected, swapped instead of allocated per field and decision.
  #bestBuckets: Set<Entry>[] = [];
  #nextBuckets: Set<Entry>[] = [];
  #revision = 0;

  constructor(policies: Iterable<Policy> = []) {
    for (const policy of policies) this.#insert(policy);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Increments on every change; caches compare it to know they are stale. */
  get revision(): number {
    return this.#revision;
  }

  has(uid: string): boolean {
    return this.#entries.has(uid);
  }

  get(uid: string): Policy | undefined {
    return this.#entries.get(uid)?.policy;
  }

  *values(): IterableIterator<Policy> {
    for (const entry of this.#entries.values()) yield entry.policy;
  }

  /** Adds a policy; a duplicate uid is a `ConflictError`. */
  add(policy: Policy): void {
    if (this.#entries.has(policy.uid)) throw new ConflictError(`A policy with uid "${policy.uid}" already exists.`);
    this.#insert(policy);
    this.#changed({ kind: 'add', uid: policy.uid });
  }

  /** Replaces an existing policy; an unknown uid is a `NotFoundError`. */
  update(policy: Policy): void {
    if (!this.#entries.has(policy.uid)) throw new NotFoundError(`No policy with uid "${policy.uid}".`);
    this.#remove(policy.uid);
    this.#insert(policy);
    this.#changed({ kind: 'update', uid: policy.uid });
  }

  /** Adds or replaces. */
  put(policy: Policy): void {
    const existed = this.#remove(policy.uid);
    this.#insert(policy);
    this.#changed({ kind: existed ? 'update' : 'add', uid: policy.uid });
  }

  delete(uid: string): boolean {
    const existed = this.#remove(uid);
    if (existed) this.#changed({ kind: 'delete', uid });
    return existed;
  }

  /** Replaces the whole content at once (one change event). */
  reset(policies: Iterable<Policy>): void {
    this.#entries.clear();
    for (const mode of Object.keys(this.#indexes) as IndexMode[]) this.#indexes[mode] = newModeIndex();
    for (const policy of policies) this.#insert(policy);
    this.#changed({ kind: 'reset' });
  }

  /** Listens to changes; returns the unsubscribe function. */
  onChange(listener: (change: PolicySetChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The policies of the checker's type that may match the inquiry. Picks the most selective of the
   * subjects, actions and resources indexes; the fuzzy checker cannot be indexed and scans.
   */
  candidates(inquiry: NormalizedInquiry, checker: Checker): Policy[] {
    const mode = indexModeFor(checker.name);
    if (!mode) return this.#scan(checker.policyType);
    const index = this.#indexes[mode];
    let best = this.#bestBuckets;
    let next = this.#nextBuckets;
    best.length = 0;
    let bestTotal = Infinity;
    for (const field of POLICY_FIELDS) {
      next.length = 0;
      const total = index[field].collect(inquiry[FIELD_VALUE[field]], next);
      if (total < bestTotal) {
        [best, next] = [next, best];
        bestTotal = total;
        if (total === 0) break;
      }
    }
    this.#bestBuckets = best;
    this.#nextBuckets = next;
    const result: Policy[] = [];
    if (bestTotal === 0) return result;
    const stamp = ++this.#stamp;
    for (const set of best) {
      for (const entry of set) {
        if (entry.stamp === stamp) continue;
        entry.stamp = stamp;
        result.push(entry.policy);
      }
    }
    // The lists must not keep removed policies' buckets alive.
    best.length = 0;
    next.length = 0;
    return result;
  }

  #scan(type: Policy['type']): Policy[] {
    const result: Policy[] = [];
    for (const entry of this.#entries.values()) if (entry.policy.type === type) result.push(entry.policy);
    return result;
  }

  #insert(policy: Policy): void {
    const entry: Entry = { policy, stamp: 0 };
    this.#entries.set(policy.uid, entry);
    for (const mode of modesOf(policy))
      for (const field of POLICY_FIELDS) this.#indexes[mode][field].add(entry, field, mode);
  }

  #remove(uid: string): boolean {
    const entry = this.#entries.get(uid);
    if (!entry) return false;
    this.#entries.delete(uid);
    for (const mode of modesOf(entry.policy)) {
      for (const field of POLICY_FIELDS) this.#indexes[mode][field].remove(entry, field, mode);
    }
    return true;
  }

  #changed(change: PolicySetChange): void {
    this.#revision++;
    for (const listener of this.#listeners) listener(change);
  }
}

function newModeIndex(): ModeIndex {
  return { subjects: new FieldIndex(), actions: new FieldIndex(), resources: new FieldIndex() };
}

function modesOf(policy: Policy): IndexMode[] {
  return policy.type === 'rule' ? ['rule'] : ['regex', 'exact'];
}
