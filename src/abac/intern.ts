// A bounded table for sharing equal immutable values (rules, compiled patterns) across loaded policies.
import { RECORD_PROTOTYPE } from '../own.js';

/**
 * Two generations of at most `limit` entries each: a new entry goes to the young one; when it is full it
 * becomes the old one and the previous old one is dropped; a hit in the old one moves back to the young.
 * So a value met again and again (the `In("read", "get")` of every policy) stays shared for good, one met
 * once (`Eq("alice")`) is forgotten after at most `2 × limit` newer ones, and memory stays bounded.
 */
export class InternTable<K, V> {
  readonly #limit: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= this.#limit) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}

const NO_TOKEN = Symbol('none');

/** A step of the paths: its first child inline (most nodes of a path met once have one), the others in a map. */
class TrieNode {
  token: unknown = NO_TOKEN;
  child: unknown;
  more: Map<unknown, unknown> | undefined;

  get(token: unknown): unknown {
    return this.token === token ? this.child : this.more?.get(token);
  }

  set(token: unknown, child: unknown): void {
    if (this.token === NO_TOKEN || this.token === token) {
      this.token = token;
      this.child = child;
    } else (this.more ??= new Map()).set(token, child);
  }
}

// Markers in a JSON value's path: a nested list or object begins, a nested list or object ends.
const LIST = Symbol('list');
const OBJECT = Symbol('object');
const END = Symbol('end');

/** Past these a value is not interned: a long path costs a node per step, for a value rarely met twice. */
const MAX_STEPS = 256;
const MAX_TEXT = 2048;

/**
 * Interns values built from JSON objects, equal when their JSON text would be (keys in order), without
 * building that text: an object is a path through a tree of steps keyed by its key count, then its keys and
 * primitive values, which JSON.parse hands over as shared strings; the value sits under the last step (the
 * key count makes every path end where no other continues). `{"type": "Eq", "value": "alice"}` met once
 * costs four lookups and one entry, where a key string per rule was a quarter of loading time. Two
 * generations of at most `limit` entries and nodes each, as in `InternTable`. JSON that does not hold its values
 * exactly (`NaN`, `undefined`, class instances) is never interned; a nested value with `toJSON` (a built
 * rule) counts as its JSON.
 */
export class JsonInternTable<V extends object> {
  readonly #limit: number;
  #young = new TrieNode();
  #old = new TrieNode();
  /** Entries and nodes in the young generation. */
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The value interned for `json`, else `build(json, argument)`, interned when it returns. */
  intern<A>(
    json: Readonly<Record<string, unknown>>,
    build: (json: Readonly<Record<string, unknown>>, argument: A) => V,
    argument: A,
  ): V {
    if (this.#size >= this.#limit) {
      this.#old = this.#young;
      this.#young = new TrieNode();
      this.#size = 0;
    }
    // The path is laid in the young generation first, so a value met once is walked once there; if the
    // build throws, the nodes laid stay empty until their generation is dropped.
    const count = keyCount(json);
    if (!walk(this.#young, count, json, true)) return build(json, argument);
    this.#size += grown;
    const node = at!;
    const last = pending;
    let value = node.get(last) as V | undefined;
    if (value !== undefined) return value;
    if (walk(this.#old, count, json, false)) value = at?.get(pending) as V | undefined;
    // `build` may intern nested values: the walk's state is read before.
    value ??= build(json, argument);
    node.set(last, value);
    this.#size++;
    return value;
  }
}

// The state of the walk in progress (walks are synchronous; `asJson` keeps it across a toJSON): the node
// reached and the step not taken yet, whether missing nodes are laid, how many were, and what is left of
// the budgets.
let at: TrieNode | undefined;
let pending: unknown;
let laying = false;
let grown = 0;
let steps = 0;
let text = 0;

/** Walks `object`'s path from `root` (leaving its last step pending); false when it is not to be interned. */
function walk(root: TrieNode, count: number, object: Readonly<Record<string, unknown>>, lay: boolean): boolean {
  at = root;
  pending = count;
  laying = lay;
  grown = 0;
  steps = MAX_STEPS;
  text = MAX_TEXT;
  return walkObject(object);
}

/** Takes the pending step (laying it, or leaving `at` undefined when it is missing); `token` is next. */
function advance(token: unknown): void {
  if (at !== undefined) {
    let next = at.get(pending) as TrieNode | undefined;
    if (next === undefined && laying) {
      at.set(pending, (next = new TrieNode()));
      grown++;
    }
    at = next;
  }
  pending = token;
}

function walkObject(object: Readonly<Record<string, unknown>>): boolean {
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    if ((text -= key.length) < 0) return false;
    advance(key);
    if (!walkValue(object[key])) return false;
  }
  return true;
}

function walkValue(value: unknown): boolean {
  if (--steps < 0) return false;
  switch (typeof value) {
    case 'string':
      if ((text -= value.length) < 0) return false;
      break;
    case 'number':
      if (!Number.isFinite(value)) return false;
      break;
    case 'boolean':
      break;
    case 'object': {
      if (value === null) break;
      const json = asJson(value);
      if (json === undefined) return false;
      if (Array.isArray(json)) {
        advance(LIST);
        for (const item of json) if (!walkValue(item)) return false;
      } else {
        advance(OBJECT);
        if (!walkObject(json)) return false;
      }
      advance(END);
      return true;
    }
    default:
      return false;
  }
  advance(value);
  return true;
}

function keyCount(object: Readonly<Record<string, unknown>>): number {
  let count = 0;
  for (const key in object) if (Object.hasOwn(object, key)) count++;
  return count;
}

/** A list or plain object as JSON sees it (a value with `toJSON` by its JSON); `undefined` for anything else. */
function asJson(value: object): unknown[] | Readonly<Record<string, unknown>> | undefined {
  if (Array.isArray(value)) return value as unknown[];
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null || proto === RECORD_PROTOTYPE) {
    return value as Record<string, unknown>;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return undefined;
  // A rule's own toJSON might intern (parse rules) in turn: the walk in progress keeps its state.
  const state = [at, pending, laying, grown, steps, text] as const;
  const json = (toJSON as () => unknown).call(value);
  [at, pending, laying, grown, steps, text] = state;
  return typeof json === 'object' && json !== null && Object.getPrototypeOf(json) === Object.prototype
    ? (json as Record<string, unknown>)
    : undefined;
}
