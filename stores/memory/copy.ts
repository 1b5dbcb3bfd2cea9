// Deep copies of stored data: what memory stores hand out and take in, so callers never share their state.
import { setOwn } from '../../src/own.js';

/**
 * A deep copy of JSON-like data (plain objects, arrays, dates, primitives). Several times faster than
 * `structuredClone` on such data, which is all a memory store holds; anything else (maps, buffers, class
 * instances) still goes through `structuredClone`. With `omitTop`, an object's keys in it are left out
 * (at the top level only).
 */
export function copyData<T>(value: T, omitTop?: ReadonlySet<string>): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) out[index] = copyData(value[index]);
    return out as T;
  }
  if (value instanceof Date) return new Date(value.getTime()) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // `omitTop`: top-level keys left out of the copy (a query's `omit`), never copied to be dropped later.
    if (omitTop?.has(key)) continue;
    const item = copyData((value as Record<string, unknown>)[key]);
    // An own `__proto__` key (JSON.parse makes them) must stay data, never become the prototype.
    setOwn(out, key, item);
  }
  return out as T;
}
