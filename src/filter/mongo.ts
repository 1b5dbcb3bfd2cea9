// Compiles a filter node to a MongoDB filter document; user text only ever appears as escaped literals.
import { ObjectIdRef, type Condition, type FilterNode, type FilterValue, type SortKey } from './ast.js';

export interface MongoCompileOptions {
  /** Converts ObjectId references to the driver's type. Default: keep `ObjectIdRef` (prints as `{$oid}`). */
  objectId?: (hex: string) => unknown;
  /** Maps a public field name to the stored one, e.g. `id` → `_id`. Default: identity. */
  fieldName?: (field: string) => string;
}

export type MongoFilter = Record<string, unknown>;

/** Escapes every regex metacharacter so the text matches literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function convert(value: FilterValue, options: MongoCompileOptions): unknown {
  return value instanceof ObjectIdRef && options.objectId ? options.objectId(value.hex) : value;
}

function convertAll(values: FilterValue[], options: MongoCompileOptions): unknown[] {
  if (!options.objectId) return values;
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]!, options);
  return out;
}

/** The operator document of one condition (or the bare value for equality). */
function conditionValue(condition: Condition, options: MongoCompileOptions): unknown {
  switch (condition.op) {
    case 'eq':
      return convert(condition.value, options);
    case 'ne':
      return { $ne: convert(condition.value, options) };
    case 'gt':
      return { $gt: convert(condition.value, options) };
    case 'gte':
      return { $gte: convert(condition.value, options) };
    case 'lt':
      return { $lt: convert(condition.value, options) };
    case 'lte':
      return { $lte: convert(condition.value, options) };
    case 'in':
      return { $in: convertAll(condition.values, options) };
    case 'notin':
      return { $nin: convertAll(condition.values, options) };
    case 'between':
      // On arrays this is MongoDB's range semantics: some element >= low and some element <= high (maybe
      // different ones). `$elemMatch` would be stricter but FerretDB v1 does not apply it element-wise.
      return { $gte: convert(condition.low, options), $lte: convert(condition.high, options) };
    case 'startswith':
      return { $regex: `^${escapeRegex(condition.value as string)}` };
    case 'contains':
      return { $regex: escapeRegex(condition.value as string) };
    case 'notcontains':
      return { $not: { $regex: escapeRegex(condition.value as string) } };
    case 'exists':
      return { $exists: condition.value };
    case 'null':
      return condition.value ? null : { $ne: null };
    case 'type':
      return { $type: condition.types.length === 1 ? condition.types[0] : condition.types };
  }
}

function conditionFilter(condition: Condition, options: MongoCompileOptions): MongoFilter {
  const filter: MongoFilter = {};
  filter[options.fieldName ? options.fieldName(condition.field) : condition.field] = conditionValue(condition, options);
  return filter;
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return false;
  if (value instanceof ObjectIdRef) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

// Merges AND-ed filters into one document while fields do not collide, so filters stay readable.
function mergeAnd(parts: MongoFilter[]): MongoFilter {
  const merged: MongoFilter = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      if (!Object.hasOwn(merged, key)) {
        merged[key] = value;
        continue;
      }
      const existing = merged[key];
      // NOT a AND NOT b is NOR(a, b).
      if (key === '$nor' && Array.isArray(existing) && Array.isArray(value)) {
        merged[key] = [...(existing as unknown[]), ...(value as unknown[])];
        continue;
      }
      if (
        !key.startsWith('$') &&
        isOperatorObject(existing) &&
        isOperatorObject(value) &&
        Object.keys(value).every((op) => !Object.hasOwn(existing, op))
      ) {
        merged[key] = { ...existing, ...value };
        continue;
      }
      return { $and: parts };
    }
  }
  return merged;
}

/** A filter that matches no document on MongoDB and FerretDB alike. */
export const mongoMatchNone: MongoFilter = Object.freeze({ _id: { $in: [] } }) as MongoFilter;

export function toMongoFilter(node: FilterNode, options: MongoCompileOptions = {}): MongoFilter {
  if (node.kind === 'cond') return conditionFilter(node, options);
  if (node.kind === 'not') {
    const inner = node.node;
    // A negated type test stays on its field (`$not` negates one field's operators, missing fields included),
    // so it merges with that field's other conditions; anything else is `$nor` of one filter.
    if (inner.kind === 'cond' && inner.op === 'type') {
      const field = options.fieldName ? options.fieldName(inner.field) : inner.field;
      return { [field]: { $not: conditionValue(inner, options) } };
    }
    return { $nor: [toMongoFilter(inner, options)] };
  }
  if (node.kind === 'and') {
    if (node.nodes.length === 0) return {};
    if (node.nodes.length === 1) return toMongoFilter(node.nodes[0]!, options);
    // Common case: conditions on distinct fields become one flat document without intermediate objects.
    const flat: MongoFilter = {};
    let simple = true;
    for (const child of node.nodes) {
      if (child.kind !== 'cond') {
        simple = false;
        break;
      }
      const field = options.fieldName ? options.fieldName(child.field) : child.field;
      if (Object.hasOwn(flat, field)) {
        simple = false;
        break;
      }
      flat[field] = conditionValue(child, options);
    }
    if (simple) return flat;
    return mergeAnd(node.nodes.map((child) => toMongoFilter(child, options)));
  }
  if (node.nodes.length === 0) return { ...mongoMatchNone };
  if (node.nodes.length === 1) return toMongoFilter(node.nodes[0]!, options);
  return { $or: node.nodes.map((child) => toMongoFilter(child, options)) };
}

export function toMongoSort(sort: readonly SortKey[], options: MongoCompileOptions = {}): Record<string, 1 | -1> {
  const result: Record<string, 1 | -1> = {};
  for (const key of sort) result[options.fieldName ? options.fieldName(key.field) : key.field] = key.direction;
  return result;
}
