// Compiles a filter node to an in-memory predicate with MongoDB's semantics (arrays match by element).
import type { Condition, FilterNode, FilterValue, ValueType } from './ast.js';
import { compareValues, valuesEqual } from './compare.js';

export type Predicate = (record: Record<string, unknown>) => boolean;

const MISSING = Symbol('missing');

/** Reads a dotted path like MongoDB does: through objects, and through arrays element by element. */
export function readPath(record: unknown, segments: readonly string[]): unknown {
  let current: unknown = record;
  for (let i = 0; i < segments.length; i++) {
    if (Array.isArray(current)) {
      const rest = segments.slice(i);
      const found: unknown[] = [];
      for (const element of current) {
        const value = readPath(element, rest);
        if (value === MISSING) continue;
        if (Array.isArray(value)) found.push(...value);
        else found.push(value);
      }
      return found.length > 0 ? found : MISSING;
    }
    if (typeof current !== 'object' || current === null) return MISSING;
    const segment = segments[i]!;
    if (!Object.hasOwn(current, segment)) return MISSING;
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? MISSING : current;
}

function any(value: unknown, test: (element: unknown) => boolean): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (test(element)) return true;
    return false;
  }
  return test(value);
}

function inList(values: FilterValue[]): (element: unknown) => boolean {
  // Strings and numbers (the common case) go through a Set; other kinds compare one by one.
  const simple = new Set<unknown>();
  const other: FilterValue[] = [];
  for (const value of values) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') simple.add(value);
    else other.push(value);
  }
  return (element) => {
    if (simple.has(element)) return true;
    for (const value of other) if (valuesEqual(element, value)) return true;
    return false;
  };
}

function conditionPredicate(condition: Condition): Predicate {
  const segments = condition.field.split('.');
  const read = (record: Record<string, unknown>) => readPath(record, segments);
  switch (condition.op) {
    case 'eq': {
      const wanted = condition.value;
      return (record) => any(read(record), (element) => valuesEqual(element, wanted));
    }
    case 'ne': {
      const wanted = condition.value;
      return (record) => !any(read(record), (element) => valuesEqual(element, wanted));
    }
    case 'in': {
      const test = inList(condition.values);
      return (record) => any(read(record), test);
    }
    case 'notin': {
      const test = inList(condition.values);
      return (record) => !any(read(record), test);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const wanted = condition.value;
      const accept = ordering[condition.op];
      return (record) =>
        any(read(record), (element) => {
          const order = compareValues(element, wanted);
          return order !== undefined && accept(order);
        });
    }
    case 'between': {
      const { low, high } = condition;
      const atLeast = (element: unknown) => (compareValues(element, low) ?? -1) >= 0;
      const atMost = (element: unknown) => (compareValues(element, high) ?? 1) <= 0;
      // Arrays: some element >= low and some element <= high, as MongoDB applies a range to arrays.
      return (record) => {
        const value = read(record);
        return any(value, atLeast) && any(value, atMost);
      };
    }
    case 'startswith': {
      const prefix = condition.value as string;
      return (record) => any(read(record), (element) => typeof element === 'string' && element.startsWith(prefix));
    }
    case 'contains': {
      const part = condition.value as string;
      return (record) => any(read(record), (element) => typeof element === 'string' && element.includes(part));
    }
    case 'notcontains': {
      const part = condition.value as string;
      return (record) => !any(read(record), (element) => typeof element === 'string' && element.includes(part));
    }
    case 'exists': {
      const wanted = condition.value;
      return (record) => (read(record) !== MISSING) === wanted;
    }
    case 'null': {
      const wanted = condition.value;
      const isNull = (record: Record<string, unknown>) => {
        const value = read(record);
        return value === MISSING || any(value, (element) => element === null);
      };
      return (record) => isNull(record) === wanted;
    }
    case 'type': {
      const types = new Set<ValueType | undefined>(condition.types);
      const array = types.has('array');
      return (record) => {
        const value = read(record);
        if (value === MISSING) return false;
        if (array && Array.isArray(value)) return true;
        return any(value, (element) => types.has(typeOf(element)));
      };
    }
  }
}

/** MongoDB's `$type` name of a value as the stores hold it (driver ObjectIds aside: no alias is offered). */
function typeOf(value: unknown): ValueType | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    case 'object':
      return Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
        ? 'object'
        : undefined;
    default:
      return undefined;
  }
}

const ordering = {
  gt: (order: number) => order > 0,
  gte: (order: number) => order >= 0,
  lt: (order: number) => order < 0,
  lte: (order: number) => order <= 0,
};

/** Compiles once; the predicate runs without allocating per record beyond path reads. */
export function toPredicate(node: FilterNode): Predicate {
  if (node.kind === 'cond') return conditionPredicate(node);
  if (node.kind === 'not') {
    const child = toPredicate(node.node);
    return (record) => !child(record);
  }
  const children = node.nodes.map(toPredicate);
  if (node.kind === 'and') {
    if (children.length === 0) return () => true;
    if (children.length === 1) return children[0]!;
    return (record) => {
      for (const child of children) if (!child(record)) return false;
      return true;
    };
  }
  if (children.length === 0) return () => false;
  return (record) => {
    for (const child of children) if (child(record)) return true;
    return false;
  };
}
