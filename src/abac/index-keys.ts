// Index keys: which exact values and literal prefixes can possibly match a policy field, and the keys an
// inquiry value looks up. Shared by the in-memory index and the MongoDB and Redis stores.
import type { CheckerName } from './checkers.js';
import { COMPILED, type AttributeRules, type CompiledElement, type Policy, type PolicyField } from './policy.js';
import type { IndexHint } from './rules/index.js';
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
   * all hold): the index of the one to visit, or -1 for all of them. Default: the first.
   */
  choose?(options: readonly { slot: string; hint: IndexHint }[]): number;
}

/**
 * Visits the keys of one field of a policy in the given mode (the policy's type must suit the mode), without
 * building key strings (the in-memory index keys its maps by the values themselves). Returns false, having
 * visited nothing, when the field is wild. A key may be visited more than once.
 */
export function visitFieldKeys(policy: Policy, field: PolicyField, mode: IndexMode, visit: FieldKeyVisitor): boolean {
  const elements = policy[COMPILED][field];
  // Hints are computed once per element (a rule computes its hint when asked), into lists reused across
  // calls: the visit runs synchronously, per policy and field, over the whole set on every load.
  const slots = scratchSlots;
  const hints = scratchHints;
  let wild = false;
  for (let i = 0; i < elements.length && !wild; i++) {
    const element = elements[i]!;
    if (element.kind === 'string') {
      wild = mode !== 'exact' && element.pattern?.regex !== undefined && element.pattern.prefix === '';
      continue;
    }
    wild = !hinted(element, slots, hints, i);
  }
  if (!wild) {
    for (let i = 0; i < elements.length; i++) {
      const element = elements[i]!;
      if (element.kind === 'string') {
        if (mode === 'exact') visit.exact('', withoutWholeTag(element.text));
        else if (!element.pattern?.regex) visit.exact('', element.text);
        else visit.prefix('', element.pattern.prefix);
        continue;
      }
      if (element.kind === 'attributes' && visit.choose) {
        const options = boundedAttributes(element.attributes);
        const chosen = options.length === 1 ? 0 : visit.choose(options);
        for (let j = 0; j < options.length; j++) if (chosen === -1 || j === chosen) visitHint(visit, options[j]!);
        continue;
      }
      visitHint(visit, { slot: slots[i]!, hint: hints[i]! });
    }
  }
  slots.length = 0;
  hints.length = 0;
  return !wild;
}

function visitHint(visit: FieldKeyVisitor, { slot, hint }: { slot: string; hint: IndexHint }): void {
  for (const value of hint.exact) visit.exact(slot, value);
  for (const prefix of hint.prefixes) visit.prefix(slot, prefix);
}

function boundedAttributes(attributes: AttributeRules): { slot: string; hint: IndexHint }[] {
  const options: { slot: string; hint: IndexHint }[] = [];
  for (const name in attributes) {
    const hint = attributes[name]!.hint;
    if (hint) options.push({ slot: name, hint });
  }
  return options;
}

const scratchSlots: string[] = [];
const scratchHints: IndexHint[] = [];

/**
 * Stores at `i` the hint that bounds an element, a rule's own or the first hinted attribute's (every
 * attribute must hold), and its slot; false when nothing bounds it.
 */
function hinted(element: CompiledElement, slots: string[], hints: IndexHint[], i: number): boolean {
  if (element.kind === 'rule') {
    const hint = element.rule.hint;
    if (!hint) return false;
    slots[i] = '';
    hints[i] = hint;
    return true;
  }
  if (element.kind !== 'attributes') return false;
  const { attributes } = element;
  for (const name in attributes) {
    const hint = attributes[name]!.hint;
    if (!hint) continue;
    slots[i] = name;
    hints[i] = hint;
    return true;
  }
  return false;
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
