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

// Rules are shared between policies (interned): a rule holding regexes or other rules is costed once. A
// rule of neither kind (most of a large set: `Eq("alice")`) is read without an entry here.
const ruleCosts = new WeakMap<Rule, number>();

/** The instructions of every regex a compiled policy runs (a rule nested in `And`/`Or`/`Not` included). */
export function policyRegexProgram(parts: CompiledParts): number {
  let total = 0;
  total += fieldCost(parts.subjects);
  total += fieldCost(parts.actions);
  total += fieldCost(parts.resources);
  for (const name in parts.context) total += ruleCost(parts.context[name]!);
  return total;
}

function fieldCost(field: readonly CompiledElement[]): number {
  let total = 0;
  for (let i = 0; i < field.length; i++) {
    const element = field[i]!;
    if (element instanceof CompiledString) total += element.pattern?.regex?.programSize ?? 0;
    else if (isAttributeMap(element)) for (const name in element) total += ruleCost(element[name]!);
    else total += ruleCost(element);
  }
  return total;
}

function ruleCost(rule: Rule): number {
  const known = ruleCosts.get(rule);
  if (known !== undefined) return known;
  const regex = regexOfRule(rule);
  let cost = regex?.programSize ?? 0;
  let nested = false;
  const args = rule.args ?? {};
  for (const name in args) {
    const value = args[name];
    if (typeof value !== 'object' || value === null) continue;
    if (isRule(value)) {
      nested = true;
      cost += ruleCost(value);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (!isRule(item)) continue;
        nested = true;
        cost += ruleCost(item);
      }
    }
  }
  if (regex || nested) ruleCosts.set(rule, cost);
  return cost;
}
