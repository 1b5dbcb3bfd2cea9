// An in-memory, indexed set of policies: candidate lookup touches only the policies an inquiry can match.
import { ConflictError, NotFoundError } from '../errors.js';
import type { Checker } from './checkers.js';
import { indexModeFor, visitFieldKeys, type FieldKeyVisitor, type IndexMode } from './index-keys.js';
import type { Primitive } from './values.js';
import type { NormalizedInquiry } from './inquiry.js';
import { POLICY_FIELDS, type Policy, type PolicyField } from './policy.js';

const FIELD_VALUE = { subjects: 'subject', actions: 'action', resources: 'resource' } as const;

/**
 * The policies under one key: most keys of a large set belong to one policy (its user, its resource
 * prefix), and a one-element Set costs about 150 bytes, so a lone policy is kept as is.
 */
type Bucket = Policy | Set<Policy>;

const bucketSize = (bucket: Bucket): number => (bucket instanceof Set ? bucket.size : 1);
const sizeOf = (bucket: Bucket | undefined): number => (bucket === undefined ? 0 : bucketSize(bucket));

/** Keys by slot, then by the value itself (a primitive or a prefix): no key strings are built. */
class Buckets<K> {
  readonly #slots = new Map<string, Map<K, Bucket>>();

  get(slot: string, key: K): Bucket | undefined {
    return this.#slots.get(slot)?.get(key);
  }

  get empty(): boolean {
    return this.#slots.size === 0;
  }

  /** True when the key is new. */
  add(slot: string, key: K, policy: Policy): boolean {
    let keys = this.#slots.get(slot);
    if (!keys) this.#slots.set(slot, (keys = new Map()));
    const bucket = keys.get(key);
    if (bucket === undefined) {
      keys.set(key, policy);
      return true;
    }
    if (bucket instanceof Set) bucket.add(policy);
    else if (bucket !== policy) keys.set(key, new Set([bucket, policy]));
    return false;
  }

  /** True when the key is gone with the policy. */
  remove(slot: string, key: K, policy: Policy): boolean {
    const keys = this.#slots.get(slot);
    const bucket = keys?.get(key);
    if (bucket === undefined) return false;
    if (bucket instanceof Set) {
      if (bucket.delete(policy) && bucket.size === 1) keys!.set(key, bucket.values().next().value!);
      return false;
    }
    if (bucket !== policy) return false;
    keys!.delete(key);
    if (keys!.size === 0) this.#slots.delete(slot);
    return true;
  }
}

class FieldIndex {
  readonly exact = new Buckets<Primitive>();
  readonly prefix = new Buckets<string>();
  /** Prefix lengths present per slot, with the number of prefixes of that length, so lookups try only lengths that exist. */
  readonly lengths = new Map<string, Map<number, number>>();
  readonly wild = new Set<Policy>();

  // The policy being added or removed, read by the two visitors below: they are built once per index
  // rather than as closures per policy and field.
  #current: Policy | undefined;
  readonly #adder: FieldKeyVisitor = {
    exact: (slot, value) => void this.exact.add(slot, value, this.#current!),
    prefix: (slot, prefix) => {
      if (!this.prefix.add(slot, prefix, this.#current!)) return;
      let lengths = this.lengths.get(slot);
      if (!lengths) this.lengths.set(slot, (lengths = new Map()));
      lengths.set(prefix.length, (lengths.get(prefix.length) ?? 0) + 1);
    },
    // An attribute map goes under its most selective attribute as the index stands (`{ kind, owner }`
    // under its owner rather than beside every other policy of that kind), the first on ties.
    choose: (slots, hints, from, to) => {
      let best = 0;
      let bestSize = Infinity;
      for (let i = from; i < to; i++) {
        let size = 0;
        for (const value of hints[i]!.exact) size += sizeOf(this.exact.get(slots[i]!, value));
        for (const prefix of hints[i]!.prefixes) size += sizeOf(this.prefix.get(slots[i]!, prefix));
        if (size < bestSize) {
          best = i - from;
          bestSize = size;
        }
      }
      return best;
    },
  };
  readonly #remover: FieldKeyVisitor = {
    exact: (slot, value) => void this.exact.remove(slot, value, this.#current!),
    prefix: (slot, prefix) => {
      if (!this.prefix.remove(slot, prefix, this.#current!)) return;
      const lengths = this.lengths.get(slot);
      const count = (lengths?.get(prefix.length) ?? 1) - 1;
      if (count <= 0) lengths?.delete(prefix.length);
      else lengths?.set(prefix.length, count);
      if (lengths?.size === 0) this.lengths.delete(slot);
    },
    // Wherever the policy went when added, it is in none of the other buckets: removing it there is a no-op.
    choose: () => -1,
  };

  add(policy: Policy, field: PolicyField, mode: IndexMode): void {
    this.#current = policy;
    if (!visitFieldKeys(policy, field, mode, this.#adder)) this.wild.add(policy);
    this.#current = undefined;
  }

  remove(policy: Policy, field: PolicyField, mode: IndexMode): void {
    this.#current = policy;
    if (!visitFieldKeys(policy, field, mode, this.#remover)) this.wild.delete(policy);
    this.#current = undefined;
  }

  /** The buckets an inquiry value reaches and their total size. */
  collect(value: unknown, out: Bucket[]): number {
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

  #slot(slot: string, primitive: Primitive, out: Bucket[]): number {
    let total = 0;
    if (!this.exact.empty) {
      const hit = this.exact.get(slot, primitive);
      if (hit) {
        out.push(hit);
        total += bucketSize(hit);
      }
    }
    if (typeof primitive !== 'string') return total;
    const lengths = this.lengths.get(slot);
    if (!lengths) return total;
    for (const length of lengths.keys()) {
      if (length > primitive.length) continue;
      const prefixHit = this.prefix.get(slot, primitive.slice(0, length));
      if (prefixHit) {
        out.push(prefixHit);
        total += bucketSize(prefixHit);
      }
    }
    return total;
  }
}

type ModeIndex = Record<PolicyField, FieldIndex>;

export type PolicySetChange =
  { kind: 'add' | 'update'; uid: string } | { kind: 'delete'; uid: string } | { kind: 'reset' };

/**
 * Policies held in memory with an index per checker mode and field. `candidates()` returns a superset
 * of the policies that can match (never missing one), usually a handful whatever the policy count.
 */
export class PolicySet {
  readonly #entries = new Map<string, Policy>();
  readonly #indexes: Record<IndexMode, ModeIndex> = {
    rule: newModeIndex(),
    regex: newModeIndex(),
    exact: newModeIndex(),
  };
  readonly #listeners = new Set<(change: PolicySetChange) => void>();
  // Dedupes policies reached through several buckets; emptied after each lookup.
  readonly #seen = new Set<Policy>();
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
    return this.#entries.get(uid);
  }

  *values(): IterableIterator<Policy> {
    yield* this.#entries.values();
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
  candidates(
    inquiry: NormalizedInquiry,
    checker: Checker,
    /** The fields to choose among; `queryFor` leaves out the resources, which it has not read yet. */
    fields: readonly PolicyField[] = POLICY_FIELDS,
  ): Policy[] {
    const mode = indexModeFor(checker.name);
    if (!mode) return this.#scan(checker.policyType);
    const index = this.#indexes[mode];
    // Small lists per field and lookup: cheaper than clearing reused ones, and they keep nothing alive.
    let best: Bucket[] = [];
    let bestTotal = Infinity;
    for (const field of fields) {
      const buckets: Bucket[] = [];
      const total = index[field].collect(inquiry[FIELD_VALUE[field]], buckets);
      if (total < bestTotal) {
        best = buckets;
        bestTotal = total;
        if (total === 0) break;
      }
    }
    const result: Policy[] = [];
    if (bestTotal === 0) return result;
    if (best.length === 1) {
      // One bucket holds each policy once.
      const bucket = best[0]!;
      if (bucket instanceof Set) for (const policy of bucket) result.push(policy);
      else result.push(bucket);
      return result;
    }
    const seen = this.#seen;
    for (const bucket of best) {
      if (!(bucket instanceof Set)) {
        if (!seen.has(bucket)) {
          seen.add(bucket);
          result.push(bucket);
        }
        continue;
      }
      for (const policy of bucket) {
        if (seen.has(policy)) continue;
        seen.add(policy);
        result.push(policy);
      }
    }
    seen.clear();
    return result;
  }

  #scan(type: Policy['type']): Policy[] {
    const result: Policy[] = [];
    for (const policy of this.#entries.values()) if (policy.type === type) result.push(policy);
    return result;
  }

  #insert(policy: Policy): void {
    this.#entries.set(policy.uid, policy);
    const modes = modesOf(policy);
    for (let i = 0; i < modes.length; i++) {
      const index = this.#indexes[modes[i]!];
      index.subjects.add(policy, 'subjects', modes[i]!);
      index.actions.add(policy, 'actions', modes[i]!);
      index.resources.add(policy, 'resources', modes[i]!);
    }
  }

  #remove(uid: string): boolean {
    const policy = this.#entries.get(uid);
    if (!policy) return false;
    this.#entries.delete(uid);
    for (const mode of modesOf(policy)) {
      for (const field of POLICY_FIELDS) this.#indexes[mode][field].remove(policy, field, mode);
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

const RULE_MODES: readonly IndexMode[] = ['rule'];
const STRING_MODES: readonly IndexMode[] = ['regex', 'exact'];

function modesOf(policy: Policy): readonly IndexMode[] {
  return policy.type === 'rule' ? RULE_MODES : STRING_MODES;
}
