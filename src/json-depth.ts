// Nesting bounds on JSON data: request bodies, stored principals, policy documents and store copies.
import { ValidationError } from './errors.js';
import { RECORD_PROTOTYPE } from './own.js';

/**
 * The deepest nesting of arrays and objects Portcullis accepts in a body or keeps in a store (`{}` is one
 * level, `{"a": []}` two). Audit events hold a request body one level down and refuse events deeper than
 * this plus one, so bodies within it always reach the audit trail.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` is an array or a plain object: the containers JSON nests (a Date or an ObjectId is a leaf). */
function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || proto === RECORD_PROTOTYPE;
}

/**
 * True when arrays and plain objects nest more than `maxDepth` levels in `value`. Iterative, and it stops
 * at the first container below the bound, so a hostile value costs at most its size and never the stack.
 * One stack of (container, level) pairs and no copies of the values: policy loading calls this per policy.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (!isContainer(value)) return false;
  const pending: (object | number)[] = [value, 1];
  while (pending.length > 0) {
    const level = pending.pop() as number;
    const container = pending.pop() as Record<string, unknown>;
    if (level > maxDepth) return true;
    if (Array.isArray(container)) {
      for (const child of container) if (isContainer(child)) pending.push(child, level + 1);
      continue;
    }
    for (const key in container) {
      if (!Object.hasOwn(container, key)) continue;
      const child = container[key];
      if (isContainer(child)) pending.push(child, level + 1);
    }
  }
  return false;
}

/**
 * The 400 for a value nested past the bound: code `validation.too_deep`, the bound in the detail and, when
 * `field` is given, in an `errors` entry naming it.
 */
export function tooDeepError(maxDepth: number, what: string, field?: string): ValidationError {
  const message = `nests deeper than ${maxDepth} levels`;
  return new ValidationError(`The ${what} ${message}.`, {
    code: 'validation.too_deep',
    ...(field === undefined ? {} : { errors: [{ field, message, code: 'validation.too_deep' }] }),
  });
}
