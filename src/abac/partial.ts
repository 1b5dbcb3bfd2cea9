// Partial evaluation: what the policies say about every resource of a kind, as a filter on its attributes.
//
// With the subject, action and context known, each rule-based policy reduces to a condition on the
// resource's attributes; the allowed resources are (some allow matches) AND NOT (some deny matches) AND NOT
// (evaluation would fail), exactly as the guard decides one resource. A rule that reads an attribute is kept
// as a condition with vakt's (Python's) semantics spelled out in MongoDB terms: `Eq(1)` also holds for `true`,
// a list never equals a string, an ordering across types makes the rule unfit (the element does not fit).
// Rules without an exact filter form are named, and the filter then holds a superset of the allowed resources.
import { and, matchAll, matchNone, not, or, type FilterNode, type FilterValue, type ValueType } from '../filter/ast.js';
import { RegexBudgetError, withinRegexBudget } from '../regex.js';
import type { Checker } from './checkers.js';
import { normalizeInquiry, type NormalizedInquiry } from './inquiry.js';
import type { AttributeRules, Policy, PolicyElement, PolicyField } from './policy.js';
import { isRule, UnfitValueError, type Rule } from './rules/rule.js';
import { isPrimitiveKey, ownAttribute, pythonKey, valuesEqual } from './values.js';

/** A rule that has no exact filter form, where it sits, and why. */
export interface UnfilterableRule {
  /** Uid of the policy. */
  policy: string;
  /** Where in the policy, e.g. `resources[0].country` or `subjects[1].id`. */
  path: string;
  /** The rule's type, e.g. `RegexMatch`. */
  rule: string;
  reason: string;
}

/** What `Guard.queryFor` answers: which resources of the kind the subject may act on. */
export interface ResourceQuery {
  /** `always`: every resource; `never`: none; `condition`: the resources `filter` matches. */
  kind: 'always' | 'never' | 'condition';
  /**
   * The condition on resource attributes in the filter language (`toMongoFilter`, `toPredicate`); `matchAll`
   * for always, `matchNone` for never. Exact when `unfilterable` is empty; otherwise a superset of the
   * allowed resources (unknown parts read as "allowed"): post-filter each with `decide()`, or refuse.
   */
  filter: FilterNode;
  /** Rules the filter could not express. Empty when the filter is exact. */
  unfilterable: UnfilterableRule[];
}

// ---- formulas with unknown parts -----------------------------------------------------------------

/** A filter tree that may hold unknown leaves (rules without a filter form), resolved by polarity at the end. */
type Formula =
  | { kind: 'node'; node: FilterNode }
  | { kind: 'and' | 'or'; parts: Formula[] }
  | { kind: 'not'; part: Formula }
  | { kind: 'unknown' };

const TRUE: Formula = { kind: 'node', node: matchAll };
const FALSE: Formula = { kind: 'node', node: matchNone };
const UNKNOWN: Formula = { kind: 'unknown' };

const isTrue = (f: Formula) => f.kind === 'node' && f.node.kind === 'and' && f.node.nodes.length === 0;
const isFalse = (f: Formula) => f.kind === 'node' && f.node.kind === 'or' && f.node.nodes.length === 0;
const leaf = (node: FilterNode): Formula => ({ kind: 'node', node });

function fAnd(...parts: Formula[]): Formula {
  const kept: Formula[] = [];
  for (const part of parts) {
    if (isFalse(part)) return FALSE;
    if (!isTrue(part)) kept.push(part);
  }
  if (kept.length === 0) return TRUE;
  if (kept.length === 1) return kept[0]!;
  if (kept.every((part) => part.kind === 'node'))
    return leaf(and(...kept.map((part) => (part as { node: FilterNode }).node)));
  return { kind: 'and', parts: kept };
}

function fOr(...parts: Formula[]): Formula {
  const kept: Formula[] = [];
  for (const part of parts) {
    if (isTrue(part)) return TRUE;
    if (!isFalse(part)) kept.push(part);
  }
  if (kept.length === 0) return FALSE;
  if (kept.length === 1) return kept[0]!;
  if (kept.every((part) => part.kind === 'node'))
    return leaf(or(...kept.map((part) => (part as { node: FilterNode }).node)));
  return { kind: 'or', parts: kept };
}

function fNot(part: Formula): Formula {
  if (part.kind === 'node') return leaf(not(part.node));
  if (part.kind === 'not') return part.part;
  return { kind: 'not', part };
}

/** The filter with every unknown read as true (`positive`) or false, under its negations: a superset. */
function lower(f: Formula, positive: boolean): FilterNode {
  switch (f.kind) {
    case 'node':
      return f.node;
    case 'unknown':
      return positive ? matchAll : matchNone;
    case 'not':
      return not(lower(f.part, !positive));
    case 'and':
      return and(...f.parts.map((part) => lower(part, positive)));
    case 'or':
      return or(...f.parts.map((part) => lower(part, positive)));
  }
}

/** A rule's outcome on a value: where it holds (`t`) and where it is defined (`d`, not unfit); t implies d. */
interface Outcome {
  t: Formula;
  d: Formula;
}

const HOLDS: Outcome = { t: TRUE, d: TRUE };
const FAILS: Outcome = { t: FALSE, d: TRUE };
const UNFIT: Outcome = { t: FALSE, d: FALSE };
const UNKNOWN_OUTCOME: Outcome = { t: UNKNOWN, d: UNKNOWN };

// ---- conditions with Python's semantics -----------------------------------------------------------

const cond = (node: FilterNode): Formula => leaf(node);
const exists = (field: string) => cond({ kind: 'cond', op: 'exists', field, value: true });
const typed = (field: string, types: ValueType[]) => cond({ kind: 'cond', op: 'type', field, types });
// Every condition on a single value excludes lists: MongoDB matches a list when one element matches.
const notList = (field: string) => fNot(typed(field, ['array']));
const scalarOf = (field: string, types: ValueType[]) => fAnd(typed(field, types), notList(field));
const inValues = (field: string, values: FilterValue[]): Formula =>
  values.length === 0 ? FALSE : cond({ kind: 'cond', op: 'in', field, values });

// Python's `True == 1` and `False == 0`: a number or boolean also equals its other spelling.
function spellings(value: number | boolean): FilterValue[] {
  const key = pythonKey(value) as number;
  if (key === 1) return [1, true];
  if (key === 0) return [0, false];
  return [key];
}

/** Members equal (Python's `==`) to one of the primitives, split into list values and "null is a member". */
function membersOf(values: readonly unknown[]): { values: FilterValue[]; withNull: boolean } | undefined {
  const out: FilterValue[] = [];
  let withNull = false;
  for (const value of values) {
    if (!isPrimitiveKey(value)) continue;
    if (value === null) withNull = true;
    else if (typeof value === 'string') out.push(value);
    else if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
    else out.push(...spellings(value));
  }
  return { values: [...new Set(out)], withNull };
}

/** The single value `field` equals `value` (Python's `==`); undefined for values without a filter form. */
function equalTo(field: string, value: unknown): Formula | undefined {
  if (value === null) return scalarOf(field, ['null']);
  if (typeof value === 'string') return fAnd(cond({ kind: 'cond', op: 'eq', field, value }), notList(field));
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
    return fAnd(inValues(field, spellings(value)), notList(field));
  }
  return undefined;
}

/** A single primitive value that is one of the members (an `In` list, a subject's list). */
function memberOf(field: string, members: readonly unknown[]): Formula | undefined {
  const found = membersOf(members);
  if (!found) return undefined;
  return fOr(fAnd(inValues(field, found.values), notList(field)), found.withNull ? scalarOf(field, ['null']) : FALSE);
}

const PRIMITIVE_TYPES: ValueType[] = ['string', 'number', 'bool', 'null'];
const ORDERING = { Greater: 'gt', Less: 'lt', GreaterOrEqual: 'gte', LessOrEqual: 'lte' } as const;
const ACCEPT = {
  gt: (order: number) => order > 0,
  lt: (order: number) => order < 0,
  gte: (order: number) => order >= 0,
  lte: (order: number) => order <= 0,
};

// ---- the evaluator -------------------------------------------------------------------------------

/** Where a rule is applied: a known value, one resource attribute (present), or the whole resource. */
type Target = { kind: 'known'; value: unknown } | { kind: 'field'; name: string } | { kind: 'resource' };

interface Known {
  inquiry: NormalizedInquiry;
  /** Resource attributes known in advance (laid over each resource's own). */
  resource: Readonly<Record<string, unknown>>;
}

function entriesOf(attributes: AttributeRules): [string, Rule][] {
  return Object.keys(attributes).map((name) => [name, attributes[name]!]);
}

/** True when `f` can only hold where `field` is present (then an `exists` test adds nothing). */
function requiresField(f: Formula, field: string): boolean {
  switch (f.kind) {
    case 'node':
      return nodeRequires(f.node, field);
    case 'and':
      return f.parts.some((part) => requiresField(part, field));
    case 'or':
      return f.parts.length > 0 && f.parts.every((part) => requiresField(part, field));
    default:
      return false;
  }
}

function nodeRequires(node: FilterNode, field: string): boolean {
  if (node.kind === 'and') return node.nodes.some((child) => nodeRequires(child, field));
  if (node.kind === 'or') return node.nodes.length > 0 && node.nodes.every((child) => nodeRequires(child, field));
  if (node.kind !== 'cond' || node.field !== field) return false;
  switch (node.op) {
    // MongoDB's `{ f: null }` and `$in: [null]` also match a missing field; the others need it present.
    case 'eq':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'startswith':
    case 'contains':
      return node.value !== null;
    case 'in':
      return node.values.length > 0 && !node.values.some((value) => value === null);
    case 'type':
      return true;
    default:
      return false;
  }
}

/** Attribute names a filter can address as they are: no path separators, operators or empty names. */
function addressable(name: string): boolean {
  return name !== '' && !name.includes('.') && !name.startsWith('$') && !name.includes('\u0000');
}

class PartialEvaluator {
  readonly unfilterable: UnfilterableRule[] = [];
  #policy = '';
  #touched = false;
  readonly #probe: NormalizedInquiry;

  constructor(readonly known: Known) {
    const touch = () => {
      this.#touched = true;
    };
    const { subject, action, context } = known.inquiry;
    // Rules evaluated on known values read the resource only through this getter: reading it means the
    // outcome depends on the resource, and the rule is evaluated symbolically instead.
    this.#probe = {
      subject,
      action,
      context,
      get resource() {
        touch();
        return undefined;
      },
    };
  }

  #unfilterable(path: string, rule: string, reason: string): Outcome {
    this.unfilterable.push({ policy: this.#policy, path, rule, reason });
    return UNKNOWN_OUTCOME;
  }

  /** The policy's match as a formula, and where evaluating it fails (which denies the whole decision). */
  policy(policy: Policy): { match: Formula; error: Formula } {
    this.#policy = policy.uid;
    let reached: Formula = TRUE;
    // vakt's order: actions, subjects, resources, then the context; each is reached only if the ones before fit.
    for (const field of ['actions', 'subjects', 'resources'] as const) {
      const fits = this.#field(field, policy[field]);
      reached = fAnd(reached, fits);
      if (isFalse(reached)) return { match: FALSE, error: FALSE };
    }
    // A context rule that is unfit fails the decision (vakt's guard catches the exception there).
    let error: Formula = FALSE;
    for (const [name, rule] of entriesOf(policy.context)) {
      if (!Object.hasOwn(this.known.inquiry.context, name)) return { match: FALSE, error };
      const outcome = this.#rule(rule, { kind: 'known', value: this.known.inquiry.context[name] }, `context.${name}`);
      error = fOr(error, fAnd(reached, fNot(outcome.d)));
      reached = fAnd(reached, outcome.t);
      if (isFalse(reached)) break;
    }
    return { match: reached, error };
  }

  // Policies are read through their public shape (elements and rules), not the checkers' compiled form.
  #field(field: PolicyField, elements: readonly PolicyElement[]): Formula {
    // Most policies are decided by their actions and subjects alone: check those as the rules checker
    // does, without building formulas, unless a rule reads the resource or raises.
    if (field !== 'resources') {
      const fits = this.#knownFits(elements, this.known.inquiry[field === 'subjects' ? 'subject' : 'action']);
      if (fits !== undefined) return fits ? TRUE : FALSE;
    }
    const parts: Formula[] = [];
    elements.forEach((element, index) => {
      // An element fits where its rules hold; an unfit element simply does not fit.
      parts.push(this.#element(element, field, `${field}[${index}]`));
    });
    return fOr(...parts);
  }

  /** Whether a known value fits some element (RulesChecker's test), or undefined when that depends on the resource. */
  #knownFits(elements: readonly PolicyElement[], value: unknown): boolean | undefined {
    this.#touched = false;
    try {
      for (const element of elements) {
        if (this.#knownElementFits(element, value)) return this.#touched ? undefined : true;
      }
    } catch (error) {
      if (this.#touched || !(error instanceof UnfitValueError)) return undefined;
    }
    return this.#touched ? undefined : false;
  }

  #knownElementFits(element: PolicyElement, value: unknown): boolean {
    if (isRule(element)) {
      try {
        return element.satisfied(value, this.#probe);
      } catch (error) {
        if (error instanceof UnfitValueError) return false;
        throw error;
      }
    }
    if (typeof element === 'string') return false;
    try {
      for (const name in element) {
        const attribute = ownAttribute(value, name);
        if (!attribute.found || !element[name]!.satisfied(attribute.value, this.#probe)) return false;
      }
    } catch (error) {
      if (error instanceof UnfitValueError) return false;
      throw error;
    }
    return true;
  }

  #element(element: PolicyElement, field: PolicyField, path: string): Formula {
    if (field !== 'resources') {
      const value = this.known.inquiry[field === 'subjects' ? 'subject' : 'action'];
      if (isRule(element)) return this.#rule(element, { kind: 'known', value }, path).t;
      if (typeof element === 'string') return FALSE;
      const parts: Formula[] = [];
      for (const [name, rule] of entriesOf(element)) {
        const attribute = ownAttribute(value, name);
        if (!attribute.found) return FALSE;
        parts.push(this.#rule(rule, { kind: 'known', value: attribute.value }, `${path}.${name}`).t);
      }
      return fAnd(...parts);
    }
    if (isRule(element)) return this.#rule(element, { kind: 'resource' }, path).t;
    if (typeof element === 'string') return FALSE;
    const parts: Formula[] = [];
    for (const [name, rule] of entriesOf(element)) {
      const at = `${path}.${name}`;
      if (Object.hasOwn(this.known.resource, name)) {
        parts.push(this.#rule(rule, { kind: 'known', value: this.known.resource[name] }, at).t);
      } else if (!addressable(name)) {
        parts.push(this.#unfilterable(at, rule.type, `the attribute name "${name}" cannot be a filter path`).t);
      } else {
        const holds = this.#rule(rule, { kind: 'field', name }, at).t;
        parts.push(requiresField(holds, name) ? holds : fAnd(exists(name), holds));
      }
    }
    return fAnd(...parts);
  }

  #rule(rule: Rule, target: Target, path: string): Outcome {
    switch (rule.type) {
      case 'Not': {
        const inner = this.#rule(rule.args.rule as Rule, target, path);
        return { t: fAnd(inner.d, fNot(inner.t)), d: inner.d };
      }
      case 'And': {
        const rules = rule.args.rules as Rule[];
        // vakt: an empty And() never holds.
        if (rules.length === 0) return FAILS;
        // In order, stopping at the first that does not hold (false or unfit).
        let allTrue: Formula = TRUE;
        let defined: Formula = FALSE;
        for (const [index, child] of rules.entries()) {
          const outcome = this.#rule(child, target, `${path}.rules[${index}]`);
          defined = fOr(defined, fAnd(allTrue, outcome.d, fNot(outcome.t)));
          allTrue = fAnd(allTrue, outcome.t);
          if (isFalse(allTrue)) break;
        }
        return { t: allTrue, d: fOr(defined, allTrue) };
      }
      case 'Or': {
        const rules = rule.args.rules as Rule[];
        let allFalse: Formula = TRUE;
        let holds: Formula = FALSE;
        for (const [index, child] of rules.entries()) {
          const outcome = this.#rule(child, target, `${path}.rules[${index}]`);
          holds = fOr(holds, fAnd(allFalse, outcome.t));
          allFalse = fAnd(allFalse, outcome.d, fNot(outcome.t));
          if (isFalse(allFalse)) break;
        }
        return { t: holds, d: fOr(holds, allFalse) };
      }
    }
    if (target.kind === 'known') return this.#known(rule, target.value, path);
    if (target.kind === 'resource') return this.#wholeResource(rule, path);
    return this.#onField(rule, target.name, path);
  }

  /** A rule on a known value: run it, unless it reads the resource. */
  #known(rule: Rule, value: unknown, path: string): Outcome {
    this.#touched = false;
    let outcome: Outcome;
    try {
      outcome = rule.satisfied(value, this.#probe) ? HOLDS : FAILS;
    } catch (error) {
      if (!this.#touched && error instanceof UnfitValueError) return UNFIT;
      if (!this.#touched) {
        if (error instanceof RegexBudgetError) throw error;
        return this.#unfilterable(path, rule.type, `the rule raised: ${(error as Error).message}`);
      }
      outcome = UNKNOWN_OUTCOME;
    }
    if (!this.#touched) return outcome;
    switch (rule.type) {
      case 'ResourceMatch': {
        const attribute = rule.args.attribute as string | undefined;
        if (attribute === undefined) {
          // A value equal to the whole resource (an object): no primitive is.
          if (isPrimitiveKey(value)) return FAILS;
          return this.#unfilterable(path, rule.type, 'compares a value with the whole resource');
        }
        return this.#attributeEquals(attribute, value, path, rule.type);
      }
      case 'ResourceIn':
        if (!Array.isArray(value) || value.every(isPrimitiveKey)) return FAILS;
        return this.#unfilterable(path, rule.type, 'looks for the whole resource in a list of objects');
      default:
        return this.#unfilterable(path, rule.type, 'a custom rule that reads the resource');
    }
  }

  /** The resource's `attribute` equals a known value. */
  #attributeEquals(attribute: string, value: unknown, path: string, type: string): Outcome {
    if (Object.hasOwn(this.known.resource, attribute)) {
      return valuesEqual(value, this.known.resource[attribute]) ? HOLDS : FAILS;
    }
    if (!addressable(attribute))
      return this.#unfilterable(path, type, `the attribute name "${attribute}" cannot be a filter path`);
    const equal = equalTo(attribute, value);
    if (!equal) return this.#unfilterable(path, type, 'compares with a list or an object');
    return { t: fAnd(exists(attribute), equal), d: TRUE };
  }

  /** A rule applied to the whole resource, an object with attributes. */
  #wholeResource(rule: Rule, path: string): Outcome {
    const { value } = rule.args as { value?: unknown };
    switch (rule.type) {
      case 'Any':
      case 'Truthy':
        return HOLDS;
      // String, network and inquiry-string rules test for a string or a list first.
      case 'Neither':
      case 'Falsy':
      case 'Equal':
      case 'StartsWith':
      case 'EndsWith':
      case 'Contains':
      case 'CIDR':
      case 'SubjectEqual':
      case 'ActionEqual':
      case 'ResourceIn':
      case 'PairsEqual':
      case 'InSubject':
        return FAILS;
      case 'Eq':
        return isPrimitiveKey(value) ? FAILS : this.#unfilterable(path, rule.type, 'compares the whole resource');
      case 'NotEq':
        return isPrimitiveKey(value) ? HOLDS : this.#unfilterable(path, rule.type, 'compares the whole resource');
      case 'Greater':
      case 'Less':
      case 'GreaterOrEqual':
      case 'LessOrEqual':
      case 'In':
      case 'NotIn':
      case 'AllIn':
      case 'AllNotIn':
      case 'AnyIn':
      case 'AnyNotIn':
        return UNFIT;
      case 'ResourceMatch':
        // Equal to itself without an attribute; no attribute of a finite object equals the whole object.
        return rule.args.attribute === undefined ? HOLDS : FAILS;
      case 'SubjectMatch':
      case 'ActionMatch': {
        const other = this.#inquiryValue(rule);
        if (!other.found || isPrimitiveKey(other.value)) return FAILS;
        return this.#unfilterable(path, rule.type, 'compares the whole resource with an object');
      }
      default:
        return this.#unfilterable(path, rule.type, 'no filter form for this rule on the whole resource');
    }
  }

  #inquiryValue(rule: Rule): { found: boolean; value: unknown } {
    const whole = rule.type === 'SubjectMatch' ? this.known.inquiry.subject : this.known.inquiry.action;
    const attribute = rule.args.attribute as string | undefined;
    return attribute === undefined ? { found: true, value: whole } : ownAttribute(whole, attribute);
  }

  /** A rule on one resource attribute (present): its filter form. */
  #onField(rule: Rule, field: string, path: string): Outcome {
    const args = rule.args as Record<string, unknown>;
    const unknown = (reason: string) => this.#unfilterable(path, rule.type, reason);
    switch (rule.type) {
      case 'Any':
        return HOLDS;
      case 'Neither':
        return FAILS;
      case 'Eq':
      case 'NotEq': {
        const equal = equalTo(field, args.value);
        if (!equal) return unknown('compares with a list or an object');
        return { t: rule.type === 'Eq' ? equal : fNot(equal), d: TRUE };
      }
      case 'Greater':
      case 'Less':
      case 'GreaterOrEqual':
      case 'LessOrEqual': {
        const op = ORDERING[rule.type];
        const value = args.value as number | string | boolean;
        if (typeof value === 'string') {
          return {
            t: fAnd(cond({ kind: 'cond', op, field, value }), notList(field)),
            d: scalarOf(field, ['string']),
          };
        }
        // Python orders booleans as the numbers 0 and 1, and raises across other types (the rule is unfit).
        const operand = pythonKey(value) as number;
        const booleans = [false, true].filter((flag) => ACCEPT[op](Number(flag) - operand));
        return {
          t: fOr(
            fAnd(cond({ kind: 'cond', op, field, value: operand }), notList(field)),
            fAnd(inValues(field, booleans), notList(field)),
          ),
          d: scalarOf(field, ['number', 'bool']),
        };
      }
      case 'In':
      case 'NotIn': {
        const member = memberOf(field, args.values as unknown[]);
        if (!member) return unknown('a list value that is not finite');
        // Only a hashable (primitive) value can be looked up; anything else makes the rule unfit.
        const d = scalarOf(field, PRIMITIVE_TYPES);
        return { t: rule.type === 'In' ? member : fAnd(d, fNot(member)), d };
      }
      case 'AnyIn': {
        const found = membersOf(args.values as unknown[]);
        if (!found) return unknown('a list value that is not finite');
        // Assumes list elements are primitives (an object element before a match makes vakt's rule unfit).
        const isList = typed(field, ['array']);
        return {
          t: fAnd(isList, fOr(inValues(field, found.values), found.withNull ? typed(field, ['null']) : FALSE)),
          d: isList,
        };
      }
      case 'Equal':
      case 'StartsWith':
      case 'Contains': {
        if (args.ci === true) return unknown('case-insensitive matching has no exact filter form');
        const op = rule.type === 'Equal' ? 'eq' : rule.type === 'StartsWith' ? 'startswith' : 'contains';
        return { t: fAnd(cond({ kind: 'cond', op, field, value: args.value as string }), notList(field)), d: TRUE };
      }
      case 'SubjectMatch':
      case 'ActionMatch': {
        const other = this.#inquiryValue(rule);
        if (!other.found) return FAILS;
        const equal = equalTo(field, other.value);
        return equal ? { t: equal, d: TRUE } : unknown('compares with a list or an object');
      }
      case 'SubjectEqual':
      case 'ActionEqual': {
        const other = rule.type === 'SubjectEqual' ? this.known.inquiry.subject : this.known.inquiry.action;
        if (typeof other !== 'string') return FAILS;
        return { t: fAnd(cond({ kind: 'cond', op: 'eq', field, value: other }), notList(field)), d: TRUE };
      }
      case 'ResourceMatch': {
        const attribute = args.attribute as string | undefined;
        if (attribute === field) return HOLDS;
        if (attribute !== undefined && Object.hasOwn(this.known.resource, attribute)) {
          const equal = equalTo(field, this.known.resource[attribute]);
          return equal ? { t: equal, d: TRUE } : unknown('compares with a list or an object');
        }
        return unknown('compares two resource attributes');
      }
      case 'InSubject': {
        const list = ownAttribute(this.known.inquiry.subject, args.attribute as string);
        if (!list.found || !Array.isArray(list.value)) return FAILS;
        const member = memberOf(field, list.value);
        return member ? { t: member, d: TRUE } : unknown('a subject list value that is not finite');
      }
      case 'AllIn':
      case 'AllNotIn':
      case 'AnyNotIn':
        // "Every element" needs $elemMatch, which FerretDB v1 does not apply element by element.
        return unknown('tests every element of a list, which has no filter form on both MongoDB and FerretDB');
      case 'Truthy':
      case 'Falsy':
        return unknown('cannot tell empty lists and objects apart in a filter');
      case 'RegexMatch':
        return unknown("Python's re.match on the value's str() has no exact MongoDB $regex form");
      case 'EndsWith':
        return unknown('MongoDB\'s "$" also matches before a final newline');
      case 'CIDR':
        return unknown('address ranges have no filter form');
      default:
        return unknown('no filter form for this rule');
    }
  }
}

export interface QueryForInput {
  subject: unknown;
  action: unknown;
  /** Attributes every resource of the kind has in common; each resource's own attributes complete it. */
  resource: Readonly<Record<string, unknown>>;
  context: Record<string, unknown> | undefined;
}

/**
 * Reduces rule-based policies to the resources they allow (see `Guard.queryFor`). `policies` must hold
 * every policy of the checker's type that could match (the guard passes all of them).
 */
export function partialEvaluate(policies: Iterable<Policy>, checker: Checker, input: QueryForInput): ResourceQuery {
  const known: Known = {
    inquiry: normalizeInquiry({ subject: input.subject, action: input.action, resource: {}, context: input.context }),
    resource: input.resource,
  };
  const evaluator = new PartialEvaluator(known);
  let allow: Formula = FALSE;
  let deny: Formula = FALSE;
  let error: Formula = FALSE;
  const run = () => {
    for (const policy of policies) {
      if (policy.type !== checker.policyType) continue;
      const { match, error: fails } = evaluator.policy(policy);
      if (policy.effect === 'deny') deny = fOr(deny, match);
      else allow = fOr(allow, match);
      error = fOr(error, fails);
    }
  };
  try {
    withinRegexBudget(run);
  } catch (failure) {
    // The guard denies a decision whose regexes run over budget; so does its query.
    if (failure instanceof RegexBudgetError) return { kind: 'never', filter: matchNone, unfilterable: [] };
    throw failure;
  }
  const allowed = fAnd(allow, fNot(deny), fNot(error));
  return resultOf(lower(allowed, true), evaluator.unfilterable);
}

/**
 * String-based policies (regex, exact and fuzzy checkers) compare strings: a resource that is an object
 * fits none of their resources, whatever its attributes, so one decision answers for every resource.
 */
export function constantQuery(allowed: boolean): ResourceQuery {
  return resultOf(allowed ? matchAll : matchNone, []);
}

function resultOf(filter: FilterNode, unfilterable: UnfilterableRule[]): ResourceQuery {
  const kind =
    filter.kind === 'and' && filter.nodes.length === 0
      ? 'always'
      : filter.kind === 'or' && filter.nodes.length === 0
        ? 'never'
        : 'condition';
  return { kind, filter, unfilterable };
}

/** The resource one record stands for in the guard's inquiries: its attributes under the known ones. */
export function resourceOf(
  known: Readonly<Record<string, unknown>>,
  record: Record<string, unknown>,
): Record<string, unknown> {
  return { ...record, ...known };
}
