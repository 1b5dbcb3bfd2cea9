// The Rule contract, rule definitions and the registry that turns rule JSON back into rules.
import { didYouMean } from '../../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../json-depth.js';
import type { NormalizedInquiry } from '../inquiry.js';
import type { Primitive } from '../values.js';
import { JsonInternTable } from '../intern.js';

const RULE = Symbol.for('portcullis.abac.rule');

/** Which inquiry values a rule can possibly accept, so the policy index can skip the rest. */
export interface IndexHint {
  /** The rule is satisfied only by one of these values. */
  exact: readonly Primitive[];
  /** ...or by a string starting with one of these (case-sensitive). */
  prefixes: readonly string[];
}

/** A compiled rule: a predicate over one value plus its JSON form. */
export interface Rule {
  readonly [RULE]: true;
  /** The rule's name in JSON, e.g. `Eq`. */
  readonly type: string;
  /** The rule's validated arguments (nested rules are `Rule` objects). */
  readonly args: Readonly<Record<string, unknown>>;
  /** True when `value` satisfies the rule; `inquiry` is the whole inquiry (for the inquiry rules). */
  satisfied(value: unknown, inquiry: NormalizedInquiry): boolean;
  /** What the index may use; `undefined` when any value could match. */
  readonly hint: IndexHint | undefined;
  /** `{ "type": ..., ...args }` with nested rules serialized too. */
  toJSON(): RuleJson;
}

export type RuleJson = { type: string } & Record<string, unknown>;

/** A problem found while reading a rule, with the path inside the rule (e.g. `rules[1].value`). */
export class RuleArgumentError extends Error {
  readonly path: string;
  /** Set once the path is relative to the policy field rather than to the rule being parsed. */
  absolute = false;
  constructor(message: string, path = '') {
    super(message);
    this.name = 'RuleArgumentError';
    this.path = path;
  }
}

/**
 * Thrown by a rule given a value it cannot judge where vakt raises (AllIn on a non-list, Greater across
 * types): it passes through Not/And/Or as vakt's exception does; a policy field then does not fit, and
 * in the context the whole decision denies (vakt's guard catches it there).
 */
export class UnfitValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnfitValueError';
  }
}

/** Reads a nested rule from JSON (or accepts an already built rule); `path` is relative to the parent. */
export type ParseNested = (json: unknown, path: string) => Rule;

/** How a rule type is read, validated, evaluated and written. */
export interface RuleDefinition<A extends Record<string, unknown> = Record<string, unknown>> {
  /** The `type` name in JSON. */
  type: string;
  /** Other names accepted when reading (e.g. `StrEqual` for `Equal`). */
  aliases?: readonly string[];
  /**
   * Validates the JSON fields (everything but `type`) and returns the arguments. Throw
   * `RuleArgumentError` naming the field for bad input. Nested rules go through `nested`.
   */
  parse(fields: Record<string, unknown>, nested: ParseNested): A;
  /** Builds the predicate once; it runs on every decision, so keep it cheap. Throws only `UnfitValueError`. */
  compile(args: A): (value: unknown, inquiry: NormalizedInquiry) => boolean;
  /** Values the rule can accept, for the index. Default: none (any value may match). */
  hint?(args: A): IndexHint | undefined;
}

export function isRule(value: unknown): value is Rule {
  // The class test first: it is what decisions meet, and it is cheap on attribute maps of any shape.
  return (
    value instanceof CompiledRule ||
    (typeof value === 'object' && value !== null && (value as { [RULE]?: unknown })[RULE] === true)
  );
}

function serialize(value: unknown): unknown {
  if (isRule(value)) return value.toJSON();
  if (Array.isArray(value)) return value.map(serialize);
  return value;
}

type Predicate = (value: unknown, inquiry: NormalizedInquiry) => boolean;

/**
 * Definitions whose `compile` cannot fail once `parse` accepted the arguments: their rules compile on
 * first use. A large policy set holds a rule per distinct value (`Eq("alice")`), most never asked about
 * between two reloads, and a closure costs more memory than the rule. Others compile at creation, so
 * a custom rule's mistake still surfaces when the policy loads.
 */
export const compilesOnFirstUse = new WeakSet<RuleDefinition<never>>();

/**
 * A rule: its arguments, and behind private fields its definition, its predicate and the list of a field
 * holding only it. Type, hint and the predicate come from the definition through the prototype, so a rule
 * holds no closure until it is first evaluated.
 */
class CompiledRule implements Rule {
  declare readonly [RULE]: true;
  readonly args: Readonly<Record<string, unknown>>;
  readonly #definition: RuleDefinition<Record<string, unknown>>;
  #predicate: Predicate | undefined;
  #list: readonly Rule[] | undefined;

  constructor(definition: RuleDefinition<Record<string, unknown>>, args: Readonly<Record<string, unknown>>) {
    this.args = args;
    this.#definition = definition;
    if (!compilesOnFirstUse.has(definition as RuleDefinition<never>)) this.#predicate = definition.compile(args);
    // Private fields are not properties: the predicate can still be filled in on first use.
    Object.freeze(this);
  }

  get type(): string {
    return this.#definition.type;
  }

  get hint(): IndexHint | undefined {
    return this.#definition.hint?.(this.args);
  }

  /** The one-element list of a policy field holding only this rule, shared by every such field. */
  static listOf(rule: CompiledRule): readonly Rule[] {
    return (rule.#list ??= Object.freeze([rule]));
  }

  satisfied(value: unknown, inquiry: NormalizedInquiry): boolean {
    return (this.#predicate ??= this.#definition.compile(this.args))(value, inquiry);
  }

  toJSON(): RuleJson {
    const json: RuleJson = { type: this.type };
    for (const [key, value] of Object.entries(this.args)) if (value !== undefined) json[key] = serialize(value);
    return json;
  }
}
Object.defineProperty(CompiledRule.prototype, RULE, { value: true });

/**
 * The list `[rule]`, frozen: for a rule built here the one it keeps, so the many policies whose field holds
 * only `In("read", "get")` share one list, and a rule met once costs no lookup table entry.
 */
export function listOf(rule: Rule): readonly Rule[] {
  return rule instanceof CompiledRule ? CompiledRule.listOf(rule) : Object.freeze([rule]);
}

/** Builds a rule object from a definition and validated arguments. */
export function instantiate<A extends Record<string, unknown>>(definition: RuleDefinition<A>, args: A): Rule {
  return new CompiledRule(definition as unknown as RuleDefinition<Record<string, unknown>>, Object.freeze(args));
}

/** The registry's `parse` without the nesting walk, for callers that bounded the JSON themselves. */
export const PARSE_BOUNDED = Symbol('portcullis.abac.parseBounded');

/** The rule types a loader understands: the built-ins plus any registered with `defineRule`. */
export class RuleRegistry {
  readonly #definitions = new Map<string, RuleDefinition<Record<string, unknown>>>();
  // Rules are immutable, so equal rule JSON can share one compiled rule: large policy sets repeat
  // the same rules (`In('read','get')`, one CIDR) thousands of times. Bounded, and a rule met again
  // stays in it however many distinct rules (`Eq("alice")`) pass through.
  readonly #interned = new JsonInternTable<Rule>(10_000);
  // How many rule objects the current (synchronous) parse is inside of: nested rules parse recursively.
  #nesting = 0;
  // The path of the rule being parsed, for its nested rules: one `nested` function per registry rather
  // than a closure per rule read.
  #path = '';
  readonly #nested: ParseNested = (child, childPath) => this.parse(child, join(this.#path, childPath));

  register<A extends Record<string, unknown>>(definition: RuleDefinition<A>): void {
    if (typeof definition?.type !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(definition.type)) {
      throw new TypeError('defineRule: `type` must be a name of letters, digits, _ . or -');
    }
    if (typeof definition.parse !== 'function' || typeof definition.compile !== 'function') {
      throw new TypeError(`defineRule(${definition.type}): \`parse\` and \`compile\` must be functions`);
    }
    for (const name of [definition.type, ...(definition.aliases ?? [])]) {
      if (this.#definitions.has(name)) throw new TypeError(`defineRule: a rule named "${name}" already exists`);
    }
    for (const name of [definition.type, ...(definition.aliases ?? [])]) {
      this.#definitions.set(name, definition as unknown as RuleDefinition<Record<string, unknown>>);
    }
  }

  get(type: string): RuleDefinition<Record<string, unknown>> | undefined {
    return this.#definitions.get(type);
  }

  names(): string[] {
    return [...this.#definitions.keys()];
  }

  /**
   * `parse` of JSON whose nesting the caller has already bounded: policy loading walks each policy once,
   * rather than each of its rules again.
   */
  [PARSE_BOUNDED](json: unknown): Rule {
    this.#nesting++;
    try {
      return this.parse(json);
    } finally {
      this.#nesting--;
    }
  }

  /** Reads `{ "type": ..., ...fields }` (or returns a built rule as is). Errors carry the path inside. */
  parse(json: unknown, path = ''): Rule {
    if (isRule(json)) return json;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw absolute(new RuleArgumentError('must be a rule object like {"type": "Eq", "value": 1}', path));
    }
    // One iterative walk at the outermost rule bounds every nested parse (and the interning key) below it.
    if (this.#nesting === 0 && nestsDeeperThan(json, MAX_JSON_DEPTH)) {
      throw absolute(new RuleArgumentError(`nests deeper than ${MAX_JSON_DEPTH} levels`, path));
    }
    return this.#interned.intern(json as Record<string, unknown>, this.#build, path);
  }

  readonly #build = (json: Readonly<Record<string, unknown>>, path: string): Rule => {
    this.#nesting++;
    try {
      return this.#parseUncached(json, path);
    } finally {
      this.#nesting--;
    }
  };

  #parseUncached(json: Readonly<Record<string, unknown>>, path: string): Rule {
    const { type, ...fields } = json;
    if (typeof type !== 'string') throw absolute(new RuleArgumentError('a rule needs a string "type"', path));
    const definition = this.#definitions.get(type);
    if (!definition) {
      const hint = didYouMean(type, this.#definitions.keys());
      throw absolute(new RuleArgumentError(`unknown rule "${type}"${hint ? ` (${hint})` : ''}`, path));
    }
    let args: Record<string, unknown>;
    const outer = this.#path;
    this.#path = path;
    try {
      args = definition.parse(fields, this.#nested);
    } catch (error) {
      if (error instanceof RuleArgumentError) {
        if (error.absolute) throw error;
        const wrapped = new RuleArgumentError(`${type}: ${error.message}`, join(path, error.path));
        wrapped.absolute = true;
        throw wrapped;
      }
      const wrapped = new RuleArgumentError(`${type}: ${(error as Error).message}`, path);
      wrapped.absolute = true;
      throw wrapped;
    } finally {
      this.#path = outer;
    }
    return instantiate(definition, args);
  }
}

function absolute(error: RuleArgumentError): RuleArgumentError {
  error.absolute = true;
  return error;
}

export function join(base: string, child: string): string {
  if (!child) return base;
  if (!base) return child;
  return child.startsWith('[') ? `${base}${child}` : `${base}.${child}`;
}
