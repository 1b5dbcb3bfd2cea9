// Checkers decide whether one policy field fits one inquiry value: rules, regex, exact or fuzzy strings.
import type { NormalizedInquiry } from './inquiry.js';
import { COMPILED, type CompiledElement, type Policy, type PolicyField, type PolicyType } from './policy.js';
import { MAX_REGEX_INPUT } from './regex-syntax.js';
import { ownAttribute } from './values.js';

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
    if (element.kind === 'rule') return element.rule.satisfied(value, inquiry);
    if (element.kind !== 'attributes') return false;
    for (const [name, rule] of element.entries) {
      const attribute = ownAttribute(value, name);
      if (!attribute.found || !rule.satisfied(attribute.value, inquiry)) return false;
    }
    return true;
  }
}

/** String-based policies in vakt's `<regex>` syntax; strings without tags compare for equality. */
export class RegexChecker implements Checker {
  readonly name = 'regex' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    if (element.kind !== 'string' || typeof value !== 'string') return false;
    const regex = element.pattern?.regex;
    if (!regex) return value === element.text;
    return value.length <= MAX_REGEX_INPUT && regex.test(value);
  }
}

/** String-based policies compared by exact, case-sensitive equality ('sun' fits only 'sun'). */
export class StringExactChecker implements Checker {
  readonly name = 'exact' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    return element.kind === 'string' && value === element.text;
  }
}

/** String-based policies where the inquiry value is a substring of the policy's string ('sun' fits 'sunny'). */
export class StringFuzzyChecker implements Checker {
  readonly name = 'fuzzy' as const;
  readonly policyType = 'string' as const;
  fits(element: CompiledElement, value: unknown): boolean {
    return element.kind === 'string' && typeof value === 'string' && element.text.includes(value);
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
  const value = inquiry[FIELD_VALUE[field]];
  for (const element of policy[COMPILED][field]) if (checker.fits(element, value, inquiry)) return true;
  return false;
}

/** Every context rule of the policy must be satisfied by a present context key. */
export function contextFits(policy: Policy, inquiry: NormalizedInquiry): boolean {
  for (const [name, rule] of policy[COMPILED].context) {
    if (!Object.hasOwn(inquiry.context, name) || !rule.satisfied(inquiry.context[name], inquiry)) return false;
  }
  return true;
}

/** vakt's policy match: right type, and actions, resources, subjects and context all fit. */
export function policyMatches(checker: Checker, policy: Policy, inquiry: NormalizedInquiry): boolean {
  return (
    policy.type === checker.policyType &&
    fieldFits(checker, policy, 'actions', inquiry) &&
    fieldFits(checker, policy, 'resources', inquiry) &&
    fieldFits(checker, policy, 'subjects', inquiry) &&
    contextFits(policy, inquiry)
  );
}

export { FIELD_VALUE };
