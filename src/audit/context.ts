// Request-scoped audit context (cased's Context) on AsyncLocalStorage: any code can add fields to it.
import { AsyncLocalStorage } from 'node:async_hooks';

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Fields = Record<string, unknown>;

const storage = new AsyncLocalStorage<Fields>();
// Outside any scope (scripts, jobs) updates go to a process-wide context, like cased's global one.
let processScope: Fields = Object.create(null) as Fields;

function assign(target: Fields, fields: Fields): void {
  for (const key of Object.keys(fields)) {
    if (UNSAFE_KEYS.has(key)) continue;
    target[key] = fields[key];
  }
}

/** The audit context: fields merged into the `data` of every event published inside the current scope. */
export const auditContext = {
  /** Runs `fn` in a new scope that starts with a copy of the current fields plus `fields`. */
  run<T>(fields: Fields, fn: () => T): T {
    const scope = Object.create(null) as Fields;
    assign(scope, this.get());
    assign(scope, fields);
    return storage.run(scope, fn);
  },
  /** Like `run`, but returns the scope's live fields so code outside it (a response listener) can read them. */
  open(fields: Fields, fn: () => void): Fields {
    const scope = Object.create(null) as Fields;
    assign(scope, this.get());
    assign(scope, fields);
    storage.run(scope, fn);
    return scope;
  },
  /** Adds fields to the current scope (or the process scope outside one). Keys like `__proto__` are ignored. */
  update(fields: Fields): void {
    assign(storage.getStore() ?? processScope, fields);
  },
  /** A copy of the current fields. */
  get(): Fields {
    const scope = storage.getStore() ?? processScope;
    const copy = Object.create(null) as Fields;
    assign(copy, scope);
    return copy;
  },
  /** Empties the current scope. */
  clear(): void {
    const scope = storage.getStore();
    if (scope) for (const key of Object.keys(scope)) delete scope[key];
    else processScope = Object.create(null) as Fields;
  },
  /** True inside a scope started by `run` (e.g. by `auditTrail()` for a request). */
  get active(): boolean {
    return storage.getStore() !== undefined;
  },
};

export type AuditContext = typeof auditContext;
