// The Guard: decides inquiries against a policy source. Deny overrides allow, nothing matching denies,
// and any error while deciding denies (logged, never thrown at the caller).
import { withinRegexBudget } from '../regex.js';
import { silentLogger, errorForLog, type Logger } from '../logger.js';
import type { PolicyStore } from '../contracts/policies.js';
import { createChecker, policyMatches, type Checker, type CheckerName } from './checkers.js';
import {
  DecisionCache,
  type CachedDecision,
  type DecisionCacheOptions,
  type DecisionCacheStats,
} from './decision-cache.js';
import type { Decision } from './decision.js';
import { reportPolicy, type PolicyMatchReport } from './explain.js';
import { normalizeInquiry, type Inquiry, type NormalizedInquiry } from './inquiry.js';
import type { Policy } from './policy.js';
import { constantQuery, partialEvaluate, type ResourceQuery } from './partial.js';
import { isPlainObject } from './values.js';
import { PolicySet, type PolicySetChange } from './policy-set.js';

declare module './decision.js' {
  interface Decision {
    /** `allow` or `deny`, as vakt's audit records it. */
    effect?: 'allow' | 'deny';
    /** Uids of the policies the index (or the store) offered; the deciders are among them. */
    candidates?: string[];
    /** True when the answer came from the decision cache. */
    cached?: boolean;
  }
}

/** Anything that holds policies in memory and can be watched: a `PolicySet` or a `PolicyMirror`. */
export interface InMemoryPolicySource {
  readonly policySet: PolicySet;
}

/**
 * Where the guard finds policies: a list, a `PolicySet`, a mirror of a store (all in memory, decided
 * synchronously), or any `PolicyStore` (asked per decision with `findForInquiry`).
 */
export type PolicySource = readonly Policy[] | PolicySet | InMemoryPolicySource | PolicyStore;

export interface GuardOptions {
  /** The policies to decide with. */
  policies: PolicySource;
  /** Which checker matches policy fields. Default `rules` (rule-based policies). */
  checker?: Checker | CheckerName;
  /** Decision cache: `true` for the defaults, options, an instance, or `false`. Default `false`. */
  cache?: boolean | DecisionCacheOptions | DecisionCache;
  /** Where decision errors are logged. Default: nowhere. */
  logger?: Logger;
}

export type DecisionListener = (decision: Decision) => void;

export interface Explanation {
  decision: Decision;
  /** For an allow: the allowing policies. For a deny: the denying policies, or the closest misses. */
  policies: PolicyMatchReport[];
}

const REASONS = {
  allowed: 'allowed by policy',
  denied: 'denied by policy',
  none: 'no policy allows this',
  error: 'the decision failed',
} as const;

export class Guard {
  readonly checker: Checker;
  readonly cache: DecisionCache | undefined;
  readonly #set: PolicySet | undefined;
  readonly #store: PolicyStore | undefined;
  readonly #logger: Logger;
  readonly #listeners = new Set<DecisionListener>();

  constructor(options: GuardOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('Guard: options are required');
    const source = options.policies;
    if (Array.isArray(source)) this.#set = new PolicySet(source as Policy[]);
    else if (source instanceof PolicySet) this.#set = source;
    else if (source && (source as InMemoryPolicySource).policySet instanceof PolicySet) {
      this.#set = (source as InMemoryPolicySource).policySet;
    } else if (source && typeof (source as PolicyStore).findForInquiry === 'function') {
      this.#store = source as PolicyStore;
    } else {
      throw new TypeError('Guard: options.policies must be a list of policies, a PolicySet, a mirror or a PolicyStore');
    }
    const checker = options.checker ?? 'rules';
    this.checker = typeof checker === 'string' ? createChecker(checker) : checker;
    this.#logger = options.logger ?? silentLogger;
    const cache = options.cache ?? false;
    if (this.#store && cache !== false) {
      // Nothing would tell the cache that a policy changed in the store: stale allows are unacceptable.
      throw new TypeError('Guard: a decision cache needs in-memory policies; wrap the store in a PolicyMirror');
    }
    this.cache =
      cache === false
        ? undefined
        : cache instanceof DecisionCache
          ? cache
          : new DecisionCache(cache === true ? {} : cache);
    // Any change to the policies, from this process or (through a mirror) another, drops cached decisions.
    this.#set?.onChange((_change: PolicySetChange) => this.cache?.clear());
  }

  /** True when decisions can be made synchronously (policies held in memory). */
  get synchronous(): boolean {
    return this.#set !== undefined;
  }

  /** Listens to every decision (for audit); returns the unsubscribe function. Listener errors are logged. */
  onDecision(listener: DecisionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Decides an inquiry. Never rejects: errors become a logged deny. */
  async decide(inquiry: Inquiry): Promise<Decision> {
    if (this.#set) return this.decideSync(inquiry);
    const started = performance.now();
    let normalized: NormalizedInquiry | undefined;
    try {
      normalized = normalizeInquiry(inquiry);
      const key = this.cache?.keyOf(normalized);
      const hit = key === undefined ? undefined : this.cache!.get(key);
      if (hit) return this.#finish(hit, normalized, started, true);
      const generation = this.cache?.generation ?? 0;
      const candidates = await this.#store!.findForInquiry(normalized, this.checker.name);
      const outcome = this.#evaluate(candidates, normalized);
      if (key !== undefined) this.cache!.set(key, outcome, generation);
      return this.#finish(outcome, normalized, started, false);
    } catch (error) {
      return this.#failed(error, normalized, started);
    }
  }

  /**
   * Decides synchronously; needs in-memory policies (a list, a PolicySet or a mirror). With a store as
   * the source it denies and logs, since a store can only answer asynchronously.
   */
  decideSync(inquiry: Inquiry): Decision {
    const started = performance.now();
    let normalized: NormalizedInquiry | undefined;
    try {
      normalized = normalizeInquiry(inquiry);
      if (!this.#set) throw new TypeError('decideSync/isAllowed need in-memory policies; use decide() with a store');
      const key = this.cache?.keyOf(normalized);
      if (key !== undefined) {
        const hit = this.cache!.get(key);
        if (hit) return this.#finish(hit, normalized, started, true);
      }
      const generation = this.cache?.generation ?? 0;
      const outcome = this.#evaluate(this.#set.candidates(normalized, this.checker), normalized);
      if (key !== undefined) this.cache!.set(key, outcome, generation);
      return this.#finish(outcome, normalized, started, false);
    } catch (error) {
      return this.#failed(error, normalized, started);
    }
  }

  /** vakt's `is_allowed`: a plain boolean, synchronously (in-memory policies). */
  isAllowed(inquiry: Inquiry): boolean {
    // Fast path without a Decision object when nobody listens and nothing is cached.
    if (this.#set && !this.cache && this.#listeners.size === 0) {
      try {
        const normalized = normalizeInquiry(inquiry);
        const set = this.#set;
        return withinRegexBudget(() => {
          let allowed = false;
          for (const policy of set.candidates(normalized, this.checker)) {
            if (!policyMatches(this.checker, policy, normalized)) continue;
            if (policy.effect === 'deny') return false;
            allowed = true;
          }
          return allowed;
        });
      } catch (error) {
        return this.#failed(error, undefined, performance.now()).allowed;
      }
    }
    return this.decideSync(inquiry).allowed;
  }

  /**
   * Partial evaluation: which resources `subject` may perform `action` on, as a condition on resource
   * attributes (see docs/abac.md "Policies as queries"). `resource` holds the attributes every resource of
   * the kind shares (`{}` when the action names the kind); each resource's own attributes complete it, so
   * for a record `decide({ subject, action, resource: { ...record, ...resource }, context })` is allowed
   * exactly when the record matches `filter` (when `unfilterable` is empty). Needs in-memory policies.
   */
  queryFor(
    subject: unknown,
    action: unknown,
    resource: Readonly<Record<string, unknown>>,
    context?: Record<string, unknown>,
  ): ResourceQuery {
    if (!this.#set) throw new TypeError('queryFor needs in-memory policies; wrap the store in a PolicyMirror');
    if (!isPlainObject(resource)) throw new TypeError('queryFor: resource must be an object of known attributes');
    if (this.checker.policyType === 'rule') {
      // Only policies whose subjects and actions can fit: the index picks the more selective of the two.
      const known = normalizeInquiry({ subject, action, resource: '', context });
      const candidates = this.#set.candidates(known, this.checker, ['subjects', 'actions']);
      return partialEvaluate(candidates, this.checker, { subject, action, resource, context });
    }
    // String-based policies compare strings: an object resource fits the same ones whatever its attributes.
    const normalized = normalizeInquiry({ subject, action, resource: { ...resource, '\u0000': true }, context });
    try {
      return constantQuery(this.#evaluate(this.#set.candidates(normalized, this.checker), normalized).allowed);
    } catch (error) {
      this.#logger.error({ err: errorForLog(error), checker: this.checker.name }, 'abac: query failed; denying');
      return constantQuery(false);
    }
  }

  /** The asynchronous form of `isAllowed`, for any policy source. */
  async check(inquiry: Inquiry): Promise<boolean> {
    return (await this.decide(inquiry)).allowed;
  }

  /**
   * Decides and says why: the deciding policies, or for a deny without deciders the `limit` policies
   * that came closest (most parts fitting) with the part, element or attribute that failed.
   */
  async explain(inquiry: Inquiry, limit = 3): Promise<Explanation> {
    const decision = await this.decide(inquiry);
    const normalized = normalizeInquiry(inquiry);
    const reports: PolicyMatchReport[] = [];
    try {
      for await (const policy of this.#allPolicies()) reports.push(reportPolicy(this.checker, policy, normalized));
    } catch (error) {
      this.#logger.error({ err: errorForLog(error) }, 'abac: explain could not list the policies');
    }
    const deciders = new Set(decision.deciders);
    if (deciders.size > 0) return { decision, policies: reports.filter((report) => deciders.has(report.uid)) };
    reports.sort((a, b) => a.failed.length - b.failed.length || (a.uid < b.uid ? -1 : 1));
    return { decision, policies: reports.slice(0, limit) };
  }

  async *#allPolicies(): AsyncIterable<Policy> {
    if (this.#set) {
      yield* this.#set.values();
      return;
    }
    for await (const batch of this.#store!.retrieveAll()) yield* batch;
  }

  #evaluate(candidates: Iterable<Policy>, inquiry: NormalizedInquiry): CachedDecision {
    return withinRegexBudget(() => this.#evaluateAll(candidates, inquiry));
  }

  #evaluateAll(candidates: Iterable<Policy>, inquiry: NormalizedInquiry): CachedDecision {
    const allowing: string[] = [];
    const denying: string[] = [];
    const offered: string[] = [];
    for (const policy of candidates) {
      offered.push(policy.uid);
      if (!policyMatches(this.checker, policy, inquiry)) continue;
      (policy.effect === 'deny' ? denying : allowing).push(policy.uid);
    }
    if (denying.length > 0) return { allowed: false, deciders: denying, candidates: offered, reason: REASONS.denied };
    if (allowing.length > 0) return { allowed: true, deciders: allowing, candidates: offered, reason: REASONS.allowed };
    return { allowed: false, deciders: [], candidates: offered, reason: REASONS.none };
  }

  #finish(outcome: CachedDecision, inquiry: NormalizedInquiry, started: number, cached: boolean): Decision {
    const decision: Decision = {
      allowed: outcome.allowed,
      effect: outcome.allowed ? 'allow' : 'deny',
      deciders: outcome.deciders.slice(),
      candidates: outcome.candidates.slice(),
      reason: outcome.reason,
      inquiry,
      durationMs: performance.now() - started,
      cached,
    };
    if (this.#listeners.size > 0) this.#emit(decision);
    return decision;
  }

  #failed(error: unknown, inquiry: NormalizedInquiry | undefined, started: number): Decision {
    this.#logger.error({ err: errorForLog(error), checker: this.checker.name }, 'abac: decision failed; denying');
    const decision: Decision = {
      allowed: false,
      effect: 'deny',
      deciders: [],
      candidates: [],
      reason: REASONS.error,
      inquiry: inquiry ?? { subject: undefined, action: undefined, resource: undefined, context: {} },
      durationMs: performance.now() - started,
      cached: false,
    };
    if (this.#listeners.size > 0) this.#emit(decision);
    return decision;
  }

  #emit(decision: Decision): void {
    for (const listener of this.#listeners) {
      try {
        listener(decision);
      } catch (error) {
        this.#logger.error({ err: errorForLog(error) }, 'abac: a decision listener failed');
      }
    }
  }

  /** Cache statistics (zeros when no cache is configured). */
  cacheStats(): DecisionCacheStats {
    return this.cache?.stats() ?? { hits: 0, misses: 0, size: 0, maxSize: 0, invalidations: 0 };
  }
}
