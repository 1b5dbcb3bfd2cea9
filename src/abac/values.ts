// Type-aware value semantics shared by the rules: equality, ordering and truthiness without coercion.
import { RECORD_PROTOTYPE } from '../own.js';

/** A JSON-like primitive usable as an index key. */
export type Primitive = string | number | boolean | null;

export function isPrimitiveKey(value: unknown): value is Primitive {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * A plain object (JSON object, null-prototype object or `record()`), never an array, a class instance with
 * a custom prototype, or null.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || proto === RECORD_PROTOTYPE;
}

/** Python's view of a JSON primitive as a set member or `==` operand: `True == 1` and `False == 0`. */
export function pythonKey(value: unknown): unknown {
  return value === true ? 1 : value === false ? 0 : value;
}

/**
 * Deep equality as Python's `==` on JSON data (vakt compares with it): `True == 1`, `False == 0`, other
 * types never equal, arrays compare element-wise, objects by their own keys.
 */
export function valuesEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return pythonKey(a) === pythonKey(b);
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
  if (isPlainObject(value)) {
    // Every decision asks this of its subject and resource: stop at the first key, build no key list.
    for (const key in value) if (Object.hasOwn(value, key)) return true;
    return false;
  }
  return Boolean(value);
}

/** True when `list` contains a value equal (Python's `==`, deep) to `value`. */
export function listIncludes(list: readonly unknown[], value: unknown): boolean {
  for (const item of list) if (valuesEqual(item, value)) return true;
  return false;
}

/** Reads an own attribute only: inherited names such as `constructor` or `__proto__` are never found. */
export function ownAttribute(object: unknown, name: string): { found: boolean; value: unknown } {
  if (!isPlainObject(object) || !Object.hasOwn(object, name)) return { found: false, value: undefined };
  return { found: true, value: object[name] };
}

/**
 * Python's `str()` of a JSON value, which vakt's RegexMatch matches against: `True`, `None`, `[1, 'a']`.
 * Floats print like Python's only for the common cases (integers and short decimals).
 */
export function pythonStr(value: unknown, depth = 0): string {
  if (typeof value === 'string') return depth === 0 ? value : pythonRepr(value);
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'number') return String(value);
  if (depth > 32) return '...';
  if (Array.isArray(value)) return `[${value.map((item) => pythonStr(item, depth + 1)).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${pythonRepr(k)}: ${pythonStr(v, depth + 1)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}
