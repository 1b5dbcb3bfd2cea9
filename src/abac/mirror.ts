// An in-memory mirror of a remote policy store, kept in sync across processes through the store's
// change feed: reads and decisions are local and indexed, writes go to the store.
import type { AddManyOptions, PolicyChange, PolicyChangeFeed, PolicyStore } from '../contracts/policies.js';
import { ConflictError } from '../errors.js';
import { errorForLog, silentLogger, type Logger } from '../logger.js';
import { createChecker, type CheckerName } from './checkers.js';
import { normalizeInquiry, type Inquiry } from './inquiry.js';
import type { Policy } from './policy.js';
import { readPolicies } from './policy-json.js';
import { PolicySet } from './policy-set.js';

export interface PolicyMirrorOptions {
  /** The store that holds the policies (MongoDB, Redis, or memory). */
  store: PolicyStore;
  logger?: Logger;
  /** Batch size of the initial load. Default 1000. */
  batchSize?: number;
  /** After a failed refresh, retry a full reload after this long. Default 1000 ms. */
  retryMs?: number;
}

export function hasChangeFeed(store: object): store is PolicyChangeFeed {
  return typeof (store as Partial<PolicyChangeFeed>).subscribe === 'function';
}

/**
 * vakt's EnfoldCache, kept coherent across processes: `init()` loads every policy, then follows the
 * store's change feed (when it has one). Give it to a `Guard` as `policies` for synchronous, indexed
 * decisions; writes through it are visible locally at once and elsewhere as soon as the feed delivers.
 */
export class PolicyMirror implements PolicyStore {
  readonly policySet = new PolicySet();
  readonly #store: PolicyStore;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #retryMs: number;
  #unsubscribe: (() => Promise<void>) | undefined;
  #queue: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PolicyMirrorOptions) {
    if (!options?.store) throw new TypeError('PolicyMirror: options.store is required');
    this.#store = options.store;
    this.#logger = options.logger ?? silentLogger;
    this.#batchSize = options.batchSize ?? 1000;
    this.#retryMs = options.retryMs ?? 1000;
  }

  get backend(): PolicyStore['backend'] {
    return this.#store.backend;
  }

  /** Subscribes to the change feed, then loads everything (so no change between the two is lost). */
  async init(): Promise<void> {
    await this.#store.init?.();
    if (hasChangeFeed(this.#store)) {
      this.#unsubscribe = await this.#store.subscribe(
        (change) => this.#enqueue(() => this.#apply(change)),
        () => this.#enqueue(() => this.#reload()),
      );
    }
    await this.#enqueue(() => this.#reload());
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Resolves once every change received so far is applied (useful in tests and after writes). */
  async settled(): Promise<void> {
    await this.#queue;
  }

  // A write is applied locally through the same queue as the feed, after whatever reload is in flight: a
  // reload that read its snapshot before the write would otherwise put the old state back after it, and
  // this process would keep deciding without a policy it had just answered 201 for.
  async add(policy: Policy): Promise<void> {
    await this.#store.add(policy);
    await this.#enqueue(async () => this.policySet.put(policy));
  }

  async addMany(input: Iterable<unknown>, options?: AddManyOptions): Promise<number> {
    const policies = readPolicies(input, 'policies');
    try {
      const added = await this.#store.addMany(policies, options);
      await this.#enqueue(async () => this.policySet.reset([...this.policySet.values(), ...policies]));
      return added;
    } catch (error) {
      // Some were added, others were already stored (and kept): take the store's state.
      if (error instanceof ConflictError) await this.#enqueue(() => this.#reload());
      throw error;
    }
  }

  async update(policy: Policy): Promise<void> {
    await this.#store.update(policy);
    await this.#enqueue(async () => this.policySet.put(policy));
  }

  async delete(uid: string): Promise<boolean> {
    const deleted = await this.#store.delete(uid);
    await this.#enqueue(async () => void this.policySet.delete(uid));
    return deleted;
  }

  async get(uid: string): Promise<Policy | undefined> {
    // A miss may be a policy added elsewhere whose change is still in flight: ask the store.
    return this.policySet.get(uid) ?? (await this.#store.get(uid));
  }

  async getAll(limit: number, offset = 0): Promise<Policy[]> {
    return sorted(this.policySet.values()).slice(offset, offset + limit);
  }

  async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const all = sorted(this.policySet.values());
    for (let i = 0; i < all.length; i += batchSize) yield all.slice(i, i + batchSize);
  }

  async findForInquiry(inquiry: Inquiry, checker: CheckerName = 'rules'): Promise<Policy[]> {
    return this.policySet.candidates(normalizeInquiry(inquiry), createChecker(checker));
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(task).catch((error: unknown) => {
      this.#logger.error({ err: errorForLog(error) }, 'abac: policy mirror refresh failed; reloading shortly');
      this.#scheduleReload();
    });
    return this.#queue;
  }

  #scheduleReload(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#enqueue(() => this.#reload());
    }, this.#retryMs);
    this.#retry.unref?.();
  }

  async #apply(change: PolicyChange): Promise<void> {
    if (change.kind === 'reset') return this.#reload();
    if (change.kind === 'delete') {
      this.policySet.delete(change.uid);
      return;
    }
    const current = await this.#store.get(change.uid);
    if (current) this.policySet.put(current);
    else this.policySet.delete(change.uid);
  }

  async #reload(): Promise<void> {
    const all: Policy[] = [];
    for await (const batch of this.#store.retrieveAll(this.#batchSize)) all.push(...batch);
    this.policySet.reset(all);
  }
}

function sorted(policies: Iterable<Policy>): Policy[] {
  return [...policies].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}
