// Index keys: which exact values and literal prefixes can possibly match a policy field, and the keys an
// inquiry value looks up. Shared by the in-memory index and the MongoDB and Redis stores.
import type { CheckerName } from './checkers.js';
import { COMPILED, type Policy, type PolicyField } from './policy.js';
import { isPlainObject, type Primitive } from './values.js';
import { withoutWholeTag } from './regex-syntax.js';

/** How a field is indexed: by rule hints (rules checker), by regex literal prefixes, or by exact strings. */
export type IndexMode = 'rule' | 'regex' | 'exact';

export function indexModeFor(checker: CheckerName): IndexMode | undefined {
  return checker === 'rules' ? 'rule' : checker === 'fuzzy' ? undefined : checker;
}

/** `slot` is '' for the whole value or an attribute name; the separator never occurs in JSON keys we build. */
const SEP = '\u0001';

export function exactKey(slot: string, value: Primitive): string {
  const tag = value === null ? 'z' : typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
  return `${slot}${SEP}${tag}${String(value)}`;
}

export function prefixKey(slot: string, prefix: string): string {
  return `${slot}${SEP}p${prefix}`;
}

export interface FieldKeys {
  /** Exact keys (`exactKey`). */
  exact: string[];
  /** Literal prefixes by slot. */
  prefixes: { slot: string; prefix: string }[];
  /** Some element can match values the keys do not describe: the policy is a candidate for every value. */
  wild: boolean;
}

/** The keys of one field of a policy in the given mode (the policy's type must suit the mode). */
export function policyFieldKeys(policy: Policy, field: PolicyField, mode: IndexMode): FieldKeys {
  const keys: FieldKeys = { exact: [], prefixes: [], wild: false };
  for (const element of policy[COMPILED][field]) {
    if (element.kind === 'string') {
      if (mode === 'exact') keys.exact.push(exactKey('', withoutWholeTag(element.text)));
      else if (!element.pattern?.regex) keys.exact.push(exactKey('', element.text));
      else if (element.pattern.prefix === '') keys.wild = true;
      else keys.prefixes.push({ slot: '', prefix: element.pattern.prefix });
      continue;
    }
    const hinted =
      element.kind === 'rule'
        ? { slot: '', hint: element.rule.hint }
        : (element.entries
            .map(([name, rule]) => ({ slot: name, hint: rule.hint }))
            .find((entry) => entry.hint !== undefined) ?? { slot: '', hint: undefined });
    if (!hinted.hint) {
      keys.wild = true;
      continue;
    }
    for (const value of hinted.hint.exact) keys.exact.push(exactKey(hinted.slot, value));
    for (const prefix of hinted.hint.prefixes) keys.prefixes.push({ slot: hinted.slot, prefix });
  }
  if (keys.wild) return { exact: [], prefixes: [], wild: true };
  keys.exact = [...new Set(keys.exact)];
  return keys;
}

/** The slots and primitive values an inquiry value offers to the index: the value itself or its attributes. */
export function inquirySlots(value: unknown, visit: (slot: string, value: Primitive) => void): void {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    visit('', value);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const name of Object.keys(value)) {
    const attribute = value[name];
    if (
      attribute === null ||
      typeof attribute === 'string' ||
      typeof attribute === 'number' ||
      typeof attribute === 'boolean'
    ) {
      visit(name, attribute);
    }
  }
}

/** Longest string whose prefixes are enumerated for server-side lookups; longer values fall back to `wild`. */
export const MAX_PREFIX_LOOKUP = 256;

/**
 * Every key an inquiry value can hit (exact keys plus the prefix keys of its string values), for stores
 * that look keys up on the server. `undefined` when there would be too many (then do not narrow).
 */
export function inquiryKeys(value: unknown, mode: IndexMode): string[] | undefined {
  const keys: string[] = [];
  let tooMany = false;
  inquirySlots(value, (slot, primitive) => {
    keys.push(exactKey(slot, primitive));
    if (mode !== 'exact' && typeof primitive === 'string') {
      if (primitive.length > MAX_PREFIX_LOOKUP) tooMany = true;
      else
        for (let length = 1; length <= primitive.length; length++)
          keys.push(prefixKey(slot, primitive.slice(0, length)));
    }
  });
  return tooMany || keys.length > 4096 ? undefined : keys;
}

/** Every key a policy field is stored under (exact and prefix keys); `wild` fields are stored under none. */
export function storedKeys(keys: FieldKeys): string[] {
  return [...keys.exact, ...keys.prefixes.map(({ slot, prefix }) => prefixKey(slot, prefix))];
}
