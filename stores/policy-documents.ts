// What the MongoDB and Redis policy stores keep beside each policy so the server can narrow candidates.
import { LRUCache } from 'lru-cache';
import type { CheckerName } from '../src/abac/checkers.js';
import { indexModeFor, inquiryKeys, policyFieldKeys, storedKeys, type IndexMode } from '../src/abac/index-keys.js';
import { normalizeInquiry, type Inquiry } from '../src/abac/inquiry.js';
import { POLICY_FIELDS, type Policy, type PolicyField } from '../src/abac/policy.js';
import { asPolicy, policyFromJSON, policyToJSON, readPolicies } from '../src/abac/policy-json.js';
import { ConflictError, ValidationError } from '../src/errors.js';

/** The key every `wild` field is stored under, and that every lookup includes. */
export const WILD = '\u0002*';

const INQUIRY_VALUE = { subjects: 'subject', actions: 'action', resources: 'resource' } as const;

export type IndexKeys = Partial<Record<IndexMode, Record<PolicyField, string[]>>>;

export function modesOf(policy: Policy): IndexMode[] {
  return policy.type === 'rule' ? ['rule'] : ['regex', 'exact'];
}

/** Keys per mode and field under which a policy is stored (`WILD` for fields any value may match). */
export function indexKeysOf(policy: Policy): IndexKeys {
  const result: IndexKeys = {};
  for (const mode of modesOf(policy)) {
    const fields = {} as Record<PolicyField, string[]>;
    for (const field of POLICY_FIELDS) {
      const keys = policyFieldKeys(policy, field, mode);
      fields[field] = keys.wild ? [WILD] : storedKeys(keys);
    }
    result[mode] = fields;
  }
  return result;
}

/** The plain strings of a string-based policy, for the fuzzy checker's substring search. */
export function rawStringsOf(policy: Policy): Record<PolicyField, string[]> {
  const raw = {} as Record<PolicyField, string[]>;
  for (const field of POLICY_FIELDS)
    raw[field] = policy[field].filter((item): item is string => typeof item === 'string');
  return raw;
}

export interface InquiryLookup {
  type: Policy['type'];
  mode: IndexMode | undefined;
  /** Keys to look up per field (with `WILD`); a field absent here is not narrowed. */
  keys: Partial<Record<PolicyField, string[]>>;
  /** For the fuzzy checker: the string each field's raw strings must contain (absent: no string, no match). */
  fuzzy: Partial<Record<PolicyField, string>>;
  /** True when no policy can match (fuzzy checker with a non-string value). */
  impossible: boolean;
}

export function lookupFor(inquiry: Inquiry, checker: CheckerName): InquiryLookup {
  const normalized = normalizeInquiry(inquiry);
  const mode = indexModeFor(checker);
  const lookup: InquiryLookup = {
    type: checker === 'rules' ? 'rule' : 'string',
    mode,
    keys: {},
    fuzzy: {},
    impossible: false,
  };
  for (const field of POLICY_FIELDS) {
    const value = normalized[INQUIRY_VALUE[field]];
    if (!mode) {
      if (typeof value === 'string') lookup.fuzzy[field] = value;
      else lookup.impossible = true;
      continue;
    }
    const keys = inquiryKeys(value, mode);
    if (keys) lookup.keys[field] = [...keys, WILD];
  }
  return lookup;
}

export function serializePolicy(policy: Policy): string {
  return JSON.stringify(policyToJSON(policy));
}

/** Parses stored JSON back into a policy, sharing parsed policies while their JSON is unchanged. */
export class ParsedPolicyCache {
  readonly #entries: LRUCache<string, Policy>;
  constructor(readonly maxSize = 20_000) {
    this.#entries = new LRUCache({ max: maxSize });
  }

  /**
   * `remember: false` for reads of every policy (`retrieveAll`): more policies than the cache holds would
   * only push each other out, and the inserts cost a quarter of a mirror's cold start.
   */
  parse(json: string, remember = true): Policy {
    const hit = this.#entries.get(json);
    if (hit) return hit;
    // Stored JSON is written in the Portcullis form: the deep scan for vakt's tags (a fifth of the parse
    // time of a mirror's cold start) runs only for text that holds one.
    const parsed = policyFromJSON(JSON.parse(json) as unknown, { detectVakt: json.includes('py/') });
    if (remember) this.#entries.set(json, parsed);
    return parsed;
  }
}

/** Validates the arguments of `getAll`. */
export function validatePage(limit: unknown, offset: unknown): { limit: number; offset: number } {
  const problems = [];
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    problems.push({ field: 'limit', message: 'must be an integer from 1 to 10000' });
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    problems.push({ field: 'offset', message: 'must be an integer ≥ 0' });
  }
  if (problems.length > 0) throw new ValidationError('Invalid page of policies.', { errors: problems });
  return { limit: limit as number, offset: offset as number };
}

export function validateBatch(batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ValidationError('Invalid batch size.', {
      errors: [{ field: 'batchSize', message: 'must be an integer from 1 to 10000' }],
    });
  }
  return batchSize;
}

/** The list given to `addMany`, validated as a whole (`PolicyFileError` naming every bad entry). */
export function validateList(items: Iterable<unknown>): Policy[] {
  if (typeof (items as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function' || typeof items === 'string') {
    throw new ValidationError('addMany takes a list of policies.', {
      errors: [{ field: 'policies', message: 'must be a list (an iterable) of policies' }],
    });
  }
  return readPolicies(items, 'policies');
}

/** What `addMany` throws when some uids were already stored (the other policies were added). */
export function alreadyStored(existing: readonly string[], added: number): ConflictError {
  const shown = existing.slice(0, 10).map((uid) => `"${uid}"`);
  const more = existing.length > shown.length ? ` and ${existing.length - shown.length} more` : '';
  return new ConflictError(
    `${existing.length} of the policies already exist${existing.length === 1 ? 's' : ''} (${shown.join(', ')}${more}) and were left as stored; ${added} added.`,
    { errors: existing.map((uid) => ({ field: uid, message: 'a policy with this uid already exists' })) },
  );
}

/** Runs `tasks` with at most `limit` in flight, in order of start. */
export async function runLimited(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tasks.length) {
      try {
        await tasks[next++]!();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export { asPolicy };
