// Imports vakt's `to_json` output (jsonpickle: `py/object`, `py/tuple`, `py/set`, `re.Pattern`) into the
// Portcullis policy format, so vakt users migrate their policies unchanged.
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import { countTags } from './regex-syntax.js';
import { RuleArgumentError } from './rules/index.js';
import { isPlainObject } from './values.js';

type Json = Record<string, unknown>;

// vakt class name → Portcullis type and the renaming of its fields.
const RULES: Record<string, { type: string; fields: Record<string, string> }> = {};
for (const name of ['Eq', 'NotEq', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual']) {
  RULES[name] = { type: name, fields: { val: 'value' } };
}
for (const name of ['Truthy', 'Falsy', 'Any', 'Neither', 'PairsEqual', 'SubjectEqual', 'ActionEqual', 'ResourceIn']) {
  RULES[name] = { type: name, fields: {} };
}
RULES.StrPairsEqual = { type: 'PairsEqual', fields: {} };
RULES.Not = { type: 'Not', fields: { rule: 'rule' } };
RULES.And = { type: 'And', fields: { rules: 'rules' } };
RULES.Or = { type: 'Or', fields: { rules: 'rules' } };
for (const name of ['In', 'NotIn', 'AllIn', 'AllNotIn', 'AnyIn', 'AnyNotIn']) {
  RULES[name] = { type: name, fields: { data: 'values' } };
}
RULES.CIDR = { type: 'CIDR', fields: { cidr: 'cidr' } };
for (const name of ['Equal', 'StartsWith', 'EndsWith', 'Contains']) {
  RULES[name] = { type: name, fields: { val: 'value', ci: 'ci' } };
}
RULES.StrEqual = { type: 'Equal', fields: { val: 'value', ci: 'ci' } };
RULES.RegexMatch = { type: 'RegexMatch', fields: { regex: 'pattern', pattern: 'pattern' } };
for (const name of ['SubjectMatch', 'ActionMatch', 'ResourceMatch']) {
  RULES[name] = { type: name, fields: { attribute: 'attribute' } };
}

/** True when the value (at any depth) uses jsonpickle tags. */
export function looksLikeVakt(value: unknown, depth = 0): boolean {
  if (depth > 12) return false;
  if (Array.isArray(value)) return value.some((item) => looksLikeVakt(item, depth + 1));
  if (!isPlainObject(value)) return false;
  if (Object.keys(value).some((key) => key.startsWith('py/'))) return true;
  return Object.values(value).some((item) => looksLikeVakt(item, depth + 1));
}

/**
 * Rewrites jsonpickle data into plain Portcullis JSON: rule objects become `{ "type": ... }`, tuples and
 * sets become lists, compiled patterns become their source. Throws `RuleArgumentError` with the path.
 */
export function fromVaktJson(value: unknown, path = ''): unknown {
  // The conversion recurses once per level: bound the levels first.
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new RuleArgumentError(`nests deeper than ${MAX_JSON_DEPTH} levels`, path);
  }
  return convert(value, path);
}

function convert(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => convert(item, `${path}[${i}]`));
  if (!isPlainObject(value)) return value;
  if ('py/id' in value || 'py/ref' in value) {
    throw new RuleArgumentError('jsonpickle references (py/id) are not supported: encode with make_refs=False', path);
  }
  if ('py/tuple' in value) return convert(value['py/tuple'], path);
  if ('py/set' in value) return convert(value['py/set'], path);
  if ('py/object' in value) return fromVaktObject(value, path);
  if ('py/reduce' in value) return fromReduce(value, path);
  const result = Object.create(null) as Json;
  for (const [key, item] of Object.entries(value)) result[key] = convert(item, path ? `${path}.${key}` : key);
  return result;
}

function fromVaktObject(value: Json, path: string): unknown {
  const className = String(value['py/object']);
  if (className === 're.Pattern' || className === '_sre.SRE_Pattern') {
    if (typeof value.pattern !== 'string') throw new RuleArgumentError('a re.Pattern without its "pattern"', path);
    return value.pattern;
  }
  if (className === 'vakt.policy.Policy' || className === 'vakt.Policy') {
    const { 'py/object': _ignored, ...fields } = value;
    refuseSeveralTags(fields, path);
    return convert(fields, path);
  }
  const name = className.slice(className.lastIndexOf('.') + 1);
  const mapping = className.startsWith('vakt.') ? RULES[name] : undefined;
  if (!mapping) throw new RuleArgumentError(`unknown vakt class "${className}"`, path);
  const rule: Json = { type: mapping.type };
  for (const [field, item] of Object.entries(value)) {
    if (field === 'py/object' || field.startsWith('_')) continue;
    const target = mapping.fields[field];
    if (!target) throw new RuleArgumentError(`unknown field "${field}" of vakt rule ${name}`, path);
    rule[target] = convert(item, path ? `${path}.${target}` : target);
  }
  return rule;
}

/**
 * vakt 1.6's compile_regex mis-slices a string with two or more tags (`a<b>c<d>e` becomes `^a(b)c()<d>e$`):
 * no decision of ours could be both vakt's and the policy's evident meaning, so such policies are refused.
 */
export function refuseSeveralTags(fields: Json, path = ''): void {
  for (const field of ['subjects', 'actions', 'resources']) {
    const list = fields[field];
    if (!Array.isArray(list)) continue;
    list.forEach((element, index) => {
      if (typeof element === 'string' && countTags(element) > 1) {
        throw new RuleArgumentError(
          'holds several <...> tags, which vakt 1.6 compiles wrongly: rewrite it with one tag',
          `${path ? `${path}.` : ''}${field}[${index}]`,
        );
      }
    });
  }
}

// jsonpickle may write a compiled regex as a reduce of `re._compile(pattern, flags)`.
function fromReduce(value: Json, path: string): unknown {
  const reduce = value['py/reduce'];
  if (Array.isArray(reduce) && isPlainObject(reduce[0]) && String(reduce[0]['py/function']).endsWith('_compile')) {
    const args = convert(reduce[1], path);
    if (Array.isArray(args) && typeof args[0] === 'string') return args[0];
  }
  throw new RuleArgumentError('unsupported jsonpickle py/reduce value', path);
}
