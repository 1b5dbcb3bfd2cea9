// Computes which fields a change touched, from the record before and after it.
import type { AuditChanges } from './event.js';
import { canonicalJson } from './canonical.js';

type Fields = Record<string, unknown>;

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonicalJson(JSON.parse(JSON.stringify(a))) === canonicalJson(JSON.parse(JSON.stringify(b)));
}

/**
 * The changed fields only: a create keeps the whole `after`, a delete the whole `before`; an update keeps
 * the fields whose values differ (a field only in `before` was removed). `undefined` when nothing changed.
 */
export function changedFields(before?: Fields, after?: Fields): AuditChanges | undefined {
  if (!before && !after) return undefined;
  if (!before) return { after: { ...after } };
  if (!after) return { before: { ...before } };
  const changes: { before: Fields; after: Fields } = { before: {}, after: {} };
  let count = 0;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (same(before[key], after[key])) continue;
    count++;
    if (Object.hasOwn(before, key)) changes.before[key] = before[key];
    if (Object.hasOwn(after, key)) changes.after[key] = after[key];
  }
  return count === 0 ? undefined : changes;
}
