// Interned sets of path-trie states with memoized transitions: the masking walk's lazily built automaton.
import { addClosed, canDescend, onlyNamedKeys, ruleOf, stepIndex, stepKey, type PathNode } from './paths.js';

/** One set of trie states reached at some value, with what the walk asks of it precomputed. */
export interface StateSet {
  readonly nodes: readonly PathNode[];
  /** The lowest rule ending at one of the nodes. */
  readonly rule: number | undefined;
  /** True when some state can still match below this level. */
  readonly canDescend: boolean;
  /** The only keys that can match next, when no state is a wildcard; undefined otherwise. */
  readonly namedKeys: readonly string[] | undefined;
  readonly byKey: Map<string, StateSet>;
  readonly byIndex: Map<number, StateSet>;
}

// Keys come from the data being masked, which may be hostile: transitions and sets are memoized up to a
// bound, and past it computed afresh, so memory stays bounded whatever the input.
const MAX_TRANSITIONS_PER_SET = 256;
const MAX_SETS = 4096;

/** The state sets of one masker (its rule trie and its grants' tries share the interning). */
export class StateSets {
  readonly #interned = new Map<string, StateSet>();
  readonly #ids = new WeakMap<PathNode, number>();
  #nextId = 0;
  readonly empty: StateSet;
  readonly #fold: boolean;

  /** `caseInsensitive`: keys are matched lower-cased (the tries hold lower-case keys). */
  constructor(caseInsensitive = false) {
    this.#fold = caseInsensitive;
    this.empty = this.#intern([]);
  }

  /** The set of `node` and what `**` reaches from it without consuming a level. */
  start(node: PathNode): StateSet {
    const nodes: PathNode[] = [];
    addClosed(nodes, node);
    return this.#intern(nodes);
  }

  /** The set after an object key, memoized by the key as written (lower-cased only on a miss). */
  afterKey(set: StateSet, key: string): StateSet {
    if (set.nodes.length === 0) return set;
    const known = set.byKey.get(key);
    if (known) return known;
    const next = this.#intern(stepKey(set.nodes, this.#fold ? key.toLowerCase() : key));
    if (set.byKey.size < MAX_TRANSITIONS_PER_SET) set.byKey.set(key, next);
    return next;
  }

  afterIndex(set: StateSet, index: number): StateSet {
    if (set.nodes.length === 0) return set;
    const known = set.byIndex.get(index);
    if (known) return known;
    const next = this.#intern(stepIndex(set.nodes, index));
    if (set.byIndex.size < MAX_TRANSITIONS_PER_SET) set.byIndex.set(index, next);
    return next;
  }

  #id(node: PathNode): number {
    let id = this.#ids.get(node);
    if (id === undefined) this.#ids.set(node, (id = this.#nextId++));
    return id;
  }

  #intern(nodes: PathNode[]): StateSet {
    const key = nodes
      .map((node) => this.#id(node))
      .sort((a, b) => a - b)
      .join(',');
    const known = this.#interned.get(key);
    if (known) return known;
    const set: StateSet = {
      nodes,
      rule: ruleOf(nodes),
      canDescend: canDescend(nodes),
      namedKeys: onlyNamedKeys(nodes) ? [...new Set(nodes.flatMap((node) => [...node.keys.keys()]))] : undefined,
      byKey: new Map(),
      byIndex: new Map(),
    };
    if (this.#interned.size < MAX_SETS) this.#interned.set(key, set);
    return set;
  }
}
