// Policies: who (subjects) may do what (actions) to which resources in which context, with an effect.
import { ValidationError, type FieldProblem } from '../errors.js';
import { compileTagged, hasTags, UnbalancedTagsError, type TaggedPattern } from './regex-syntax.js';
import { defaultRuleRegistry, isRule, RuleArgumentError, type Rule, type RuleRegistry } from './rules/index.js';
import { join, listOf, PARSE_BOUNDED } from './rules/rule.js';
import { record, RECORD_PROTOTYPE } from '../own.js';
import { InternTable } from './intern.js';
import { MAX_POLICY_REGEX_PROGRAM, policyRegexProgram } from './regex-cost.js';
import { isPlainObject } from './values.js';

export type Effect = 'allow' | 'deny';
/** String-based policies are checked by the regex, exact and fuzzy checkers; rule-based by the rules checker. */
export type PolicyType = 'string' | 'rule';
export type PolicyField = 'subjects' | 'actions' | 'resources';
export const POLICY_FIELDS: readonly PolicyField[] = ['subjects', 'actions', 'resources'];

/** Attribute name → rule: every attribute must be present and satisfy its rule (AND). */
export type AttributeRules = Readonly<Record<string, Rule>>;
/** One alternative of a policy field (the list is OR'd). */
export type PolicyElement = string | Rule | AttributeRules;

/** What `policy()` accepts: vakt's constructor arguments. */
export interface PolicyDefinition {
  uid: string | number;
  description?: string | null;
  /** Default `deny`, as in vakt. */
  effect?: Effect;
  subjects?: readonly PolicyElement[];
  actions?: readonly PolicyElement[];
  resources?: readonly PolicyElement[];
  context?: AttributeRules;
}

/** A string of a string-based policy, compiled for the regex, exact and fuzzy checkers. */
export class CompiledString {
  constructor(
    readonly text: string,
    /** The `<...>` pattern; `undefined` for a string without tags or whose tags do not pair up. */
    readonly pattern: TaggedPattern | undefined,
    /** Tags that do not pair up: the regex checker gives up on the field, the others read the text. */
    readonly unbalanced: boolean,
  ) {
    Object.freeze(this);
  }
}

/**
 * An element as the checkers read it: a compiled string, or in a rule-based policy the element itself (a
 * rule or an attribute map), so such a policy holds no second copy of its elements.
 */
export type CompiledElement = CompiledString | Rule | AttributeRules;

/** True for an attribute map of a built policy (a `record()`), which no rule or compiled string is. */
export function isAttributeMap(element: CompiledElement): element is AttributeRules {
  return Object.getPrototypeOf(element) === RECORD_PROTOTYPE;
}

export interface CompiledParts {
  subjects: readonly CompiledElement[];
  actions: readonly CompiledElement[];
  resources: readonly CompiledElement[];
  /** The policy's `context` itself. */
  context: AttributeRules;
}

export const COMPILED = Symbol('portcullis.abac.compiled');

/** An immutable, validated and compiled policy. */
export interface Policy {
  readonly uid: string;
  readonly description: string | undefined;
  readonly effect: Effect;
  readonly type: PolicyType;
  readonly subjects: readonly PolicyElement[];
  readonly actions: readonly PolicyElement[];
  readonly resources: readonly PolicyElement[];
  readonly context: AttributeRules;
  /** What the checkers read; a rule-based policy is its own compiled form. */
  readonly [COMPILED]: CompiledParts;
}

export const MAX_UID_LENGTH = 256;
const MAX_ELEMENTS = 1000;

/** A policy that failed validation: names the uid and the path of every problem. */
export class PolicyValidationError extends ValidationError {
  readonly uid: string | undefined;
  constructor(uid: string | undefined, problems: FieldProblem[]) {
    const who = uid === undefined ? 'policy' : `policy "${uid}"`;
    const first = problems[0]!;
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(`${who}: ${first.field ? `${first.field}: ` : ''}${first.message}${more}`, {
      code: 'abac.invalid_policy',
      errors: problems,
    });
    this.uid = uid;
  }
}

export interface PolicyBuildOptions {
  /** Rule types understood when elements are given as JSON. Default: the default registry. */
  registry?: RuleRegistry;
}

/** Validates and compiles a policy; throws `PolicyValidationError` listing every problem. */
export function policy(definition: PolicyDefinition, options: PolicyBuildOptions = {}): Policy {
  return buildPolicy(definition, options.registry ?? defaultRuleRegistry, false);
}

/**
 * `policy()` for JSON whose nesting the caller has bounded (`policyFromJSON` walks each policy once), so
 * its rules are not walked again one by one.
 */
export function policyFromBoundedJson(definition: PolicyDefinition, registry?: RuleRegistry): Policy {
  return buildPolicy(definition, registry ?? defaultRuleRegistry, true);
}

function buildPolicy(definition: PolicyDefinition, registry: RuleRegistry, bounded: boolean): Policy {
  if (!isPlainObject(definition))
    throw new PolicyValidationError(undefined, [{ field: '', message: 'must be an object' }]);
  const reader = new PolicyReader(registry, bounded);

  let uid: string | undefined;
  if (typeof definition.uid === 'number' && Number.isFinite(definition.uid)) uid = String(definition.uid);
  else if (typeof definition.uid === 'string' && definition.uid !== '' && definition.uid.length <= MAX_UID_LENGTH)
    uid = definition.uid;
  else reader.problem('uid', `is required: a non-empty string of at most ${MAX_UID_LENGTH} characters, or a number`);

  const effect = definition.effect ?? 'deny';
  if (effect !== 'allow' && effect !== 'deny') reader.problem('effect', 'must be "allow" or "deny"');
  const description = definition.description ?? undefined;
  if (description !== undefined && typeof description !== 'string') reader.problem('description', 'must be a string');

  const subjects = reader.field('subjects', definition.subjects);
  const subjectStrings = reader.strings;
  const actions = reader.field('actions', definition.actions);
  const actionStrings = reader.strings;
  const resources = reader.field('resources', definition.resources);
  const resourceStrings = reader.strings;
  reader.refuseMixing();
  let context: AttributeRules | undefined;
  if (definition.context === undefined || definition.context === null) context = NO_ATTRIBUTES;
  else if (!isPlainObject(definition.context))
    reader.problem('context', 'must be an object mapping context keys to rules');
  else context = reader.attributes(definition.context, 'context', -1);
  if (reader.problems.length > 0) throw new PolicyValidationError(uid, reader.problems);

  const stringBased = reader.stringField !== undefined;
  const result = {
    uid: uid!,
    description,
    effect,
    type: stringBased ? 'string' : 'rule',
    subjects,
    actions,
    resources,
    context: context!,
    [COMPILED]: undefined as unknown as CompiledParts,
  } satisfies Policy;
  result[COMPILED] = stringBased
    ? {
        subjects: subjectStrings ?? NO_ELEMENTS,
        actions: actionStrings ?? NO_ELEMENTS,
        resources: resourceStrings ?? NO_ELEMENTS,
        context: context!,
      }
    : (result as unknown as CompiledParts);
  const program = policyRegexProgram(result[COMPILED]);
  if (program > MAX_POLICY_REGEX_PROGRAM) {
    throw new PolicyValidationError(uid, [
      {
        field: '',
        message: `its regexes compile to ${program} instructions in all (at most ${MAX_POLICY_REGEX_PROGRAM}): every decision it is checked in would run out of the regex budget and deny; use fewer or smaller patterns`,
        code: 'regex.too_costly',
      },
    ]);
  }
  return Object.freeze(result);
}

// Shared by every policy without such parts: most policies leave the context or a field empty.
const NO_ATTRIBUTES: AttributeRules = Object.freeze(record<Rule>());
const NO_ELEMENTS: readonly never[] = Object.freeze([]);

interface StringLists {
  elements: readonly string[];
  compiled: readonly CompiledString[];
}

// One-attribute maps by attribute name, then rule; and the one-element list of each such map.
const singleAttributes = new InternTable<string, WeakMap<Rule, AttributeRules>>(10_000);
const attributeLists = new WeakMap<AttributeRules, readonly PolicyElement[]>();

// Many string-based policies hold the same one-string field (`"<read|get>"`): it shares its two lists.
const singleStrings = new InternTable<string, StringLists>(10_000);

/**
 * Reads one policy's fields, collecting every problem. Paths are built only for problems: a large file
 * has none, and a path string per element was most of what loading allocated.
 */
class PolicyReader {
  readonly problems: FieldProblem[] = [];
  /** Where the first string and the first rule element are, for the mixing problem. */
  stringField: PolicyField | undefined;
  #stringIndex = 0;
  #ruleField: PolicyField | undefined;
  #ruleIndex = 0;
  /** The compiled strings of the field just read; `undefined` when it holds no string. */
  strings: readonly CompiledString[] | undefined;
  readonly #registry: RuleRegistry;
  readonly #bounded: boolean;

  constructor(registry: RuleRegistry, bounded: boolean) {
    this.#registry = registry;
    this.#bounded = bounded;
  }

  problem(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** The elements of a field; also sets `strings`. */
  field(field: PolicyField, list: unknown): readonly PolicyElement[] {
    this.strings = undefined;
    if (list === undefined || list === null) return NO_ELEMENTS;
    if (!Array.isArray(list)) {
      this.problem(field, 'must be a list');
      return NO_ELEMENTS;
    }
    if (list.length > MAX_ELEMENTS) {
      this.problem(field, `has more than ${MAX_ELEMENTS} elements`);
      return NO_ELEMENTS;
    }
    if (list.length === 0) return NO_ELEMENTS;
    if (list.length === 1 && typeof list[0] === 'string') {
      this.#sawString(field, 0);
      const text = list[0];
      const shared = singleStrings.get(text);
      if (shared) {
        this.strings = shared.compiled;
        return shared.elements;
      }
      const compiled = this.#compileString(text, field, 0);
      if (!compiled) return NO_ELEMENTS;
      const lists = { elements: Object.freeze([text]), compiled: Object.freeze([compiled]) };
      singleStrings.set(text, lists);
      this.strings = lists.compiled;
      return lists.elements;
    }
    // Copies of the list's own size, overwritten in place (a list grown by push keeps room for 17).
    const elements = list.slice() as PolicyElement[];
    let strings: CompiledString[] | undefined;
    for (let index = 0; index < list.length; index++) {
      const element: unknown = list[index];
      if (typeof element === 'string') {
        this.#sawString(field, index);
        const compiled = this.#compileString(element, field, index);
        if (compiled) (strings ??= list.slice() as CompiledString[])[index] = compiled;
        continue;
      }
      if (this.#ruleField === undefined) {
        this.#ruleField = field;
        this.#ruleIndex = index;
      }
      if (isRule(element) || (isPlainObject(element) && typeof element.type === 'string')) {
        const rule = this.rule(element, field, index, undefined);
        if (rule) elements[index] = rule;
      } else if (isPlainObject(element)) {
        const attributes = this.attributes(element, field, index);
        if (attributes) elements[index] = attributes;
      } else {
        this.problem(`${field}[${index}]`, 'must be a string, a rule, or an object mapping attribute names to rules');
      }
    }
    this.strings = strings && Object.freeze(strings);
    // A field of one rule is the list that rule keeps for it, shared by every policy holding it alone.
    if (elements.length === 1 && isRule(elements[0])) return listOf(elements[0]);
    if (elements.length === 1 && attributeLists.has(elements[0] as AttributeRules)) {
      return attributeLists.get(elements[0] as AttributeRules)!;
    }
    return Object.freeze(elements);
  }

  /** Reports a policy mixing strings and rules, at the first element of the later kind. */
  refuseMixing(): void {
    if (this.stringField === undefined || this.#ruleField === undefined) return;
    const stringFirst =
      POLICY_FIELDS.indexOf(this.stringField) * MAX_ELEMENTS + this.#stringIndex <
      POLICY_FIELDS.indexOf(this.#ruleField) * MAX_ELEMENTS + this.#ruleIndex;
    this.problem(
      stringFirst ? elementPath(this.#ruleField, this.#ruleIndex) : elementPath(this.stringField, this.#stringIndex),
      'mixes string and rule elements: a policy is either string-based (regex syntax) or rule-based',
    );
  }

  rule(json: unknown, field: string, index: number, name: string | undefined): Rule | undefined {
    try {
      return this.#bounded ? this.#registry[PARSE_BOUNDED](json) : this.#registry.parse(json);
    } catch (error) {
      const path = elementPath(field, index, name);
      if (error instanceof RuleArgumentError) this.problem(join(path, error.path), error.message);
      else this.problem(path, (error as Error).message);
      return undefined;
    }
  }

  attributes(object: Record<string, unknown>, field: string, index: number): AttributeRules | undefined {
    let only: string | undefined;
    let count = 0;
    for (const name in object) {
      if (!Object.hasOwn(object, name)) continue;
      only = name;
      if (++count > 1) break;
    }
    if (count === 1) {
      // One attribute (`{ role: Eq("admin") }`, `{ ip: CIDR(...) }`): its map and one-element list are
      // shared by every policy naming the same attribute with the same (interned) rule.
      const rule = this.rule(object[only!], field, index, only);
      if (!rule) return undefined;
      let byRule = singleAttributes.get(only!);
      if (!byRule) singleAttributes.set(only!, (byRule = new WeakMap()));
      let shared = byRule.get(rule);
      if (!shared) {
        const result = record<Rule>();
        result[only!] = rule;
        shared = Object.freeze(result);
        byRule.set(rule, shared);
        attributeLists.set(shared, Object.freeze([shared]));
      }
      return shared;
    }
    // An attribute named `__proto__` or `constructor` stays an ordinary key.
    const result = record<Rule>();
    let ok = true;
    for (const name in object) {
      if (!Object.hasOwn(object, name)) continue;
      const rule = this.rule(object[name], field, index, name);
      if (rule) result[name] = rule;
      else ok = false;
    }
    return ok ? Object.freeze(result) : undefined;
  }

  #sawString(field: PolicyField, index: number): void {
    if (this.stringField !== undefined) return;
    this.stringField = field;
    this.#stringIndex = index;
  }

  #compileString(text: string, field: string, index: number): CompiledString | undefined {
    if (!hasTags(text)) return new CompiledString(text, undefined, false);
    try {
      return new CompiledString(text, compileTagged(text), false);
    } catch (error) {
      // Plain text to the exact and fuzzy checkers; the regex checker gives up on the field, as vakt does.
      if (error instanceof UnbalancedTagsError) return new CompiledString(text, undefined, true);
      this.problem(`${field}[${index}]`, `invalid regex: ${(error as Error).message}`);
      return undefined;
    }
  }
}

function elementPath(field: string, index: number, name?: string): string {
  const path = index < 0 ? field : `${field}[${index}]`;
  return name === undefined ? path : `${path}.${name}`;
}

/** vakt's `PolicyAllow`: a policy whose effect is allow. */
export function allow(definition: Omit<PolicyDefinition, 'effect'>, options?: PolicyBuildOptions): Policy {
  return policy({ ...definition, effect: 'allow' }, options);
}

/** vakt's `PolicyDeny`: a policy whose effect is deny. */
export function deny(definition: Omit<PolicyDefinition, 'effect'>, options?: PolicyBuildOptions): Policy {
  return policy({ ...definition, effect: 'deny' }, options);
}
