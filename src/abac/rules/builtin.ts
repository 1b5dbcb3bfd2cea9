// Every built-in rule family of vakt: comparison, logic, list, network, string and inquiry rules.
import { didYouMean } from '../../errors.js';
import { BlockList, isIP } from 'node:net';
import { IpRanges, parseIpRange, type IpRange } from '../../ip.js';
import type { InquiryField, NormalizedInquiry } from '../inquiry.js';
import { compileRegex, RegexBudgetError, type LinearRegex } from '../../regex.js';
import { MAX_REGEX_INPUT } from '../regex-syntax.js';
import {
  compareValues,
  isPlainObject,
  isPrimitiveKey,
  isTruthy,
  listIncludes,
  ownAttribute,
  pythonKey,
  pythonStr,
  valuesEqual,
  type Primitive,
} from '../values.js';
import {
  RuleArgumentError,
  UnfitValueError,
  type IndexHint,
  type ParseNested,
  type Rule,
  type RuleDefinition,
} from './rule.js';

type Fields = Record<string, unknown>;

function only(fields: Fields, allowed: readonly string[]): void {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) {
      const hint = didYouMean(key, allowed);
      throw new RuleArgumentError(
        `unknown field "${key}"${hint ? ` (${hint})` : allowed.length ? ` (fields: ${allowed.join(', ')})` : ' (this rule takes no fields)'}`,
        key,
      );
    }
  }
}

function required(fields: Fields, name: string): unknown {
  if (!Object.hasOwn(fields, name) || fields[name] === undefined) throw new RuleArgumentError('is required', name);
  return fields[name];
}

function stringField(fields: Fields, name: string): string {
  const value = required(fields, name);
  if (typeof value !== 'string') throw new RuleArgumentError('must be a string', name);
  return value;
}

function ciField(fields: Fields): boolean {
  const value = fields.ci ?? false;
  if (typeof value !== 'boolean') throw new RuleArgumentError('must be true or false', 'ci');
  return value;
}

function jsonValue(value: unknown, path: string, depth = 0): unknown {
  if (depth > 16) throw new RuleArgumentError('is nested too deeply', path);
  if (isPrimitiveKey(value)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new RuleArgumentError('must be finite', path);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => jsonValue(item, `${path}[${i}]`, depth + 1));
  if (isPlainObject(value)) {
    const copy: Fields = Object.create(null) as Fields;
    for (const [key, item] of Object.entries(value)) copy[key] = jsonValue(item, `${path}.${key}`, depth + 1);
    return copy;
  }
  throw new RuleArgumentError('must be JSON data (string, number, boolean, null, list or object)', path);
}

// Python's `True == 1`: the index must find a rule on 1 under `true` too, and the other way round.
const PYTHON_ALIASES = new Map<Primitive, Primitive>([
  [1, true],
  [true, 1],
  [0, false],
  [false, 0],
]);
const NO_PREFIXES: readonly string[] = Object.freeze([]);
const NO_EXACT: readonly Primitive[] = Object.freeze([]);
// Computed each time the index asks (rules do not keep their hints), so kept cheap: most value lists
// have no alias and become the hint's list as they are (callers pass a list of their own).
function exactHint(values: readonly Primitive[]): IndexHint {
  if (!values.some((value) => PYTHON_ALIASES.has(value))) return { exact: values, prefixes: NO_PREFIXES };
  return { exact: values.flatMap((value) => [value, ...aliasesOf(value)]), prefixes: NO_PREFIXES };
}

function aliasesOf(value: Primitive): Primitive[] {
  const alias = PYTHON_ALIASES.get(value);
  return alias === undefined ? [] : [alias];
}

// ---- comparison ----------------------------------------------------------------------------------

export const eqRule: RuleDefinition<{ value: unknown }> = {
  type: 'Eq',
  parse(fields) {
    only(fields, ['value']);
    return { value: jsonValue(required(fields, 'value'), 'value') };
  },
  compile({ value }) {
    if (isPrimitiveKey(value) && typeof value !== 'boolean' && typeof value !== 'number') {
      return (what) => what === value;
    }
    return (what) => valuesEqual(what, value);
  },
  hint: ({ value }) => (isPrimitiveKey(value) ? exactHint([value]) : undefined),
};

export const notEqRule: RuleDefinition<{ value: unknown }> = {
  type: 'NotEq',
  parse: eqRule.parse,
  compile({ value }) {
    return (what) => !valuesEqual(what, value);
  },
};

function orderingRule(
  type: string,
  accept: (order: number) => boolean,
): RuleDefinition<{ value: number | string | boolean }> {
  return {
    type,
    parse(fields) {
      only(fields, ['value']);
      const value = required(fields, 'value');
      if (
        typeof value !== 'string' &&
        typeof value !== 'boolean' &&
        (typeof value !== 'number' || !Number.isFinite(value))
      ) {
        throw new RuleArgumentError('must be a number, a string or a boolean', 'value');
      }
      return { value };
    },
    compile({ value }) {
      const operand = pythonKey(value);
      return (what) => {
        // Python compares booleans as numbers and raises across other types (vakt: no fit).
        const order = compareValues(pythonKey(what), operand);
        if (order === undefined)
          throw new UnfitValueError(`${type}: cannot compare ${typeof what} with ${typeof value}`);
        return accept(order);
      };
    },
  };
}

export const greaterRule = orderingRule('Greater', (order) => order > 0);
export const lessRule = orderingRule('Less', (order) => order < 0);
export const greaterOrEqualRule = orderingRule('GreaterOrEqual', (order) => order >= 0);
export const lessOrEqualRule = orderingRule('LessOrEqual', (order) => order <= 0);

// ---- logic ---------------------------------------------------------------------------------------

function constantRule(type: string, test: (what: unknown) => boolean, hint?: IndexHint): RuleDefinition<Fields> {
  return {
    type,
    parse(fields) {
      only(fields, []);
      return {};
    },
    compile: () => test,
    ...(hint ? { hint: () => hint } : {}),
  };
}

export const truthyRule = constantRule('Truthy', isTruthy);
export const falsyRule = constantRule('Falsy', (what) => !isTruthy(what));
export const anyRule = constantRule('Any', () => true);
// Neither matches nothing, so the index may drop it: no value can reach it.
export const neitherRule = constantRule('Neither', () => false, exactHint([]));

export const notRule: RuleDefinition<{ rule: Rule }> = {
  type: 'Not',
  parse(fields, nested) {
    only(fields, ['rule']);
    return { rule: nested(required(fields, 'rule'), 'rule') };
  },
  compile({ rule }) {
    return (what, inquiry) => !rule.satisfied(what, inquiry);
  },
};

function ruleList(fields: Fields, nested: ParseNested): Rule[] {
  only(fields, ['rules']);
  const rules = required(fields, 'rules');
  if (!Array.isArray(rules)) throw new RuleArgumentError('must be a list of rules', 'rules');
  return rules.map((rule, i) => nested(rule, `rules[${i}]`));
}

export const andRule: RuleDefinition<{ rules: Rule[] }> = {
  type: 'And',
  parse: (fields, nested) => ({ rules: ruleList(fields, nested) }),
  compile({ rules }) {
    // vakt: `len(answers) > 0 and all(answers)`, so an empty And() is never satisfied (and Not(And()) always).
    if (rules.length === 0) return () => false;
    return (what, inquiry) => {
      for (const rule of rules) if (!rule.satisfied(what, inquiry)) return false;
      return true;
    };
  },
  // Every part must hold, so any part's hint bounds the whole.
  hint: ({ rules }) => rules.find((rule) => rule.hint)?.hint,
};

export const orRule: RuleDefinition<{ rules: Rule[] }> = {
  type: 'Or',
  parse: (fields, nested) => ({ rules: ruleList(fields, nested) }),
  compile({ rules }) {
    return (what, inquiry) => {
      for (const rule of rules) if (rule.satisfied(what, inquiry)) return true;
      return false;
    };
  },
  hint({ rules }) {
    if (!rules.every((rule) => rule.hint)) return undefined;
    return {
      exact: rules.flatMap((rule) => rule.hint!.exact),
      prefixes: rules.flatMap((rule) => rule.hint!.prefixes),
    };
  },
};

// ---- lists ---------------------------------------------------------------------------------------

function valueList(fields: Fields): unknown[] {
  only(fields, ['values']);
  const values = required(fields, 'values');
  if (!Array.isArray(values)) throw new RuleArgumentError('must be a list', 'values');
  return values.map((value, i) => jsonValue(value, `values[${i}]`));
}

/**
 * A membership test compiled once, as vakt's Python set: `True` is `1`, and a list or object asked about
 * is unhashable, so vakt raises. A Set when every value is a primitive, a deep scan otherwise.
 */
function membership(type: string, values: readonly unknown[]): (what: unknown) => boolean {
  const unhashable = (what: unknown) => new UnfitValueError(`${type}: ${JSON.stringify(what)} is not hashable`);
  if (values.every(isPrimitiveKey)) {
    const set = new Set<unknown>(values.map(pythonKey));
    return (what) => {
      if (!isPrimitiveKey(what)) throw unhashable(what);
      return set.has(pythonKey(what));
    };
  }
  return (what) => {
    if (!isPrimitiveKey(what)) throw unhashable(what);
    return listIncludes(values, what);
  };
}

function listRule(type: string, build: (has: (what: unknown) => boolean) => (what: unknown) => boolean) {
  const definition: RuleDefinition<{ values: unknown[] }> = {
    type,
    parse: (fields) => ({ values: valueList(fields) }),
    compile: ({ values }) => build(membership(type, values)),
  };
  return definition;
}

/** vakt's list-of-values rules raise on anything but a list. */
function asList(type: string, what: unknown): unknown[] {
  if (!Array.isArray(what)) throw new UnfitValueError(`${type}: the value must be a list`);
  return what;
}

export const inRule: RuleDefinition<{ values: unknown[] }> = {
  ...listRule('In', (has) => has),
  hint: ({ values }) => (values.every(isPrimitiveKey) ? exactHint(values.slice() as Primitive[]) : undefined),
};
export const notInRule = listRule('NotIn', (has) => (what) => !has(what));
// vakt's AllNotIn is "not all in" (`not set(what) <= data`), like AnyNotIn: `AllNotIn(1, 2)` fits `[1, 3]`
// and never fits `[]`.
export const allInRule = listRule('AllIn', (has) => (what) => asList('AllIn', what).every(has));
export const allNotInRule = listRule('AllNotIn', (has) => (what) => !asList('AllNotIn', what).every(has));
export const anyInRule = listRule('AnyIn', (has) => (what) => asList('AnyIn', what).some(has));
export const anyNotInRule = listRule('AnyNotIn', (has) => (what) => !asList('AnyNotIn', what).every(has));

// ---- network -------------------------------------------------------------------------------------

export const cidrRule: RuleDefinition<{ cidr: string }> = {
  type: 'CIDR',
  parse(fields) {
    only(fields, ['cidr']);
    const cidr = stringField(fields, 'cidr');
    if (!parseIpRange(cidr))
      throw new RuleArgumentError(`"${cidr.slice(0, 60)}" is not a valid IPv4 or IPv6 CIDR`, 'cidr');
    return { cidr };
  },
  compile({ cidr }) {
    const range = parseIpRange(cidr) as IpRange;
    // vakt's ip_network(cidr) is strict: host bits set (10.0.0.1/8) raise, so the rule never fits.
    if (hasHostBits(range)) return () => false;
    // Python keeps families apart as written: an IPv4-mapped IPv6 address is not in an IPv4 network,
    // and it is in ::/0. IpRanges maps such addresses to IPv4, so a network that stays IPv6 uses node's own
    // BlockList on the address as written.
    const family = isIP(cidr.split('/')[0]!);
    if (range.family === 6) {
      const list = new BlockList();
      list.addSubnet(range.address, range.prefix, 'ipv6');
      return (what) => typeof what === 'string' && isIP(what) === 6 && !what.includes('%') && list.check(what, 'ipv6');
    }
    const ranges = new IpRanges([range]);
    return (what) => typeof what === 'string' && isIP(what) === family && ranges.has(what);
  },
};

function hasHostBits(range: IpRange): boolean {
  const bits = range.family === 4 ? 32 : 128;
  if (range.prefix >= bits) return false;
  const value = range.family === 4 ? ipv4Value(range.address) : ipv6Value(range.address);
  return (value & ((1n << BigInt(bits - range.prefix)) - 1n)) !== 0n;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((sum, octet) => (sum << 8n) | BigInt(octet), 0n);
}

function ipv6Value(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const words = (text: string) =>
    text === ''
      ? []
      : text.split(':').flatMap((word) => {
          if (!word.includes('.')) return [parseInt(word, 16)];
          const v4 = Number(ipv4Value(word));
          return [v4 >>> 16, v4 & 0xffff];
        });
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.reduce((sum, word) => (sum << 16n) | BigInt(word), 0n);
}

// ---- strings -------------------------------------------------------------------------------------

function stringRule(
  type: string,
  test: (what: string, value: string) => boolean,
  aliases: string[] = [],
): RuleDefinition<{ value: string; ci: boolean }> {
  return {
    type,
    aliases,
    parse(fields) {
      only(fields, ['value', 'ci']);
      return { value: stringField(fields, 'value'), ci: ciField(fields) };
    },
    compile({ value, ci }) {
      if (!ci) return (what) => typeof what === 'string' && test(what, value);
      const lower = value.toLowerCase();
      return (what) => typeof what === 'string' && test(what.toLowerCase(), lower);
    },
  };
}

export const equalRule: RuleDefinition<{ value: string; ci: boolean }> = {
  ...stringRule('Equal', (what, value) => what === value, ['StrEqual']),
  hint: ({ value, ci }) => (ci ? undefined : exactHint([value])),
};
export const startsWithRule: RuleDefinition<{ value: string; ci: boolean }> = {
  ...stringRule('StartsWith', (what, value) => what.startsWith(value)),
  hint: ({ value, ci }) => (ci || value === '' ? undefined : { exact: NO_EXACT, prefixes: [value] }),
};
export const endsWithRule = stringRule('EndsWith', (what, value) => what.endsWith(value));
export const containsRule = stringRule('Contains', (what, value) => what.includes(value));

export const pairsEqualRule: RuleDefinition<Fields> = {
  // vakt's loop as written: `len(pair) != 2`, then "neither side a string", then `pair[0] != pair[1]`.
  ...constantRule('PairsEqual', (what) => {
    if (!Array.isArray(what)) return false;
    for (const pair of what) {
      if (typeof pair === 'string') {
        if (pair.length !== 2 || pair[0] !== pair[1]) return false;
        continue;
      }
      if (!Array.isArray(pair)) {
        if (isPlainObject(pair) && Object.keys(pair).length !== 2) return false;
        throw new UnfitValueError('PairsEqual: a pair must be a list');
      }
      if (pair.length !== 2) return false;
      if (typeof pair[0] !== 'string' && typeof pair[1] !== 'string') return false;
      if (!valuesEqual(pair[0], pair[1])) return false;
    }
    return true;
  }),
  aliases: ['StrPairsEqual'],
};

/** The regex a `RegexMatch` rule runs (from the shared cache); `undefined` for any other rule. */
export function regexOfRule(rule: Rule): LinearRegex | undefined {
  if (rule.type !== 'RegexMatch' || typeof rule.args?.pattern !== 'string') return undefined;
  return compileRegex(anchoredAtStart(rule.args.pattern));
}

/** vakt's `re.match`: anchored at the start only. */
const anchoredAtStart = (pattern: string) => `^(?:${pattern})`;

export const regexMatchRule: RuleDefinition<{ pattern: string }> = {
  type: 'RegexMatch',
  parse(fields) {
    only(fields, ['pattern']);
    const pattern = stringField(fields, 'pattern');
    try {
      compileRegex(pattern);
    } catch (error) {
      throw new RuleArgumentError((error as Error).message, 'pattern');
    }
    return { pattern };
  },
  compile({ pattern }) {
    // vakt: `re.match(pattern, str(what))`, anchored at the start only, on any value's Python str().
    const regex = compileRegex(anchoredAtStart(pattern));
    return (what) => {
      const text = pythonStr(what);
      // Too long to run: the decision fails closed (a deny's RegexMatch is never skipped where vakt applies it).
      if (text.length > MAX_REGEX_INPUT) throw new RegexBudgetError();
      return regex.test(text);
    };
  },
};

// ---- inquiry -------------------------------------------------------------------------------------

function inquiryMatchRule(type: string, field: InquiryField): RuleDefinition<{ attribute?: string }> {
  return {
    type,
    parse(fields) {
      only(fields, ['attribute']);
      const attribute = fields.attribute ?? undefined;
      if (attribute !== undefined && typeof attribute !== 'string') {
        throw new RuleArgumentError('must be a string', 'attribute');
      }
      return attribute === undefined ? {} : { attribute };
    },
    compile({ attribute }) {
      if (attribute === undefined) return (what, inquiry) => valuesEqual(what, inquiry[field]);
      return (what, inquiry) => {
        const { found, value } = ownAttribute(inquiry[field], attribute);
        return found && valuesEqual(what, value);
      };
    },
  };
}

export const subjectMatchRule = inquiryMatchRule('SubjectMatch', 'subject');
export const actionMatchRule = inquiryMatchRule('ActionMatch', 'action');
export const resourceMatchRule = inquiryMatchRule('ResourceMatch', 'resource');

function inquiryEqualRule(type: string, field: InquiryField): RuleDefinition<Fields> {
  return {
    ...constantRule(type, () => false),
    compile: () => (what: unknown, inquiry: NormalizedInquiry) =>
      typeof inquiry[field] === 'string' && what === inquiry[field],
  };
}

export const subjectEqualRule = inquiryEqualRule('SubjectEqual', 'subject');
export const actionEqualRule = inquiryEqualRule('ActionEqual', 'action');

export const resourceInRule: RuleDefinition<Fields> = {
  ...constantRule('ResourceIn', () => false),
  compile: () => (what, inquiry) => {
    // vakt: `isinstance(what, list) and inquiry.resource in what` (a string is not searched).
    return Array.isArray(what) && listIncludes(what, inquiry.resource);
  },
};

/**
 * Not in vakt: the value is one of the subject's `attribute` list (`country` in the subject's `countries`).
 * Only a string, number, boolean or null value can be a member; a missing attribute or one that is not a list
 * holds nothing. Partial evaluation turns it into an `in` filter on the resource's field.
 */
export const inSubjectRule: RuleDefinition<{ attribute: string }> = {
  type: 'InSubject',
  parse(fields) {
    only(fields, ['attribute']);
    return { attribute: stringField(fields, 'attribute') };
  },
  compile({ attribute }) {
    return (what, inquiry) => {
      if (!isPrimitiveKey(what)) return false;
      const { found, value } = ownAttribute(inquiry.subject, attribute);
      return (
        found && Array.isArray(value) && value.some((member) => isPrimitiveKey(member) && valuesEqual(member, what))
      );
    };
  },
};

/** Every built-in definition, registered in the default registry. */
export const builtinRules: readonly RuleDefinition<never>[] = [
  eqRule,
  notEqRule,
  greaterRule,
  lessRule,
  greaterOrEqualRule,
  lessOrEqualRule,
  truthyRule,
  falsyRule,
  notRule,
  andRule,
  orRule,
  anyRule,
  neitherRule,
  inRule,
  notInRule,
  allInRule,
  allNotInRule,
  anyInRule,
  anyNotInRule,
  cidrRule,
  equalRule,
  pairsEqualRule,
  regexMatchRule,
  startsWithRule,
  endsWithRule,
  containsRule,
  subjectMatchRule,
  actionMatchRule,
  resourceMatchRule,
  subjectEqualRule,
  actionEqualRule,
  resourceInRule,
  inSubjectRule,
] as unknown as readonly RuleDefinition<never>[];
