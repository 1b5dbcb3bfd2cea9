// The policy store contract (vakt's Storage): persistence of ABAC policies plus candidate lookup.
import type { CheckerName } from '../abac/checkers.js';
import type { Inquiry } from '../abac/inquiry.js';
import type { Policy } from '../abac/policy.js';
import type { ManagedStore } from './lifecycle.js';

export interface AddManyOptions {
  /** Called after each written batch with the number of policies handled so far (added or already stored). */
  onProgress?: (done: number, total: number) => void;
}

export interface PolicyStore extends ManagedStore {
  /** Stores a new policy; a duplicate uid is a `ConflictError`. */
  add(policy: Policy): Promise<void>;
  /**
   * Stores many new policies at once (a bulk import) and returns how many were added. Every item (built, or
   * JSON in the Portcullis or vakt form) is validated first: when any is invalid, or two share a uid,
   * nothing is written and a `PolicyFileError` names each bad entry by its index. The policies are then
   * written in batches; a uid already stored keeps its stored policy, and once the others are added a
   * `ConflictError` lists those uids. Change feeds report the call as one `reset`.
   */
  addMany(policies: Iterable<unknown>, options?: AddManyOptions): Promise<number>;
  /** The policy with this uid, or `undefined`. */
  get(uid: string): Promise<Policy | undefined>;
  /** A page of policies ordered by uid. `limit` 1..10 000; `offset` ≥ 0 (default 0). */
  getAll(limit: number, offset?: number): Promise<Policy[]>;
  /** Every policy, fetched `batchSize` at a time (default 1000), ordered by uid. */
  retrieveAll(batchSize?: number): AsyncIterable<Policy[]>;
  /** Replaces a stored policy; an unknown uid is a `NotFoundError`. */
  update(policy: Policy): Promise<void>;
  /** Deletes a policy; true when it existed. */
  delete(uid: string): Promise<boolean>;
  /**
   * Policies that may match the inquiry under the checker (default `rules`): a superset of the matching
   * ones, narrowed on the server where the checker allows. The checker still decides.
   */
  findForInquiry(inquiry: Inquiry, checker?: CheckerName): Promise<Policy[]>;
}

/** What changed, as told to other processes. `reset` means "reload everything". */
export type PolicyChange =
  { kind: 'add' | 'update' | 'delete'; uid: string; revision?: number } | { kind: 'reset'; revision?: number };

/** Optional capability: a store that tells every process about changes (Redis pub/sub, MongoDB polling). */
export interface PolicyChangeFeed {
  /**
   * Calls `listener` for every change made by any process (this one included), until the returned
   * function is called. `onGap` runs when changes may have been missed (reconnect): reload then.
   */
  subscribe(listener: (change: PolicyChange) => void, onGap?: () => void): Promise<() => Promise<void>>;
}

/** Optional capability: versioned, reversible schema migrations (indexes). */
export interface PolicyMigrations {
  /** Applied version numbers, ascending. */
  appliedMigrations(): Promise<number[]>;
  /** Applies every pending migration up to `target` (default: all). */
  migrateUp(target?: number): Promise<number[]>;
  /** Rolls back applied migrations above `target` (default: all, to 0). */
  migrateDown(target?: number): Promise<number[]>;
}
