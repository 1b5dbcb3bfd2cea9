// The typed filter representation both backends compile from: MongoDB filters and in-memory predicates.

/** A reference to an ObjectId by its 24-hex string; stores convert it to their driver's type. */
export class ObjectIdRef {
  readonly hex: string;
  constructor(hex: string) {
    this.hex = hex.toLowerCase();
  }
  /** Extended JSON, so printed filters say what they mean. */
  toJSON(): { $oid: string } {
    return { $oid: this.hex };
  }
}

export type FilterValue = string | number | boolean | Date | ObjectIdRef;

/** Value types of the `type` condition, as MongoDB's `$type` aliases name them. */
export type ValueType = 'string' | 'number' | 'bool' | 'null' | 'array' | 'object' | 'date';

export type CompareOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'startswith' | 'contains' | 'notcontains';
export type ListOp = 'in' | 'notin';

export type Condition =
  | { kind: 'cond'; op: CompareOp; field: string; value: FilterValue }
  | { kind: 'cond'; op: ListOp; field: string; values: FilterValue[] }
  | { kind: 'cond'; op: 'between'; field: string; low: FilterValue; high: FilterValue; array: boolean }
  /** `exists: true` — the field is present (even when null). */
  | { kind: 'cond'; op: 'exists'; field: string; value: boolean }
  /** `null: true` — the field is null or missing; `false` — present and not null. */
  | { kind: 'cond'; op: 'null'; field: string; value: boolean }
  /**
   * MongoDB's `$type`: the value is of one of `types`, or, when it is an array, the array itself counts as
   * `array` and each element by its own type (so `['a']` is both `array` and `string`). Built by code (ABAC
   * queries), never from a querystring.
   */
  | { kind: 'cond'; op: 'type'; field: string; types: ValueType[] };

export type FilterNode =
  | Condition
  /** Every child holds; no children matches everything. */
  | { kind: 'and'; nodes: FilterNode[] }
  /** Some child holds; no children matches nothing. */
  | { kind: 'or'; nodes: FilterNode[] }
  /** The child does not hold (MongoDB's `$nor` of one filter). */
  | { kind: 'not'; node: FilterNode };

export const matchAll: FilterNode = Object.freeze({ kind: 'and', nodes: [] }) as FilterNode;
export const matchNone: FilterNode = Object.freeze({ kind: 'or', nodes: [] }) as FilterNode;

/** AND of nodes, flattening nested ANDs and dropping match-all children. */
export function and(...nodes: FilterNode[]): FilterNode {
  const flat: FilterNode[] = [];
  for (const node of nodes) {
    if (node.kind === 'and') flat.push(...node.nodes);
    else if (node.kind === 'or' && node.nodes.length === 0) return matchNone;
    else flat.push(node);
  }
  return flat.length === 1 ? flat[0]! : { kind: 'and', nodes: flat };
}

/** OR of nodes, flattening nested ORs; any match-all child makes the whole match all. */
export function or(...nodes: FilterNode[]): FilterNode {
  const flat: FilterNode[] = [];
  for (const node of nodes) {
    if (node.kind === 'or') flat.push(...node.nodes);
    else if (node.kind === 'and' && node.nodes.length === 0) return matchAll;
    else flat.push(node);
  }
  return flat.length === 1 ? flat[0]! : { kind: 'or', nodes: flat };
}

/** NOT of a node, folding constants and double negations. */
export function not(node: FilterNode): FilterNode {
  if (node.kind === 'not') return node.node;
  if (node.kind === 'and' && node.nodes.length === 0) return matchNone;
  if (node.kind === 'or' && node.nodes.length === 0) return matchAll;
  return { kind: 'not', node };
}

export interface SortKey {
  field: string;
  direction: 1 | -1;
}
