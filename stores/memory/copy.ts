// Deep copies of stored data: what memory stores hand out and take in, so callers never share their state.
import { MAX_JSON_DEPTH, tooDeepError } from '../../src/json-depth.js';
import { setOwn } from '../../src/own.js';

/**
 * A deep copy of JSON-like data (plain objects, arrays, dates, primitives). Several times faster than
 * `structuredClone` on such data, which is all a memory store holds; anything else (maps, buffers, class
 * instances) still goes through `structuredClone`. With `omitTop`, an object's keys in it are left out
 * (at the top level only). Data nested past `MAX_JSON_DEPTH` is refused with a `validation.too_deep`
 * error: the recursion is bounded, so a value handed in by code cannot overflow the stack.
 */
export function copyData<T>(value: T, omitTop?: ReadonlySet<string>): T {
  return copyAt(value, omitTop, 1);
}

function copyAt<T>(value: T, omitTop: ReadonlySet<string> | undefined, level: number): T {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const array = Array.isArray(value);
  if (!array) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  }
  if (level > MAX_JSON_DEPTH) throw tooDeepError(MAX_JSON_DEPTH, 'stored value');
  if (array) {
    const out = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) out[index] = copyAt(value[index], undefined, level + 1);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // `omitTop`: top-level keys left out of the copy (a query's `omit`), never copied to be dropped later.
    if (omitTop?.has(key)) continue;
    const item = copyAt((value as Record<string, unknown>)[key], undefined, level + 1);
    // An own `__proto__` key (JSON.parse makes them) must stay data, never become the prototype.
    setOwn(out, key, item);
  }
  return out as T;
}
