// Shared listing rules for audit stores: field access, equality matching, ordering and opaque cursors.
import type { AuditQuery } from '../contracts/audit.js';
import { ValidationError } from '../errors.js';
import type { AuditEvent } from './event.js';
import { AUDIT_QUERY_FIELDS, type AuditQueryField } from './fields.js';

export interface CursorPosition {
  time: string;
  id: string;
}

export function encodeCursor(event: Pick<AuditEvent, 'time' | 'id'>): string {
  return Buffer.from(JSON.stringify([event.time, event.id])).toString('base64url');
}

/** Decodes a cursor from a client; anything malformed is a 400. */
export function decodeCursor(cursor: string): CursorPosition {
  const invalid = () => new ValidationError('The cursor is not valid.', { code: 'validation.cursor' });
  if (typeof cursor !== 'string' || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [time, id] = parsed as unknown[];
  if (typeof time !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(time))) throw invalid();
  return { time, id };
}

export function fieldValue(event: AuditEvent, field: AuditQueryField): unknown {
  if (field.startsWith('user.')) return (event.user as Record<string, unknown> | undefined)?.[field.slice(5)];
  return (event as unknown as Record<string, unknown>)[field];
}

/** Compares by (time, id), the order every store lists in. */
export function compareEvents(a: Pick<AuditEvent, 'time' | 'id'>, b: Pick<AuditEvent, 'time' | 'id'>): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError('limit must be an integer from 1 to 1000.', {
      errors: [{ field: 'limit', message: 'must be an integer from 1 to 1000' }],
    });
  }
  return limit;
}

/** Checks a query's `where` against the declared fields; store implementations call it first. */
export function checkWhere(where: AuditQuery['where']): [AuditQueryField, (string | number)[]][] {
  const entries: [AuditQueryField, (string | number)[]][] = [];
  for (const [field, raw] of Object.entries(where ?? {})) {
    if (!Object.hasOwn(AUDIT_QUERY_FIELDS, field)) {
      throw new ValidationError(`Unknown filter field "${field}".`, {
        errors: [{ field, message: 'is not a filterable audit field' }],
      });
    }
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.some((value) => typeof value !== 'string' && typeof value !== 'number')) {
      throw new ValidationError(`Filter "${field}" must be a string or a number.`, {
        errors: [{ field, message: 'must be a string or a number' }],
      });
    }
    entries.push([field as AuditQueryField, values]);
  }
  return entries;
}

/** An in-memory predicate for a query (everything but the cursor and limit). */
export function queryPredicate(query: AuditQuery): (event: AuditEvent) => boolean {
  const where = checkWhere(query.where);
  const from = query.from?.toISOString();
  const to = query.to?.toISOString();
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const ascending = query.order === 'asc';
  return (event) => {
    if (from !== undefined && event.time < from) return false;
    if (to !== undefined && event.time >= to) return false;
    if (after) {
      const order = compareEvents(event, after);
      if (ascending ? order <= 0 : order >= 0) return false;
    }
    for (const [field, values] of where) {
      if (!values.includes(fieldValue(event, field) as string | number)) return false;
    }
    return query.filter ? query.filter.matches(event) : true;
  };
}
