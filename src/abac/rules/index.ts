// Rule factories in vakt's spelling (`Eq(40)`, `And(Greater(50), Less(999))`), the registry and defineRule.
import {
  actionEqualRule,
  actionMatchRule,
  allInRule,
  allNotInRule,
  andRule,
  anyInRule,
  anyNotInRule,
  anyRule,
  builtinRules,
  cidrRule,
  containsRule,
  endsWithRule,
  eqRule,
  equalRule,
  falsyRule,
  greaterOrEqualRule,
  greaterRule,
  inRule,
  lessOrEqualRule,
  lessRule,
  neitherRule,
  notEqRule,
  notInRule,
  notRule,
  orRule,
  pairsEqualRule,
  regexMatchRule,
  inSubjectRule,
  resourceInRule,
  resourceMatchRule,
  startsWithRule,
  subjectEqualRule,
  subjectMatchRule,
  truthyRule,
} from './builtin.js';
import { compilesOnFirstUse, instantiate, RuleRegistry, type Rule, type RuleDefinition } from './rule.js';

export {
  RuleArgumentError,
  RuleRegistry,
  UnfitValueError,
  isRule,
  type IndexHint,
  type ParseNested,
  type Rule,
  type RuleDefinition,
  type RuleJson,
} from './rule.js';

/** The registry every loader uses unless given another: the built-ins plus `defineRule` additions. */
export const defaultRuleRegistry = new RuleRegistry();
for (const definition of builtinRules) defaultRuleRegistry.register(definition);
// Every built-in but RegexMatch compiles only what its parse validated; RegexMatch compiles its anchored
// pattern at load, so a pattern the engine refuses is a load error, never a failing decision.
for (const definition of builtinRules) if (definition !== regexMatchRule) compilesOnFirstUse.add(definition);

/** A registry with only the built-in rules (for isolated loaders and tests). */
export function createRuleRegistry(): RuleRegistry {
  const registry = new RuleRegistry();
  for (const definition of builtinRules) registry.register(definition);
  return registry;
}

function build(definition: RuleDefinition<never>, fields: Record<string, unknown>): Rule {
  // `type` first, as JSON writes it, so a rule built in code interns with the same rule read from JSON.
  return defaultRuleRegistry.parse({ type: definition.type, ...fields });
}

/**
 * Registers a custom rule type (in the default registry unless `registry` is given) and returns its
 * factory. The rule serializes as `{ "type": <type>, ...fields }` and loads back from that JSON.
 */
export function defineRule<A extends Record<string, unknown>>(
  definition: RuleDefinition<A>,
  registry: RuleRegistry = defaultRuleRegistry,
): (fields?: Record<string, unknown>) => Rule {
  registry.register(definition);
  return (fields = {}) =>
    instantiate(
      definition,
      definition.parse({ ...fields }, (json, path) => registry.parse(json, path)),
    );
}

type StringOptions = { ci?: boolean };

export const Eq = (value: unknown): Rule => build(eqRule as never, { value });
export const NotEq = (value: unknown): Rule => build(notEqRule as never, { value });
export const Greater = (value: number | string | boolean): Rule => build(greaterRule as never, { value });
export const Less = (value: number | string | boolean): Rule => build(lessRule as never, { value });
export const GreaterOrEqual = (value: number | string | boolean): Rule => build(greaterOrEqualRule as never, { value });
export const LessOrEqual = (value: number | string | boolean): Rule => build(lessOrEqualRule as never, { value });

export const Truthy = (): Rule => build(truthyRule as never, {});
export const Falsy = (): Rule => build(falsyRule as never, {});
export const Not = (rule: Rule): Rule => build(notRule as never, { rule });
export const And = (...rules: Rule[]): Rule => build(andRule as never, { rules });
export const Or = (...rules: Rule[]): Rule => build(orRule as never, { rules });
export const Any = (): Rule => build(anyRule as never, {});
export const Neither = (): Rule => build(neitherRule as never, {});

export const In = (...values: unknown[]): Rule => build(inRule as never, { values });
export const NotIn = (...values: unknown[]): Rule => build(notInRule as never, { values });
export const AllIn = (...values: unknown[]): Rule => build(allInRule as never, { values });
export const AllNotIn = (...values: unknown[]): Rule => build(allNotInRule as never, { values });
export const AnyIn = (...values: unknown[]): Rule => build(anyInRule as never, { values });
export const AnyNotIn = (...values: unknown[]): Rule => build(anyNotInRule as never, { values });

export const CIDR = (cidr: string): Rule => build(cidrRule as never, { cidr });

export const Equal = (value: string, options: StringOptions = {}): Rule =>
  build(equalRule as never, { value, ci: options.ci ?? false });
export const StrEqual = Equal;
export const PairsEqual = (): Rule => build(pairsEqualRule as never, {});
export const StrPairsEqual = PairsEqual;
export const RegexMatch = (pattern: string): Rule => build(regexMatchRule as never, { pattern });
export const StartsWith = (value: string, options: StringOptions = {}): Rule =>
  build(startsWithRule as never, { value, ci: options.ci ?? false });
export const EndsWith = (value: string, options: StringOptions = {}): Rule =>
  build(endsWithRule as never, { value, ci: options.ci ?? false });
export const Contains = (value: string, options: StringOptions = {}): Rule =>
  build(containsRule as never, { value, ci: options.ci ?? false });

export const SubjectMatch = (attribute?: string): Rule =>
  build(subjectMatchRule as never, attribute === undefined ? {} : { attribute });
export const ActionMatch = (attribute?: string): Rule =>
  build(actionMatchRule as never, attribute === undefined ? {} : { attribute });
export const ResourceMatch = (attribute?: string): Rule =>
  build(resourceMatchRule as never, attribute === undefined ? {} : { attribute });
export const SubjectEqual = (): Rule => build(subjectEqualRule as never, {});
export const ActionEqual = (): Rule => build(actionEqualRule as never, {});
export const ResourceIn = (): Rule => build(resourceInRule as never, {});
/** Not in vakt: the value is a member of the subject's `attribute` list. */
export const InSubject = (attribute: string): Rule => build(inSubjectRule as never, { attribute });
