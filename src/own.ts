// Writing keys that come from data (JSON bodies, querystrings, stored documents) into fresh objects.

/** `target[key] = value`, except that an own `__proto__` key stays data instead of replacing the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A plain-object copy of an object's own enumerable keys. For the null-prototype dictionaries Node's
 * querystring parser returns, about twice as fast as `{ ...object }`, with the same `__proto__` safety.
 */
export function plainCopy(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) setOwn(out, key, object[key]);
  return out;
}

/**
 * The prototype of `record()` objects: it has no properties, so a key such as `constructor` or `__proto__`
 * is never inherited and an assignment to it stays an own data property.
 */
export const RECORD_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/**
 * A fresh object for keys that come from data, safe like `Object.create(null)`. V8 keeps a null-prototype
 * object as a hash table from the start (about 180 bytes for two keys); one whose prototype is an empty
 * object stays a compact fast-mode object (about 50), and those with the same keys share one shape.
 */
export function record<T = unknown>(): Record<string, T> {
  return Object.create(RECORD_PROTOTYPE) as Record<string, T>;
}
