// Checkers decide whether one policy field fits one inquiry value: rules, regex, exact or fuzzy strings.
import type { NormalizedInquiry } from './inquiry.js';
import {
  COMPILED,
  CompiledString,
  isAttributeMap,
  type CompiledElement,
  type Policy,
  type PolicyField,
  type PolicyType,
} from './policy.js';
import { MAX_REGEX_INPUT, withoutWholeTag } from './regex-syntax.js';
import { RegexBudgetError } from '../regex.js';
import { isRule, UnfitValueError } from './rules/rule.js';
import { isPlainObject } from './values.js';

export type CheckerName = 'rules' | 'regex' | 'exact' | 'fuzzy';
export const CHECKER_NAMES: readonly CheckerName[] = ['rules', 'regex', 'exact', 'fuzzy'];

export interface Checker {
  readonly name: CheckerName;
  /** The policy type this checker understands; policies of the other type never match. */
  readonly policyType: PolicyType;
  /** True when `element` accepts `value`. */
  fits(element: CompiledElement, value: unknown, inquiry: NormalizedInquiry): boolean;
}

/** Rule-based policies: rules and attribute maps (every attribute present and satisfied). */
export class RulesChecker implements Checker {
  readonly name = 'rules' as const;
  readonly policyType = 'rule' as const;
  fits(element: CompiledElement, value: unknown, inquiry: NormalizedInquiry): boolean {
    try {
      if (isAttributeMap(element)) {
        // Only own attributes of a plain object count (never `constructor` or `__proto__` inherited).
        const object = isPlainObject(value) ? value : undefined;
        for (const name in element) {
          if (object === undefined || !Object.hasOwn(object, name)) return false;
          if (!element[name]!.satisfied(object[name], inquiry)) return false;
        }
        return true;
      }
      return isRule(element) && element.satisfied(value, inquiry);
    } catch (error) {
      // vakt's RulesChecker: a rule that raises does not fit (in the context it denies the decision).
      if (error instanceof UnfitValueError) return false;
      throw error;
    }
  }
}

/** String-based policies in vakt's `<regex>` syntax; strings without tags compare for equality. */
export class RegexChecker implements Checker {
  readonly name = 'regex' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    if (!(element instanceof CompiledString)) return false;
    // vakt's RegexChecker returns "no fit" for the whole field at an element whose tags do not pair up.
    if (element.unbalanced) throw new UnfitValueError(`unbalanced tags in ${JSON.stringify(element.text)}`);
    if (typeof value !== 'string') return false;
    const regex = element.pattern?.regex;
    if (!regex) return value === element.text;
    // Too long to run: the decision fails closed, so a deny policy is never skipped where vakt applies it.
    if (value.length > MAX_REGEX_INPUT) throw new RegexBudgetError();
    return regex.test(value);
  }
}

/**
 * vakt's StringChecker text: a policy string wrapped whole in tags (`<sun>`) loses them. An empty policy
 * string makes vakt raise (`item[0]`), which denies the whole decision.
 */
function untagged(text: string): string {
  if (text === '') throw new Error('an empty string in a string-based policy (vakt raises on it)');
  return withoutWholeTag(text);
}

/** String-based policies compared by exact, case-sensitive equality ('sun' fits only 'sun'; so does '<sun>'). */
export class StringExactChecker implements Checker {
  readonly name = 'exact' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    return element instanceof CompiledString && value === untagged(element.text);
  }
}

/** String-based policies where the inquiry value is a substring of the policy's string ('sun' fits 'sunny'). */
export class StringFuzzyChecker implements Checker {
  readonly name = 'fuzzy' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    if (!(element instanceof CompiledString)) return false;
    // vakt: `value in text` raises for a non-string value, which denies the whole decision.
    if (typeof value !== 'string') throw new Error('the fuzzy checker compares strings only');
    return untagged(element.text).includes(value);
  }
}

export function createChecker(name: CheckerName): Checker {
  switch (name) {
    case 'rules':
      return new RulesChecker();
    case 'regex':
      return new RegexChecker();
    case 'exact':
      return new StringExactChecker();
    case 'fuzzy':
      return new StringFuzzyChecker();
    default:
      throw new TypeError(`unknown checker "${String(name)}" (one of ${CHECKER_NAMES.join(', ')})`);
  }
}

const FIELD_VALUE = { subjects: 'subject', actions: 'action', resources: 'resource' } as const;

/** True when some element of the field fits the inquiry's value (the list is OR'd). */
export function fieldFits(checker: Checker, policy: Policy, field: PolicyField, inquiry: NormalizedInquiry): boolean {
  return elementsFit(checker, policy[COMPILED][field], inquiry[FIELD_VALUE[field]], inquiry);
}

function elementsFit(
  checker: Checker,
  elements: readonly CompiledElement[],
  value: unknown,
  inquiry: NormalizedInquiry,
): boolean {
  try {
    for (const element of elements) if (checker.fits(element, value, inquiry)) return true;
  } catch (error) {
    if (error instanceof UnfitValueError) return false;
    throw error;
  }
  return false;
}

/** Every context rule of the policy must be satisfied by a present context key. */
export function contextFits(policy: Policy, inquiry: NormalizedInquiry): boolean {
  const rules = policy[COMPILED].context;
  for (const name in rules) {
    if (!Object.hasOwn(inquiry.context, name) || !rules[name]!.satisfied(inquiry.context[name], inquiry)) return false;
  }
  return true;
}

/** vakt's policy match: right type, and actions, resources, subjects and context all fit. */
export function policyMatches(checker: Checker, policy: Policy, inquiry: NormalizedInquiry): boolean {
  if (policy.type !== checker.policyType) return false;
  const compiled = policy[COMPILED];
  return (
    // vakt's order, which decides which rule gets to raise first.
    elementsFit(checker, compiled.actions, inquiry.action, inquiry) &&
    elementsFit(checker, compiled.subjects, inquiry.subject, inquiry) &&
    elementsFit(checker, compiled.resources, inquiry.resource, inquiry) &&
    contextFits(policy, inquiry)
  );
}

export { FIELD_VALUE };
