// Type-aware value semantics shared by the rules: equality, ordering and truthiness without coercion.

/** A JSON-like primitive usable as an index key. */
export type Primitive = string | number | boolean | null;

export function isPrimitiveKey(value: unknown): value is Primitive {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A plain object (JSON object), never an array, a class instance with a custom prototype, or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Deep, type-strict equality (Python's `==` on JSON data, minus its `True == 1`): values of different
 * types are never equal, arrays compare element-wise, objects by their own keys.
 */
export function valuesEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object' || depth > 32) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !valuesEqual(a[key], b[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Orders two values of the same comparable type (numbers, strings, booleans never): returns a negative,
 * zero or positive number, or `undefined` when they cannot be compared (then a comparison rule fails).
 */
export function compareValues(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a - b;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Python's truthiness, which vakt's Truthy/Falsy follow: empty strings, lists and objects are false. */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** True when `list` contains a value equal (type-strict, deep) to `value`. */
export function listIncludes(list: readonly unknown[], value: unknown): boolean {
  for (const item of list) if (valuesEqual(item, value)) return true;
  return false;
}

/** Reads an own attribute only: inherited names such as `constructor` or `__proto__` are never found. */
export function ownAttribute(object: unknown, name: string): { found: boolean; value: unknown } {
  if (!isPlainObject(object) || !Object.hasOwn(object, name)) return { found: false, value: undefined };
  return { found: true, value: object[name] };
}
