// In-process policy store: an indexed PolicySet; the embedded default and the fastest source for a Guard.
import type { CheckerName } from '../../src/abac/checkers.js';
import { createChecker } from '../../src/abac/checkers.js';
import { normalizeInquiry, type Inquiry } from '../../src/abac/inquiry.js';
import type { Policy } from '../../src/abac/policy.js';
import { PolicySet } from '../../src/abac/policy-set.js';
import type { AddManyOptions, PolicyChange, PolicyChangeFeed, PolicyStore } from '../../src/contracts/policies.js';
import { alreadyStored, asPolicy, validateBatch, validateList, validatePage } from '../policy-documents.js';

export interface MemoryPolicyStoreOptions {
  /** Policies to start with (built or JSON). */
  policies?: Iterable<unknown>;
}

export class MemoryPolicyStore implements PolicyStore, PolicyChangeFeed {
  readonly backend = 'memory' as const;
  /** The indexed set behind the store; a `Guard` given this store decides from it synchronously. */
  readonly policySet = new PolicySet();

  constructor(options: MemoryPolicyStoreOptions = {}) {
    for (const item of options.policies ?? []) this.policySet.add(asPolicy(item));
  }

  async add(policy: Policy): Promise<void> {
    this.policySet.add(asPolicy(policy));
  }

  async addMany(input: Iterable<unknown>, options: AddManyOptions = {}): Promise<number> {
    const policies = validateList(input);
    const existing = policies.filter((policy) => this.policySet.has(policy.uid)).map((policy) => policy.uid);
    const fresh = existing.length === 0 ? policies : policies.filter((policy) => !this.policySet.has(policy.uid));
    // One reset for subscribers, as the remote stores send, rather than one change per policy.
    if (fresh.length > 0) this.policySet.reset([...this.policySet.values(), ...fresh]);
    options.onProgress?.(policies.length, policies.length);
    if (existing.length > 0) throw alreadyStored(existing, fresh.length);
    return fresh.length;
  }

  async get(uid: string): Promise<Policy | undefined> {
    return typeof uid === 'string' ? this.policySet.get(uid) : undefined;
  }

  async getAll(limit: number, offset = 0): Promise<Policy[]> {
    const page = validatePage(limit, offset);
    return this.#sorted().slice(page.offset, page.offset + page.limit);
  }

  async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const size = validateBatch(batchSize);
    const all = this.#sorted();
    for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
  }

  async update(policy: Policy): Promise<void> {
    this.policySet.update(asPolicy(policy));
  }

  async delete(uid: string): Promise<boolean> {
    return typeof uid === 'string' && this.policySet.delete(uid);
  }

  async findForInquiry(inquiry: Inquiry, checker: CheckerName = 'rules'): Promise<Policy[]> {
    return this.policySet.candidates(normalizeInquiry(inquiry), createChecker(checker));
  }

  async subscribe(listener: (change: PolicyChange) => void): Promise<() => Promise<void>> {
    const stop = this.policySet.onChange((change) => listener(change));
    return async () => void stop();
  }

  #sorted(): Policy[] {
    return [...this.policySet.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  }
}
