// Sensitive-field paths (`a.b`, `*`, `**`, `[n]`, `[*]`) parsed once and compiled into a matching trie.
import { ConfigError } from '../errors.js';

/** One step of a parsed path. */
export type Segment =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'any' }
  | { kind: 'anyIndex' }
  | { kind: 'glob' };

/**
 * A node of the path trie. A walk over a value carries the set of nodes reached so far; a node with a
 * `rule` marks the value it is reached at as sensitive.
 */
export interface PathNode {
  keys: Map<string, PathNode>;
  indexes: Map<number, PathNode>;
  any: PathNode | undefined;
  anyIndex: PathNode | undefined;
  /** The node after a `**` step, entered without consuming a level. */
  glob: PathNode | undefined;
  /** True for the node after `**`: it stays reached at every deeper level. */
  loops: boolean;
  /** The index of the first rule ending here. */
  rule: number | undefined;
  /** Set when the node can match keys it does not list (`*`, `**`). */
  wild: boolean;
}

const MAX_PATH_LENGTH = 512;
const MAX_SEGMENTS = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** Parses `a.b[0]["x.y"].*.**` into segments; throws `ConfigError` naming `option` on bad syntax. */
export function parsePath(path: string, option: string): Segment[] {
  const fail = (why: string): never => {
    throw new ConfigError(option, `path ${JSON.stringify(String(path).slice(0, 80))} ${why}`, {
      code: 'pii.invalid_path',
    });
  };
  if (typeof path !== 'string' || path.length === 0) fail('must be a non-empty string');
  if (path.length > MAX_PATH_LENGTH) fail(`is longer than ${MAX_PATH_LENGTH} characters`);
  const segments: Segment[] = [];
  let i = 0;
  let expectSegment = true;
  while (i < path.length) {
    const char = path[i]!;
    if (char === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail('has an unclosed "["');
      const inner = path.slice(i + 1, close);
      if (inner === '*') segments.push({ kind: 'anyIndex' });
      else if (/^\d{1,9}$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else if (/^(["']).*\1$/.test(inner) && inner.length >= 2) segments.push({ kind: 'key', key: inner.slice(1, -1) });
      else fail(`has an invalid bracket "[${inner}]" (use [0], [*] or ["key"])`);
      i = close + 1;
      expectSegment = false;
      continue;
    }
    if (char === '.') {
      if (expectSegment) fail('has an empty segment');
      expectSegment = true;
      i++;
      continue;
    }
    if (!expectSegment) fail('needs a "." between segments');
    let end = i;
    while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
    const name = path.slice(i, end);
    if (name === '**') segments.push({ kind: 'glob' });
    else if (name === '*') segments.push({ kind: 'any' });
    else if (name.includes('*')) fail('uses "*" inside a name (only whole segments * and ** are wildcards)');
    else segments.push({ kind: 'key', key: name });
    i = end;
    expectSegment = false;
  }
  if (expectSegment) fail('ends with "."');
  if (segments.length > MAX_SEGMENTS) fail(`has more than ${MAX_SEGMENTS} segments`);
  for (const segment of segments) {
    if (segment.kind === 'key' && FORBIDDEN_KEYS.has(segment.key)) fail(`names "${segment.key}", which is never data`);
  }
  return segments;
}

export function newNode(loops = false): PathNode {
  return {
    keys: new Map(),
    indexes: new Map(),
    any: undefined,
    anyIndex: undefined,
    glob: undefined,
    loops,
    rule: undefined,
    wild: loops,
  };
}

/** Adds a parsed path ending in rule number `rule`; keys are lower-cased when `caseInsensitive`. */
export function insertPath(root: PathNode, segments: Segment[], rule: number, caseInsensitive: boolean): void {
  let node = root;
  for (const segment of segments) {
    switch (segment.kind) {
      case 'key': {
        const key = caseInsensitive ? segment.key.toLowerCase() : segment.key;
        let next = node.keys.get(key);
        if (!next) node.keys.set(key, (next = newNode()));
        node = next;
        break;
      }
      case 'index': {
        let next = node.indexes.get(segment.index);
        if (!next) node.indexes.set(segment.index, (next = newNode()));
        node = next;
        break;
      }
      case 'any':
        node.wild = true;
        node = node.any ??= newNode();
        break;
      case 'anyIndex':
        node = node.anyIndex ??= newNode();
        break;
      case 'glob':
        node.wild = true;
        node = node.glob ??= newNode(true);
        break;
    }
  }
  if (node.rule === undefined || rule < node.rule) node.rule = rule;
}

/** Adds `node` and the nodes reachable from it through `**` without consuming a level. */
export function addClosed(into: PathNode[], node: PathNode | undefined): void {
  while (node) {
    if (!into.includes(node)) into.push(node);
    node = node.glob;
  }
}

/** The states after an object key. */
export function stepKey(states: readonly PathNode[], key: string): PathNode[] {
  const next: PathNode[] = [];
  for (const node of states) {
    addClosed(next, node.keys.get(key));
    addClosed(next, node.any);
    if (node.loops) addClosed(next, node);
  }
  return next;
}

/** The states for an array element: arrays are transparent to named steps, and `[n]`, `[*]`, `*` consume them. */
export function stepIndex(states: readonly PathNode[], index: number): PathNode[] {
  const next: PathNode[] = states.slice();
  for (const node of states) {
    addClosed(next, node.indexes.get(index));
    addClosed(next, node.anyIndex);
    addClosed(next, node.any);
  }
  return next;
}

/** The lowest rule number among the states, if any ends here. */
export function ruleOf(states: readonly PathNode[]): number | undefined {
  let rule: number | undefined;
  for (const node of states) {
    if (node.rule !== undefined && (rule === undefined || node.rule < rule)) rule = node.rule;
  }
  return rule;
}

/** True when some state can still match below this level. */
export function canDescend(states: readonly PathNode[]): boolean {
  for (const node of states) {
    if (node.wild || node.keys.size > 0 || node.indexes.size > 0 || node.anyIndex) return true;
  }
  return false;
}

/** True when only named keys can match next (a walk can look them up instead of visiting every key). */
export function onlyNamedKeys(states: readonly PathNode[]): boolean {
  for (const node of states) if (node.wild) return false;
  return true;
}
