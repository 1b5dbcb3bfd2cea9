// Why a policy did or did not match an inquiry: which part failed, which element or attribute.
import { FIELD_VALUE, type Checker } from './checkers.js';
import type { NormalizedInquiry } from './inquiry.js';
import {
  COMPILED,
  CompiledString,
  POLICY_FIELDS,
  type CompiledElement,
  type Policy,
  type PolicyField,
} from './policy.js';
import { isRule, UnfitValueError, type Rule } from './rules/index.js';
import { ownAttribute } from './values.js';

export type PolicyPart = PolicyField | 'context' | 'type';

export interface PolicyMatchReport {
  uid: string;
  effect: Policy['effect'];
  description?: string;
  /** True when every part fits. */
  matched: boolean;
  /** Parts that fit. */
  fitted: PolicyPart[];
  /** Parts that did not fit, each with a short reason naming the element or attribute. */
  failed: { part: PolicyPart; reason: string }[];
}

/** Checks every part of one policy against the inquiry, without short-circuiting. */
export function reportPolicy(checker: Checker, policy: Policy, inquiry: NormalizedInquiry): PolicyMatchReport {
  const report: PolicyMatchReport = {
    uid: policy.uid,
    effect: policy.effect,
    ...(policy.description ? { description: policy.description } : {}),
    matched: false,
    fitted: [],
    failed: [],
  };
  if (policy.type !== checker.policyType) {
    report.failed.push({
      part: 'type',
      reason: `a ${policy.type}-based policy is never checked by the ${checker.name} checker`,
    });
    return report;
  }
  for (const field of POLICY_FIELDS) {
    const reason = fieldFailure(checker, policy[COMPILED][field], inquiry[FIELD_VALUE[field]], inquiry);
    if (reason === undefined) report.fitted.push(field);
    else report.failed.push({ part: field, reason });
  }
  const contextReason = contextFailure(policy, inquiry);
  if (contextReason === undefined) report.fitted.push('context');
  else report.failed.push({ part: 'context', reason: contextReason });
  report.matched = report.failed.length === 0;
  return report;
}

function fieldFailure(
  checker: Checker,
  elements: readonly CompiledElement[],
  value: unknown,
  inquiry: NormalizedInquiry,
): string | undefined {
  if (elements.length === 0) return 'the list is empty, so nothing fits';
  const reasons: string[] = [];
  for (const [index, element] of elements.entries()) {
    try {
      if (checker.fits(element, value, inquiry)) return undefined;
    } catch (error) {
      // As in vakt: the checker gave up on the whole field (UnfitValueError) or on the whole decision.
      const scope = error instanceof UnfitValueError ? 'so the field does not fit' : 'which denies the decision';
      reasons.push(`[${index}] raises (${(error as Error).message}), ${scope}`);
      break;
    }
    reasons.push(`[${index}] ${elementFailure(checker, element, value, inquiry)}`);
  }
  return reasons.length === 1
    ? reasons[0]!.replace(/^\[0\] /, '')
    : `no element fits: ${reasons.slice(0, 3).join('; ')}`;
}

function elementFailure(
  checker: Checker,
  element: CompiledElement,
  value: unknown,
  inquiry: NormalizedInquiry,
): string {
  if (element instanceof CompiledString) {
    if (typeof value !== 'string') return `expects a string, got ${kindOf(value)}`;
    if (checker.name === 'regex' && element.pattern?.regex) return `does not match ${JSON.stringify(element.text)}`;
    if (checker.name === 'fuzzy') return `is not a substring of ${JSON.stringify(element.text)}`;
    return `does not equal ${JSON.stringify(element.text)}`;
  }
  if (isRule(element)) {
    return raised(element, value, inquiry) ?? `${element.type} is not satisfied by ${kindOf(value)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expects an object with attributes, got ${kindOf(value)}`;
  }
  for (const [name, rule] of Object.entries(element)) {
    const attribute = ownAttribute(value, name);
    if (!attribute.found) return `attribute "${name}" is missing`;
    const failure = raised(rule, attribute.value, inquiry);
    if (failure) return `attribute "${name}": ${failure}`;
    if (!rule.satisfied(attribute.value, inquiry)) return `attribute "${name}": ${rule.type} is not satisfied`;
  }
  return 'does not fit';
}

/** Why a rule raised on the value, or `undefined` when it did not. */
function raised(rule: Rule, value: unknown, inquiry: NormalizedInquiry): string | undefined {
  try {
    rule.satisfied(value, inquiry);
    return undefined;
  } catch (error) {
    if (!(error instanceof UnfitValueError))
      return `${rule.type} fails (${(error as Error).message}), which denies the decision`;
    return `${rule.type} raises on ${kindOf(value)} (${error.message})`;
  }
}

function contextFailure(policy: Policy, inquiry: NormalizedInquiry): string | undefined {
  for (const [name, rule] of Object.entries(policy[COMPILED].context)) {
    if (!Object.hasOwn(inquiry.context, name)) return `context key "${name}" is missing`;
    const failure = raised(rule, inquiry.context[name], inquiry);
    if (failure) return `context "${name}": ${failure}, which denies the decision`;
    if (!rule.satisfied(inquiry.context[name], inquiry)) return `context "${name}": ${rule.type} is not satisfied`;
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
