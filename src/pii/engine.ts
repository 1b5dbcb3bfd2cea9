// The masking engine: sensitive paths and recognizers compiled once into a Masker for responses, audit and logs.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { checkOptions, integerOption } from '../options.js';
import type { Masker, MaskReach, UnmaskGrant } from './masker.js';
import { insertPath, newNode, parsePath, type PathNode, type Segment } from './paths.js';
import { StateSets, type StateSet } from './state-sets.js';
import { setOwn } from '../own.js';
import { dateJson } from '../date-json.js';
import {
  compileRecognizers,
  scanText,
  type BuiltinLabel,
  type Recognizer,
  type RecognizerSpec,
} from './recognizers.js';
import { compileStrategy, type Strategy, type StrategySpec } from './strategies.js';

/** A sensitive path with its own label or strategy. */
export interface PathRuleSpec {
  /** `a.b`, `a.*.c`, `**.ssn`, `items[*].card`, `list[0]`, `["odd.key"]`. */
  path: string;
  /** The label reported by `annotate` and used to pick a strategy. Default: the path itself. */
  label?: string;
  /** Overrides the label's strategy for this path. */
  strategy?: StrategySpec;
}

export interface MaskerOptions {
  /** Sensitive paths. Arrays are transparent to named steps (`items.card` reaches every item's card). Default none. */
  paths?: (string | PathRuleSpec)[];
  /** Leaf key names that are sensitive at any depth (cased's `sensitive_fields`); `ssn` is `**.ssn`. Default none. */
  keys?: (string | { key: string; label?: string; strategy?: StrategySpec })[];
  /** Match path and key names regardless of case. Default false. */
  caseInsensitive?: boolean;
  /** Recognizers scanning every string not already masked: built-in labels, `'all'`, or custom specs. Default none. */
  recognizers?: (BuiltinLabel | RecognizerSpec)[] | 'all';
  /**
   * Where recognizers scan: only strings at or below these paths (the syntax of `paths`, e.g. `notes`,
   * `**.comment`), for data whose free text lives in known fields. Default: every string.
   */
  scanPaths?: string[];
  /** The strategy when neither the path nor `strategies[label]` names one. Default `'redact'`. */
  strategy?: StrategySpec;
  /** Strategies by label (path labels and recognizer labels). Default none. */
  strategies?: Record<string, StrategySpec>;
  /** Key of the `pseudonym` strategy's HMAC (≥ 16 bytes). Required only when a pseudonym strategy is used. */
  pseudonymKey?: string | Buffer | KeyObject;
  /** Mask in place instead of returning a copy. Default false: the input is never changed. */
  mutate?: boolean;
  /** Deeper values are replaced by `"[MASKED: too deep]"` when a rule or recognizer could reach them. 1 to 1 000; default 64. */
  maxDepth?: number;
  /** Longer strings are replaced by `"[MASKED: too long to scan]"` when recognizers are on. Default 1 000 000. */
  maxScanLength?: number;
}

/** One sensitive range in a value, cased-style: characters `[begin, end)` carry `label`. */
export interface Annotation {
  label: string;
  begin: number;
  end: number;
}

/** Ranges by concrete path (`customer.cards[0].number`); the root value itself is `""`. */
export type Annotations = Record<string, Annotation[]>;

/** The masking engine's full interface; `Masker` is the part other areas depend on. */
export interface PiiMasker extends Masker {
  mask<T>(value: T, grant?: UnmaskGrant): T;
  /** Like `mask`, but changes the top-level object or array of `value` in place (never a nested value). */
  maskOwned<T>(value: T, grant?: UnmaskGrant): T;
  /** Masks recognizer matches in a text. */
  maskText(text: string, grant?: UnmaskGrant): string;
  /** Reports what would be masked, without changing anything. */
  annotate(value: unknown, grant?: UnmaskGrant): Annotations;
  /** What masking with `grant` may do to a scalar or a list of scalars at `path`: a rule, recognizers, nothing. */
  reach(path: string, grant?: UnmaskGrant): MaskReach;
  /** `JSON.stringify(mask(value))`. */
  serialize(value: unknown, grant?: UnmaskGrant): string;
  /** True when nothing is configured: `mask` returns its input. */
  readonly inert: boolean;
  /** The configured path patterns and key names, for building grants. */
  readonly fields: readonly string[];
  /** Every label a grant may name. */
  readonly labels: readonly string[];
}

const OPTION_NAMES = [
  'paths',
  'keys',
  'caseInsensitive',
  'recognizers',
  'scanPaths',
  'strategy',
  'strategies',
  'pseudonymKey',
  'mutate',
  'maxDepth',
  'maxScanLength',
];

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const TOO_DEEP = '[MASKED: too deep]';
const MAX_MASK_DEPTH = 1000;
const TOO_LONG = '[MASKED: too long to scan]';
const REMOVE: unique symbol = Symbol('remove');
type Out = unknown;

interface Rule {
  /** What grants may name to unmask it: the pattern, the key name, the label. */
  names: string[];
  label: string;
  strategy: Strategy;
}

interface GrantState {
  /** Trie states of the granted field paths, or undefined when the grant names none. */
  states: StateSet | undefined;
  disabledRules: Set<number> | undefined;
  skipLabels: Set<string> | undefined;
}

interface Run {
  grant: GrantState | undefined;
  annotations: Annotations | undefined;
  /** The caller owns the root object or array: it may be changed in place. */
  ownsRoot: boolean;
}

const NO_GRANT: GrantState = { states: undefined, disabledRules: undefined, skipLabels: undefined };

function toKey(key: string | Buffer | KeyObject | undefined): KeyObject | undefined {
  if (key === undefined) return undefined;
  if (typeof key === 'object' && 'type' in key && (key as KeyObject).type === 'secret') return key as KeyObject;
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : (key as Buffer);
  if (!Buffer.isBuffer(bytes) || bytes.length < 16) {
    throw new ConfigError('pseudonymKey', 'must be at least 16 bytes', { code: 'pii.weak_key' });
  }
  return createSecretKey(bytes);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function childPath(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Validates the options once and returns the masking engine. */
export function createMasker(options: MaskerOptions = {}): PiiMasker {
  return new MaskingEngine(options);
}

class MaskingEngine implements PiiMasker {
  readonly inert: boolean;
  readonly fields: readonly string[];
  readonly labels: readonly string[];
  private readonly root: PathNode;
  private readonly sets: StateSets;
  private readonly rootStates: StateSet;
  private readonly rules: Rule[] = [];
  private readonly recognizers: Recognizer[];
  private readonly scanning: boolean;
  /** Strings shorter than every recognizer's shortest match are not scanned. */
  private readonly minScanLength: number;
  /** Trie states of `scanPaths`; null when recognizers scan every string. */
  private readonly scanStart: StateSet | null;
  private readonly caseInsensitive: boolean;
  private readonly mutate: boolean;
  private readonly maxDepth: number;
  private readonly maxScanLength: number;
  private readonly labelStrategies = new Map<string, Strategy>();
  private readonly defaultStrategy: Strategy;
  /** By label (configured or a recognizer's): the strategy as that label's values get it. */
  private readonly resolvedStrategies = new Map<string, Strategy>();
  private readonly grants = new WeakMap<UnmaskGrant, GrantState>();

  constructor(given: MaskerOptions) {
    const options = checkOptions('createMasker()', given, OPTION_NAMES);
    this.caseInsensitive = options.caseInsensitive ?? false;
    this.sets = new StateSets(this.caseInsensitive);
    this.mutate = options.mutate ?? false;
    // The walks recurse once per level: the bound must stay well inside the stack.
    this.maxDepth = integerOption('maxDepth', options.maxDepth, { fallback: 64, min: 1, max: MAX_MASK_DEPTH });
    this.maxScanLength = integerOption('maxScanLength', options.maxScanLength, { fallback: 1_000_000, min: 1 });
    const pseudonymKey = toKey(options.pseudonymKey);
    this.defaultStrategy = compileStrategy(options.strategy ?? 'redact', 'strategy', pseudonymKey);
    for (const [label, spec] of Object.entries(options.strategies ?? {})) {
      this.labelStrategies.set(label, compileStrategy(spec, `strategies.${label}`, pseudonymKey));
    }
    this.recognizers = compileRecognizers(options.recognizers ?? []);
    this.scanning = this.recognizers.length > 0;
    this.minScanLength = Math.min(...this.recognizers.map((recognizer) => recognizer.minLength ?? 1));

    this.root = newNode();
    const fields: string[] = [];
    const addRule = (
      pattern: string,
      segments: ReturnType<typeof parsePath>,
      names: string[],
      label: string,
      spec: StrategySpec | undefined,
      option: string,
    ) => {
      const strategy =
        spec === undefined
          ? this.strategyFor(label)
          : compileStrategy(spec, `${option}.strategy`, pseudonymKey).forLabel(label);
      this.rules.push({ names, label, strategy });
      insertPath(this.root, segments, this.rules.length - 1, this.caseInsensitive);
      fields.push(pattern);
    };
    for (const [index, item] of (options.paths ?? []).entries()) {
      const option = `paths[${index}]`;
      const spec: PathRuleSpec = typeof item === 'string' ? { path: item } : item;
      if (typeof spec !== 'object' || spec === null) {
        throw new ConfigError(option, 'must be a path or {path, label?, strategy?}', { code: 'pii.invalid_path' });
      }
      const segments = parsePath(spec.path, option);
      const label = spec.label ?? spec.path;
      addRule(spec.path, segments, [spec.path, label], label, spec.strategy, option);
    }
    for (const [index, item] of (options.keys ?? []).entries()) {
      const option = `keys[${index}]`;
      const spec = typeof item === 'string' ? { key: item } : item;
      if (typeof spec.key !== 'string' || spec.key.length === 0) {
        throw new ConfigError(option, 'must be a non-empty key name', { code: 'pii.invalid_path' });
      }
      if (FORBIDDEN_KEYS.has(spec.key)) {
        throw new ConfigError(option, `"${spec.key}" is never data`, { code: 'pii.invalid_path' });
      }
      const segments: Segment[] = [{ kind: 'glob' }, { kind: 'key', key: spec.key }];
      const label = spec.label ?? spec.key;
      addRule(spec.key, segments, [spec.key, `**.${spec.key}`, label], label, spec.strategy, option);
    }
    this.rootStates = this.sets.start(this.root);
    this.scanStart = this.compileScanPaths(options.scanPaths);
    this.fields = fields;
    this.labels = [...new Set([...this.rules.map((rule) => rule.label), ...this.recognizers.map((r) => r.label)])];
    this.inert = this.rules.length === 0 && !this.scanning;
  }

  private compileScanPaths(scanPaths: string[] | undefined): StateSet | null {
    if (scanPaths === undefined) return null;
    if (!Array.isArray(scanPaths) || scanPaths.length === 0)
      throw new ConfigError('scanPaths', 'must be a non-empty list of paths (leave it out to scan every string)');
    if (!this.scanning) throw new ConfigError('scanPaths', 'needs recognizers to scan with');
    const root = newNode();
    scanPaths.forEach((path, index) =>
      insertPath(root, parsePath(path, `scanPaths[${index}]`), 0, this.caseInsensitive),
    );
    return this.sets.start(root);
  }

  private strategyFor(label: string): Strategy {
    let strategy = this.resolvedStrategies.get(label);
    if (!strategy) {
      strategy = (this.labelStrategies.get(label) ?? this.defaultStrategy).forLabel(label);
      this.resolvedStrategies.set(label, strategy);
    }
    return strategy;
  }

  mask<T>(value: T, grant?: UnmaskGrant): T {
    return this.maskRoot(value, grant, false);
  }

  maskOwned<T>(value: T, grant?: UnmaskGrant): T {
    return this.maskRoot(value, grant, true);
  }

  private maskRoot<T>(value: T, grant: UnmaskGrant | undefined, ownsRoot: boolean): T {
    if (this.inert) return value;
    const run: Run = { grant: this.grantState(grant), annotations: undefined, ownsRoot };
    const out = this.walk(value, this.rootStates, run.grant?.states, this.scanStart, 0, run, '');
    return (out === REMOVE ? undefined : out) as T;
  }

  maskText(text: string, grant?: UnmaskGrant): string {
    if (!this.scanning || typeof text !== 'string') return text;
    return this.scan(text, { grant: this.grantState(grant), annotations: undefined, ownsRoot: false }, '');
  }

  serialize(value: unknown, grant?: UnmaskGrant): string {
    return JSON.stringify(this.mask(value, grant));
  }

  annotate(value: unknown, grant?: UnmaskGrant): Annotations {
    const annotations: Annotations = {};
    if (this.inert) return annotations;
    const run: Run = { grant: this.grantState(grant), annotations, ownsRoot: false };
    this.walk(value, this.rootStates, run.grant?.states, this.scanStart, 0, run, '');
    return annotations;
  }

  reach(path: string, grant?: UnmaskGrant): MaskReach {
    if (this.inert) return 'none';
    const run = this.grantState(grant);
    let states = this.rootStates;
    let granted = run?.states;
    let scanAt = this.scanStart;
    const keys = path.split('.');
    // The same steps as `walk`, along one path instead of through a value.
    for (let index = 0; ; index++) {
      if (granted && granted.rule !== undefined) return 'none';
      if (states.rule !== undefined && !run?.disabledRules?.has(states.rule)) return 'value';
      if (scanAt !== null && scanAt.rule !== undefined) scanAt = null;
      if (index === keys.length) break;
      const key = keys[index]!;
      states = this.sets.afterKey(states, key);
      granted = granted && this.sets.afterKey(granted, key);
      scanAt = scanAt && this.sets.afterKey(scanAt, key);
    }
    // Fields hold scalars or lists of them: below, only a rule on list elements can reach them (counted
    // even when this grant lifts it for some elements).
    if (states.nodes.some((node) => node.indexes.size > 0 || node.anyIndex !== undefined)) return 'value';
    if (!this.mayScanBelow(scanAt)) return 'none';
    const skipped = run?.skipLabels;
    return skipped && this.recognizers.every((recognizer) => skipped.has(recognizer.label)) ? 'none' : 'text';
  }

  private grantState(grant: UnmaskGrant | undefined): GrantState | undefined {
    if (!grant || ((!grant.fields || grant.fields.length === 0) && (!grant.labels || grant.labels.length === 0))) {
      return undefined;
    }
    let state = this.grants.get(grant);
    if (!state) {
      state = this.compileGrant(grant);
      this.grants.set(grant, state);
    }
    return state === NO_GRANT ? undefined : state;
  }

  private compileGrant(grant: UnmaskGrant): GrantState {
    const names = new Set(grant.fields ?? []);
    const labels = new Set(grant.labels ?? []);
    const disabled = new Set<number>();
    this.rules.forEach((rule, index) => {
      if (labels.has(rule.label) || rule.names.some((name) => names.has(name))) disabled.add(index);
    });
    const root = newNode();
    let any = false;
    for (const field of names) {
      try {
        insertPath(root, parsePath(field, 'grant.fields'), 0, this.caseInsensitive);
        any = true;
      } catch {
        // An unparsable grant grants nothing: masking fails closed.
      }
    }
    const states = any ? this.sets.start(root) : undefined;
    const skipLabels = labels.size > 0 ? labels : undefined;
    return { states, disabledRules: disabled.size > 0 ? disabled : undefined, skipLabels };
  }

  /** `scanAt`: the states of `scanPaths` here; null once inside one of them (or when there are none). */
  private walk(
    value: unknown,
    states: StateSet,
    granted: StateSet | undefined,
    scanAt: StateSet | null,
    depth: number,
    run: Run,
    path: string,
  ): Out | typeof REMOVE {
    if (granted && granted.rule !== undefined) return value;
    const rule = states.rule;
    if (rule !== undefined && !run.grant?.disabledRules?.has(rule))
      return this.applyRule(value, rule, run, path, depth);
    if (scanAt !== null && scanAt.rule !== undefined) scanAt = null;
    if (typeof value === 'string')
      return this.scanning && scanAt === null && value.length >= this.minScanLength
        ? this.scan(value, run, path)
        : value;
    if (typeof value !== 'object' || value === null) return value;
    if (!states.canDescend && !this.mayScanBelow(scanAt)) return value;
    if (depth >= this.maxDepth) return this.tooDeep(run, path, value);
    if (Array.isArray(value)) return this.walkArray(value, states, granted, scanAt, depth, run, path);
    // A date serializes to a fixed ISO form that holds no PII: recognizers need not scan it.
    if (value instanceof Date) return dateJson(value);
    // Like JSON.stringify: a toJSON method decides what the value is (ObjectIds, documents).
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function')
      return this.walk(toJSON.call(value), states, granted, scanAt, depth + 1, run, path);
    if (isPlainObject(value))
      return this.walkObject(value as Record<string, unknown>, states, granted, scanAt, depth, run, path);
    return value;
  }

  /** Whether some string at or below here may be scanned. */
  private mayScanBelow(scanAt: StateSet | null): boolean {
    return this.scanning && (scanAt === null || scanAt.nodes.length > 0);
  }

  /** Whether the walk may change this value in place rather than copy it on the first change. */
  private inPlace(run: Run, depth: number): boolean {
    return this.mutate || (run.ownsRoot && depth === 0);
  }

  private walkObject(
    object: Record<string, unknown>,
    states: StateSet,
    granted: StateSet | undefined,
    scanAt: StateSet | null,
    depth: number,
    run: Run,
    path: string,
  ): Out {
    let out = object;
    const inPlace = this.inPlace(run, depth);
    // Look up only the keys a rule names instead of visiting every property, when nothing scans.
    const named = !this.caseInsensitive && !this.mayScanBelow(scanAt) ? states.namedKeys : undefined;
    const keys = named ?? Object.keys(object);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (named && !Object.hasOwn(object, key)) continue;
      const next = this.sets.afterKey(states, key);
      const nextScan = scanAt && this.sets.afterKey(scanAt, key);
      if (next.nodes.length === 0 && !this.mayScanBelow(nextScan)) continue;
      const current = object[key];
      // Most values are primitives no rule names and no recognizer scans: settled here, without a call.
      if (next.rule === undefined && (typeof current !== 'object' || current === null)) {
        if (typeof current !== 'string') continue;
        if (!this.scanning || (nextScan !== null && nextScan.rule === undefined)) continue;
      }
      const result = this.walk(
        current,
        next,
        granted && this.sets.afterKey(granted, key),
        nextScan,
        depth + 1,
        run,
        run.annotations ? childPath(path, key) : path,
      );
      if (result === current || run.annotations) continue;
      if (out === object && !inPlace) out = { ...object };
      if (result === REMOVE) delete out[key];
      else setOwn(out, key, result);
    }
    return out;
  }

  private walkArray(
    array: unknown[],
    states: StateSet,
    granted: StateSet | undefined,
    scanAt: StateSet | null,
    depth: number,
    run: Run,
    path: string,
  ): Out {
    let out: unknown[] | undefined;
    let removed = false;
    for (let index = 0; index < array.length; index++) {
      const current = array[index];
      const result = this.walk(
        current,
        this.sets.afterIndex(states, index),
        granted && this.sets.afterIndex(granted, index),
        scanAt && this.sets.afterIndex(scanAt, index),
        depth + 1,
        run,
        run.annotations ? `${path}[${index}]` : path,
      );
      if (result === current || run.annotations) continue;
      out ??= this.inPlace(run, depth) ? array : array.slice();
      out[index] = result;
      if (result === REMOVE) removed = true;
    }
    if (!out) return array;
    return removed ? dropRemoved(array, out, this.inPlace(run, depth)) : out;
  }

  private tooDeep(run: Run, path: string, value: unknown): Out {
    if (run.annotations) {
      (run.annotations[path] ??= []).push({ label: 'too-deep', begin: 0, end: 0 });
      return value;
    }
    return TOO_DEEP;
  }

  private applyRule(value: unknown, ruleIndex: number, run: Run, path: string, depth: number): Out | typeof REMOVE {
    const rule = this.rules[ruleIndex]!;
    if (run.annotations) {
      this.annotateWhole(value, rule.label, run.annotations, path, depth);
      return value;
    }
    if (rule.strategy.removes) return REMOVE;
    return this.maskWhole(value, rule, depth);
  }

  private maskWhole(value: unknown, rule: Rule, depth: number): Out {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string') return rule.strategy.apply(value, rule.label);
    if (typeof value !== 'object') return rule.strategy.apply(String(value), rule.label);
    if (depth >= this.maxDepth) return TOO_DEEP;
    if (Array.isArray(value)) return value.map((item) => this.maskWhole(item, rule, depth + 1));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.maskWhole(toJSON.call(value), rule, depth + 1);
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        setOwn(out, key, this.maskWhole((value as Record<string, unknown>)[key], rule, depth + 1));
      }
      return out;
    }
    return rule.strategy.apply('********', rule.label);
  }

  private annotateWhole(value: unknown, label: string, annotations: Annotations, path: string, depth: number): void {
    if (value === null || value === undefined || depth >= this.maxDepth) return;
    if (typeof value !== 'object') {
      const text = typeof value === 'string' ? value : String(value);
      (annotations[path] ??= []).push({ label, begin: 0, end: text.length });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => this.annotateWhole(item, label, annotations, `${path}[${index}]`, depth + 1));
      return;
    }
    for (const key of Object.keys(value)) {
      this.annotateWhole((value as Record<string, unknown>)[key], label, annotations, childPath(path, key), depth + 1);
    }
  }

  private scan(text: string, run: Run, path: string): string {
    if (text.length > this.maxScanLength) {
      if (run.annotations) (run.annotations[path] ??= []).push({ label: 'unscanned', begin: 0, end: text.length });
      return run.annotations ? text : TOO_LONG;
    }
    const detections = scanText(text, this.recognizers, run.grant?.skipLabels);
    if (detections.length === 0) return text;
    if (run.annotations) {
      (run.annotations[path] ??= []).push(...detections);
      return text;
    }
    let out = '';
    let last = 0;
    for (const detection of detections) {
      out += text.slice(last, detection.begin);
      out += this.strategyFor(detection.label).apply(text.slice(detection.begin, detection.end), detection.label);
      last = detection.end;
    }
    return out + text.slice(last);
  }
}

function dropRemoved(original: unknown[], out: unknown[], inPlace: boolean): unknown[] {
  const kept = out.filter((item) => item !== REMOVE);
  if (!inPlace) return kept;
  original.length = 0;
  original.push(...kept);
  return original;
}
