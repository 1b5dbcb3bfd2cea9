// Every built-in rule family of vakt: comparison, logic, list, network, string and inquiry rules.
import { didYouMean } from '../../errors.js';
import { IpRanges, parseIpRange, type IpRange } from '../../ip.js';
import type { InquiryField, NormalizedInquiry } from '../inquiry.js';
import { compileRegex } from '../../regex.js';
import { MAX_REGEX_INPUT } from '../regex-syntax.js';
import {
  compareValues,
  isPlainObject,
  isPrimitiveKey,
  isTruthy,
  listIncludes,
  ownAttribute,
  valuesEqual,
  type Primitive,
} from '../values.js';
import { RuleArgumentError, type IndexHint, type ParseNested, type Rule, type RuleDefinition } from './rule.js';

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

const exactHint = (values: readonly Primitive[]): IndexHint => ({ exact: values, prefixes: [] });

// ---- comparison ----------------------------------------------------------------------------------

export const eqRule: RuleDefinition<{ value: unknown }> = {
  type: 'Eq',
  parse(fields) {
    only(fields, ['value']);
    return { value: jsonValue(required(fields, 'value'), 'value') };
  },
  compile({ value }) {
    if (isPrimitiveKey(value)) return (what) => what === value;
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

function orderingRule(type: string, accept: (order: number) => boolean): RuleDefinition<{ value: number | string }> {
  return {
    type,
    parse(fields) {
      only(fields, ['value']);
      const value = required(fields, 'value');
      if (typeof value !== 'string' && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new RuleArgumentError('must be a number or a string', 'value');
      }
      return { value };
    },
    compile({ value }) {
      return (what) => {
        const order = compareValues(what, value);
        return order !== undefined && accept(order);
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

/** A membership test compiled once: a Set when every value is a primitive, a deep scan otherwise. */
function membership(values: readonly unknown[]): (what: unknown) => boolean {
  if (values.every(isPrimitiveKey)) {
    const set = new Set<unknown>(values);
    return (what) => isPrimitiveKey(what) && set.has(what);
  }
  return (what) => listIncludes(values, what);
}

function listRule(type: string, build: (has: (what: unknown) => boolean) => (what: unknown) => boolean) {
  const definition: RuleDefinition<{ values: unknown[] }> = {
    type,
    parse: (fields) => ({ values: valueList(fields) }),
    compile: ({ values }) => build(membership(values)),
  };
  return definition;
}

export const inRule: RuleDefinition<{ values: unknown[] }> = {
  ...listRule('In', (has) => has),
  hint: ({ values }) => (values.every(isPrimitiveKey) ? exactHint(values as Primitive[]) : undefined),
};
export const notInRule = listRule('NotIn', (has) => (what) => !has(what));
export const allInRule = listRule('AllIn', (has) => (what) => Array.isArray(what) && what.every(has));
export const allNotInRule = listRule(
  'AllNotIn',
  (has) => (what) => Array.isArray(what) && what.every((item) => !has(item)),
);
export const anyInRule = listRule('AnyIn', (has) => (what) => Array.isArray(what) && what.some(has));
export const anyNotInRule = listRule(
  'AnyNotIn',
  (has) => (what) => Array.isArray(what) && what.some((item) => !has(item)),
);

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
    const ranges = new IpRanges([parseIpRange(cidr) as IpRange]);
    return (what) => ranges.has(what);
  },
};

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
  hint: ({ value, ci }) => (ci || value === '' ? undefined : { exact: [], prefixes: [value] }),
};
export const endsWithRule = stringRule('EndsWith', (what, value) => what.endsWith(value));
export const containsRule = stringRule('Contains', (what, value) => what.includes(value));

export const pairsEqualRule: RuleDefinition<Fields> = {
  ...constantRule('PairsEqual', (what) => {
    if (!Array.isArray(what)) return false;
    for (const pair of what) {
      if (!Array.isArray(pair) || pair.length !== 2) return false;
      if (typeof pair[0] !== 'string' || pair[0] !== pair[1]) return false;
    }
    return true;
  }),
  aliases: ['StrPairsEqual'],
};

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
    const regex = compileRegex(pattern);
    return (what) => typeof what === 'string' && what.length <= MAX_REGEX_INPUT && regex.test(what);
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
    const resource = inquiry.resource;
    if (typeof resource !== 'string') return false;
    if (typeof what === 'string') return what.includes(resource);
    return Array.isArray(what) && what.includes(resource);
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
] as unknown as readonly RuleDefinition<never>[];
