// Index keys: which exact values and literal prefixes can possibly match a policy field, and the keys an
// inquiry value looks up. Shared by the in-memory index and the MongoDB and Redis stores.
import type { CheckerName } from './checkers.js';
import { COMPILED, CompiledString, type AttributeRules, type Policy, type PolicyField } from './policy.js';
import { isRule, type IndexHint } from './rules/index.js';
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

/** Receives the keys of a policy field: exact values and literal prefixes, each under its slot. */
export interface FieldKeyVisitor {
  exact(slot: string, value: Primitive): void;
  prefix(slot: string, prefix: string): void;
  /**
   * For an attribute map with several bounded attributes, any one of which bounds the element (they must
   * all hold): given them from `from` to `to` (excluded) in `slots` and `hints`, the offset of the one to
   * visit, or -1 for all of them. Default: the first.
   */
  choose?(slots: readonly string[], hints: readonly IndexHint[], from: number, to: number): number;
}

/**
 * Visits the keys of one field of a policy in the given mode (the policy's type must suit the mode), without
 * building key strings (the in-memory index keys its maps by the values themselves). Returns false, having
 * visited nothing, when the field is wild. A key may be visited more than once.
 */
export function visitFieldKeys(policy: Policy, field: PolicyField, mode: IndexMode, visit: FieldKeyVisitor): boolean {
  const elements = policy[COMPILED][field];
  // The hints to visit, each asked of its rule once (a rule computes its hint when asked), in lists kept
  // across calls and never shrunk (emptying a list frees its storage, and the next push allocates it
  // again): the visit runs synchronously, per policy and field, over the whole set on every load.
  const { slots, hints } = pending;
  let count = 0;
  let tame = true;
  for (let i = 0; i < elements.length && tame; i++) {
    const element = elements[i]!;
    if (element instanceof CompiledString) {
      tame = mode === 'exact' || element.pattern?.regex === undefined || element.pattern.prefix !== '';
    } else if (isRule(element)) {
      const hint = element.hint;
      if (hint === undefined) tame = false;
      else {
        slots[count] = '';
        hints[count++] = hint;
      }
    } else {
      const added = addAttributes(element, visit, count);
      tame = added > count;
      count = added;
    }
  }
  if (!tame) return false;
  // Index loops, not for-of: this runs for every field of every policy loaded, and an iterator per loop
  // was a tenth of what loading allocated.
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    if (!(element instanceof CompiledString)) continue;
    if (mode === 'exact') visit.exact('', withoutWholeTag(element.text));
    else if (!element.pattern?.regex) visit.exact('', element.text);
    else visit.prefix('', element.pattern.prefix);
  }
  for (let i = 0; i < count; i++) {
    const slot = slots[i]!;
    const { exact, prefixes } = hints[i]!;
    for (let j = 0; j < exact.length; j++) visit.exact(slot, exact[j]!);
    for (let j = 0; j < prefixes.length; j++) visit.prefix(slot, prefixes[j]!);
  }
  return true;
}

const pending: { slots: string[]; hints: IndexHint[] } = { slots: [], hints: [] };

/**
 * Adds at `from` the hint that bounds an attribute map (every attribute must hold): the chosen bounded
 * attribute's, the first one's without a choice, or all of them. Returns the new count (`from` when no
 * attribute is bounded).
 */
function addAttributes(attributes: AttributeRules, visit: FieldKeyVisitor, from: number): number {
  const { slots, hints } = pending;
  let count = from;
  for (const name in attributes) {
    const hint = attributes[name]!.hint;
    if (!hint) continue;
    slots[count] = name;
    hints[count++] = hint;
    if (!visit.choose) return count;
  }
  if (count - from <= 1) return count;
  const chosen = visit.choose!(slots, hints, from, count);
  if (chosen === -1) return count;
  slots[from] = slots[from + chosen]!;
  hints[from] = hints[from + chosen]!;
  return from + 1;
}

/** The keys of one field of a policy in the given mode (the policy's type must suit the mode). */
export function policyFieldKeys(policy: Policy, field: PolicyField, mode: IndexMode): FieldKeys {
  const exact = new Set<string>();
  const prefixes: { slot: string; prefix: string }[] = [];
  const tame = visitFieldKeys(policy, field, mode, {
    exact: (slot, value) => exact.add(exactKey(slot, value)),
    prefix: (slot, prefix) => prefixes.push({ slot, prefix }),
  });
  return tame ? { exact: [...exact], prefixes, wild: false } : { exact: [], prefixes: [], wild: true };
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
