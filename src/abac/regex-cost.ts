// What a policy's regexes cost a decision: the instructions of their programs, each run once per check.
import { MAX_PROGRAM_SIZE, REGEX_WORK_BUDGET } from '../regex.js';
import { CompiledString, isAttributeMap, type CompiledParts, type CompiledElement } from './policy.js';
import { isRule, type Rule } from './rules/index.js';
import { regexOfRule } from './rules/builtin.js';

/**
 * Most instructions a policy's regexes may compile to in all: ten of the largest patterns. A decision runs
 * every regex of a matching policy over its value, at `programSize` work per character, and the decision's
 * budget (`REGEX_WORK_BUDGET`) is shared by all the policies it checks; a policy past this would use it up on
 * values of a few dozen characters and deny every request (failing closed), so it is refused when it loads.
 */
export const MAX_POLICY_REGEX_PROGRAM = Math.min(10 * MAX_PROGRAM_SIZE, REGEX_WORK_BUDGET / 50);

// Rules are shared between policies (interned): each rule's cost is summed once.
const ruleCosts = new WeakMap<Rule, number>();

/** The instructions of every regex a compiled policy runs (a rule nested in `And`/`Or`/`Not` included). */
export function policyRegexProgram(parts: CompiledParts): number {
  let total = 0;
  for (const field of [parts.subjects, parts.actions, parts.resources]) {
    for (let i = 0; i < field.length; i++) total += elementCost(field[i]!);
  }
  for (const name in parts.context) total += ruleCost(parts.context[name]!);
  return total;
}

function elementCost(element: CompiledElement): number {
  if (element instanceof CompiledString) return element.pattern?.regex?.programSize ?? 0;
  if (isAttributeMap(element)) {
    let total = 0;
    for (const name in element) total += ruleCost(element[name]!);
    return total;
  }
  return ruleCost(element);
}

function ruleCost(rule: Rule): number {
  let cost = ruleCosts.get(rule);
  if (cost !== undefined) return cost;
  cost = regexOfRule(rule)?.programSize ?? 0;
  for (const value of Object.values(rule.args ?? {})) {
    if (isRule(value)) cost += ruleCost(value);
    else if (Array.isArray(value)) for (const item of value) if (isRule(item)) cost += ruleCost(item);
  }
  ruleCosts.set(rule, cost);
  return cost;
}
