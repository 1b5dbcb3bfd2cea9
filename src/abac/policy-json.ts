// The Portcullis policy format in JSON and YAML (a superset of vakt's `to_json`): reading with
// validation that names the policy and the path of every problem, and writing.
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { didYouMean, ValidationError, type FieldProblem } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import { isRule, RuleArgumentError, type Rule, type RuleJson, type RuleRegistry } from './rules/index.js';
import {
  COMPILED,
  policyFromBoundedJson,
  PolicyValidationError,
  type Policy,
  type PolicyDefinition,
} from './policy.js';
import { fromVaktJson, looksLikeVakt, refuseSeveralTags } from './vakt-json.js';
import { isPlainObject } from './values.js';

export type PolicyElementJson = string | RuleJson | Record<string, RuleJson>;

/** One policy in JSON. */
export interface PolicyJson {
  uid: string;
  description?: string;
  effect: 'allow' | 'deny';
  subjects: PolicyElementJson[];
  actions: PolicyElementJson[];
  resources: PolicyElementJson[];
  context: Record<string, RuleJson>;
}

const POLICY_KEYS = ['uid', 'description', 'effect', 'subjects', 'actions', 'resources', 'context'];
// vakt writes `type` (its policy type code); it is derived again from the elements, so it is ignored.
const IGNORED_KEYS = ['type', 'py/object'];
const KNOWN_KEYS = new Set([...POLICY_KEYS, ...IGNORED_KEYS]);

export function policyToJSON(value: Policy): PolicyJson {
  const element = (item: Policy['subjects'][number]): PolicyElementJson => {
    if (typeof item === 'string') return item;
    if (isRule(item)) return item.toJSON();
    return attributesToJSON(item);
  };
  return {
    uid: value.uid,
    ...(value.description === undefined ? {} : { description: value.description }),
    effect: value.effect,
    subjects: value.subjects.map(element),
    actions: value.actions.map(element),
    resources: value.resources.map(element),
    context: attributesToJSON(value.context),
  };
}

function attributesToJSON(attributes: Readonly<Record<string, Rule>>): Record<string, RuleJson> {
  const result = Object.create(null) as Record<string, RuleJson>;
  for (const [name, rule] of Object.entries(attributes)) result[name] = rule.toJSON();
  return result;
}

export interface ReadPolicyOptions {
  /** Rule types understood. Default: the default registry (built-ins and `defineRule` additions). */
  registry?: RuleRegistry;
  /** Look for vakt's jsonpickle tags (a deep scan). Default true; file readers skip it when the text has none. */
  detectVakt?: boolean;
}

/** Reads one policy from parsed JSON, Portcullis or vakt form. Throws `PolicyValidationError`. */
export function policyFromJSON(json: unknown, options: ReadPolicyOptions = {}): Policy {
  let data = json;
  if (typeof data === 'string') {
    // vakt's to_json returns a JSON string; accept it as is.
    try {
      data = JSON.parse(data) as unknown;
    } catch {
      throw new PolicyValidationError(undefined, [{ field: '', message: 'is a string that is not JSON' }]);
    }
  }
  if (!isPlainObject(data)) {
    throw new PolicyValidationError(undefined, [
      { field: '', message: 'must be an object with uid, effect, subjects…' },
    ]);
  }
  const uidGuess = typeof data.uid === 'string' || typeof data.uid === 'number' ? String(data.uid) : undefined;
  // One walk bounds everything below (vakt conversion, rule parsing, interning keys): none of it recurses past this.
  if (nestsDeeperThan(data, MAX_JSON_DEPTH)) {
    throw new PolicyValidationError(uidGuess, [
      { field: '', message: `nests deeper than ${MAX_JSON_DEPTH} levels`, code: 'validation.too_deep' },
    ]);
  }
  // vakt's to_json writes its numeric policy type; rule-based ones also carry jsonpickle tags.
  const fromVakt = typeof data.type === 'number' || ((options.detectVakt ?? true) && looksLikeVakt(data));
  if (fromVakt) {
    try {
      data = fromVaktJson(data) as Record<string, unknown>;
      refuseSeveralTags(data as Record<string, unknown>);
    } catch (error) {
      if (error instanceof RuleArgumentError) {
        throw new PolicyValidationError(uidGuess, [{ field: error.path, message: error.message }]);
      }
      throw error;
    }
  }
  const object = data as Record<string, unknown>;
  let unknown: FieldProblem[] | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key) || KNOWN_KEYS.has(key)) continue;
    const hint = didYouMean(key, POLICY_KEYS);
    (unknown ??= []).push({ field: key, message: `unknown policy field${hint ? ` (${hint})` : ''}` });
  }
  let built: Policy;
  try {
    // Only the definition's fields are read, so the JSON object is the definition (no copy per policy);
    // its nesting is bounded above.
    built = policyFromBoundedJson(object as unknown as PolicyDefinition, options.registry);
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    const problems = [...(unknown ?? []), ...(error.errors ?? [])];
    throw problems.length > 0 ? new PolicyValidationError(uidGuess, problems) : error;
  }
  if (unknown) throw new PolicyValidationError(uidGuess, unknown);
  return built;
}

export type PolicyFormat = 'json' | 'yaml' | 'jsonl';

/** Every problem of a policy file, each naming the policy (index and uid) and the path inside it. */
export class PolicyFileError extends ValidationError {
  constructor(source: string, problems: FieldProblem[]) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(`${source}: ${first.field ? `${first.field}: ` : ''}${first.message}${more}`, {
      code: 'abac.invalid_policy_file',
      errors: problems,
    });
  }
}

export interface ParsePoliciesOptions extends ReadPolicyOptions {
  /** Default: guessed from `source`'s extension, else JSON, then JSON lines, then YAML. */
  format?: PolicyFormat;
  /** A name for error messages (usually the file name). Default `policies`. */
  source?: string;
}

/**
 * Reads a list of policies from JSON (a list, or `{ "policies": [...] }`), JSON lines (one policy or one
 * vakt `to_json` string per line) or YAML. Throws `PolicyFileError` listing every problem, or for a
 * duplicate uid.
 */
export function parsePolicies(text: string, options: ParsePoliciesOptions = {}): Policy[] {
  const source = options.source ?? 'policies';
  const format = options.format ?? guessFormat(source);
  // jsonpickle tags always appear in the text; without them the per-policy deep scan is wasted.
  const readOptions: ReadPolicyOptions = { registry: options.registry, detectVakt: text.includes('py/') };
  // JSON lines are read one line at a time, each parsed tree dropped once its policy is built: a file of a
  // million policies never holds all its trees at once (nor their garbage collection cost).
  if (format === 'jsonl') return readPolicies(jsonLines(text, source), source, readOptions);
  let data: unknown;
  let lines = false;
  if (format === undefined) {
    try {
      data = JSON.parse(text) as unknown;
    } catch {
      lines = true;
    }
    if (lines) {
      try {
        return readPolicies(jsonLines(text, source), source, readOptions);
      } catch (error) {
        if (!(error instanceof JsonLineError)) throw error;
        data = parseDocument(text, 'yaml', source);
      }
    }
  } else data = parseDocument(text, format, source);
  const list = isPlainObject(data) && Array.isArray(data.policies) ? data.policies : data;
  if (!Array.isArray(list)) {
    throw new PolicyFileError(source, [
      { field: '', message: 'must hold a list of policies (or {"policies": [...]})' },
    ]);
  }
  return readPolicies(list, source, readOptions);
}

/** A line of a JSON lines text that is not JSON. */
class JsonLineError extends PolicyFileError {}

/** The parsed lines of a JSON lines text, one at a time; blank lines are skipped. */
function* jsonLines(text: string, source: string): Generator<unknown> {
  let start = 0;
  let number = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    number++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new JsonLineError(source, [
        { field: '', message: `is not valid JSON lines: line ${number}: ${error.message.split('\n')[0]}` },
      ]);
    }
  }
}

/**
 * Validates a list of policies (built, or JSON in the Portcullis or vakt form) as a whole: throws
 * `PolicyFileError` naming every bad entry by its index (and uid), duplicate uids included.
 */
export function readPolicies(items: Iterable<unknown>, source: string, options: ReadPolicyOptions = {}): Policy[] {
  const problems: FieldProblem[] = [];
  const policies: Policy[] = [];
  const seen = new Set<string>();
  let index = 0;
  for (const item of items) {
    try {
      const parsed = asPolicy(item, options);
      const count = seen.size;
      seen.add(parsed.uid);
      if (seen.size === count) problems.push({ field: `[${index}]`, message: `duplicate uid "${parsed.uid}"` });
      policies.push(parsed);
    } catch (error) {
      if (!(error instanceof PolicyValidationError)) throw error;
      const who = error.uid === undefined ? `[${index}]` : `[${index}] policy "${error.uid}"`;
      for (const problem of error.errors ?? []) {
        problems.push({ field: problem.field ? `${who} ${problem.field}` : who, message: problem.message });
      }
    }
    index++;
  }
  if (problems.length > 0) throw new PolicyFileError(source, problems);
  return policies;
}

/** Writes policies as a JSON list (pretty) or YAML. */
export function stringifyPolicies(policies: Iterable<Policy>, format: 'json' | 'yaml' = 'json'): string {
  const list = [...policies].map(policyToJSON);
  // A JSON round trip turns null-prototype objects into plain data for the YAML writer.
  return format === 'yaml' ? stringifyYaml(JSON.parse(JSON.stringify(list))) : `${JSON.stringify(list, null, 2)}\n`;
}

function guessFormat(source: string): PolicyFormat | undefined {
  const lower = source.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/** Parses JSON, JSON lines or YAML; `format` undefined tries them in that order. */
export function parseDocument(text: string, format: PolicyFormat | undefined, source: string): unknown {
  const json = () => JSON.parse(text) as unknown;
  const jsonl = () =>
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line, i) => {
        try {
          return JSON.parse(line) as unknown;
        } catch (error) {
          throw new Error(`line ${i + 1}: ${(error as Error).message}`, { cause: error });
        }
      });
  const yaml = () => parseYaml(text, { maxAliasCount: 100, uniqueKeys: true }) as unknown;
  const attempts =
    format === 'json' ? [json] : format === 'jsonl' ? [jsonl] : format === 'yaml' ? [yaml] : [json, jsonl, yaml];
  let lastError: unknown;
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (error) {
      lastError = error;
    }
  }
  const what =
    format === undefined ? 'JSON, JSON lines or YAML' : format === 'jsonl' ? 'JSON lines' : format.toUpperCase();
  const message = ((lastError as Error)?.message ?? 'unreadable').split('\n')[0];
  throw new PolicyFileError(source, [{ field: '', message: `is not valid ${what}: ${message}` }]);
}

/** A built policy as is, or policy JSON (Portcullis or vakt form) validated into one. */
export function asPolicy(input: unknown, options: ReadPolicyOptions = {}): Policy {
  if (typeof input === 'object' && input !== null && COMPILED in input) return input as Policy;
  return policyFromJSON(input, options);
}
