// Policies: who (subjects) may do what (actions) to which resources in which context, with an effect.
import { ValidationError, type FieldProblem } from '../errors.js';
import { compileTagged, hasTags, UnbalancedTagsError, type TaggedPattern } from './regex-syntax.js';
import { defaultRuleRegistry, isRule, RuleArgumentError, type Rule, type RuleRegistry } from './rules/index.js';
import { isCompiledRule } from './rules/rule.js';
import { record } from '../own.js';
import { InternTable } from './intern.js';
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

/** A compiled element, ready for the checkers. */
export type CompiledElement =
  | { kind: 'string'; text: string; pattern: TaggedPattern | undefined; unbalanced?: true }
  | { kind: 'rule'; rule: Rule }
  /** The policy's own attribute map (a `record()`: `for...in` sees exactly its attributes). */
  | { kind: 'attributes'; attributes: AttributeRules };

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
  const registry = options.registry ?? defaultRuleRegistry;
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!isPlainObject(definition))
    throw new PolicyValidationError(undefined, [{ field: '', message: 'must be an object' }]);

  let uid: string | undefined;
  if (typeof definition.uid === 'number' && Number.isFinite(definition.uid)) uid = String(definition.uid);
  else if (typeof definition.uid === 'string' && definition.uid !== '' && definition.uid.length <= MAX_UID_LENGTH)
    uid = definition.uid;
  else problem('uid', `is required: a non-empty string of at most ${MAX_UID_LENGTH} characters, or a number`);

  const effect = definition.effect ?? 'deny';
  if (effect !== 'allow' && effect !== 'deny') problem('effect', 'must be "allow" or "deny"');
  const description = definition.description ?? undefined;
  if (description !== undefined && typeof description !== 'string') problem('description', 'must be a string');

  let sawString: string | undefined;
  let sawRule: string | undefined;
  let firstKind: 'string' | 'rule' | undefined;
  const fields = {} as Record<PolicyField, { elements: PolicyElement[]; compiled: CompiledElement[] }>;
  for (const field of POLICY_FIELDS) {
    const list = definition[field] ?? [];
    const elements: PolicyElement[] = [];
    const compiled: CompiledElement[] = [];
    fields[field] = { elements, compiled };
    if (!Array.isArray(list)) {
      problem(field, 'must be a list');
      continue;
    }
    if (list.length > MAX_ELEMENTS) {
      problem(field, `has more than ${MAX_ELEMENTS} elements`);
      continue;
    }
    list.forEach((element: unknown, index: number) => {
      const path = `${field}[${index}]`;
      if (typeof element === 'string') {
        sawString ??= path;
        firstKind ??= 'string';
        let pattern: TaggedPattern | undefined;
        if (hasTags(element)) {
          try {
            pattern = compileTagged(element);
          } catch (error) {
            if (error instanceof UnbalancedTagsError) {
              // Plain text to the exact and fuzzy checkers; the regex checker gives up on the field, as vakt does.
              elements.push(element);
              compiled.push({ kind: 'string', text: element, pattern: undefined, unbalanced: true });
              return;
            }
            problem(path, `invalid regex: ${(error as Error).message}`);
            return;
          }
        }
        elements.push(element);
        compiled.push({ kind: 'string', text: element, pattern });
        return;
      }
      sawRule ??= path;
      firstKind ??= 'rule';
      if (isRule(element) || (isPlainObject(element) && typeof element.type === 'string' && !isRule(element.type))) {
        const rule = parseRule(registry, element, path, problem);
        if (rule) {
          elements.push(rule);
          compiled.push(isCompiledRule(rule) ? rule : { kind: 'rule', rule });
        }
        return;
      }
      if (isPlainObject(element)) {
        const attributes = parseAttributes(registry, element, path, problem);
        if (attributes) {
          elements.push(attributes);
          compiled.push({ kind: 'attributes', attributes });
        }
        return;
      }
      problem(path, 'must be a string, a rule, or an object mapping attribute names to rules');
    });
  }
  if (sawString !== undefined && sawRule !== undefined) {
    problem(
      firstKind === 'string' ? sawRule : sawString,
      'mixes string and rule elements: a policy is either string-based (regex syntax) or rule-based',
    );
  }
  let context: ReturnType<typeof parseAttributes>;
  if (definition.context === undefined || definition.context === null) {
    context = NO_ATTRIBUTES;
  } else if (!isPlainObject(definition.context)) {
    problem('context', 'must be an object mapping context keys to rules');
  } else {
    context = parseAttributes(registry, definition.context, 'context', problem);
  }
  if (problems.length > 0) throw new PolicyValidationError(uid, problems);

  const subjects = fieldLists(fields.subjects);
  const actions = fieldLists(fields.actions);
  const resources = fieldLists(fields.resources);
  const result: Policy = {
    uid: uid!,
    description,
    effect,
    type: sawString !== undefined ? 'string' : 'rule',
    subjects: subjects.elements,
    actions: actions.elements,
    resources: resources.elements,
    context: context!,
    [COMPILED]: {
      subjects: subjects.compiled,
      actions: actions.compiled,
      resources: resources.compiled,
      context: context!,
    },
  };
  return Object.freeze(result);
}

// Shared by every policy without such parts: most policies leave the context or a field empty.
const NO_ATTRIBUTES: AttributeRules = Object.freeze(record<Rule>());
const NO_ELEMENTS: readonly never[] = Object.freeze([]);

interface FieldLists {
  elements: readonly PolicyElement[];
  compiled: readonly CompiledElement[];
}

const NO_LISTS: FieldLists = { elements: NO_ELEMENTS, compiled: NO_ELEMENTS };

// Most fields hold one element, and many policies the same one (`In("read", "get")`, `"<read|get>"`):
// such a field shares its two lists with every policy holding that same rule or string.
const singleLists = new InternTable<Rule | string, FieldLists>(10_000);

function fieldLists(field: { elements: PolicyElement[]; compiled: CompiledElement[] }): FieldLists {
  const { elements, compiled } = field;
  if (elements.length === 0) return NO_LISTS;
  const only = compiled[0]!;
  if (elements.length === 1 && only.kind !== 'attributes') {
    // A string's compiled form depends only on its text; a rule's is the rule.
    const key = only.kind === 'rule' ? only.rule : only.text;
    let shared = singleLists.get(key);
    if (!shared) {
      shared = exactLists(elements, compiled);
      singleLists.set(key, shared);
    }
    return shared;
  }
  return exactLists(elements, compiled);
}

// A list grown by push keeps room for 17 items (152 bytes for one element): keep exact-size copies, and
// one list for a field of rules, which are their own compiled elements.
function exactLists(elements: PolicyElement[], compiled: CompiledElement[]): FieldLists {
  const copy = Object.freeze(elements.slice());
  const same = compiled.every((element, i) => (element as unknown) === elements[i]);
  return {
    elements: copy,
    compiled: same ? (copy as unknown as readonly CompiledElement[]) : Object.freeze(compiled.slice()),
  };
}

/** vakt's `PolicyAllow`: a policy whose effect is allow. */
export function allow(definition: Omit<PolicyDefinition, 'effect'>, options?: PolicyBuildOptions): Policy {
  return policy({ ...definition, effect: 'allow' }, options);
}

/** vakt's `PolicyDeny`: a policy whose effect is deny. */
export function deny(definition: Omit<PolicyDefinition, 'effect'>, options?: PolicyBuildOptions): Policy {
  return policy({ ...definition, effect: 'deny' }, options);
}

function parseRule(
  registry: RuleRegistry,
  json: unknown,
  path: string,
  problem: (field: string, message: string) => void,
): Rule | undefined {
  try {
    return registry.parse(json, path);
  } catch (error) {
    if (error instanceof RuleArgumentError) problem(error.path || path, error.message);
    else problem(path, (error as Error).message);
    return undefined;
  }
}

function parseAttributes(
  registry: RuleRegistry,
  object: Record<string, unknown>,
  path: string,
  problem: (field: string, message: string) => void,
): AttributeRules | undefined {
  // An attribute named `__proto__` or `constructor` stays an ordinary key.
  const result = record<Rule>();
  let ok = true;
  for (const name in object) {
    if (!Object.hasOwn(object, name)) continue;
    const rule = parseRule(registry, object[name], `${path}.${name}`, problem);
    if (rule) result[name] = rule;
    else ok = false;
  }
  return ok ? Object.freeze(result) : undefined;
}
