// Value comparison with MongoDB's rules where they matter: only values of one kind compare, dates by time.
import { ObjectIdRef } from './ast.js';

const OBJECT_ID_TEXT = /^[0-9a-fA-F]{24}$/;

function compareText(a: unknown, b: unknown): number {
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
}

type Kind = 'number' | 'string' | 'boolean' | 'date' | 'objectId' | 'null' | 'other';

/** The comparison kind of a stored or query value; driver ObjectIds count as objectId by their hex. */
export function kindOf(value: unknown): Kind {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) ? 'other' : 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'undefined':
      return 'null';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Date) return 'date';
      if (value instanceof ObjectIdRef) return 'objectId';
      if (typeof (value as { toHexString?: unknown }).toHexString === 'function') return 'objectId';
      return 'other';
    default:
      return 'other';
  }
}

function primitive(value: unknown, kind: Kind): string | number | boolean {
  if (kind === 'date') return (value as Date).getTime();
  if (kind === 'objectId') {
    return value instanceof ObjectIdRef ? value.hex : (value as { toHexString(): string }).toHexString().toLowerCase();
  }
  return value as string | number | boolean;
}

/**
 * Compares a stored value with a query value: negative, zero or positive, or undefined when they are of
 * different kinds (MongoDB's type bracketing: `age > 3` never matches a string age).
 * Strings compare by UTF-16 code units; MongoDB compares UTF-8 bytes, which orders the same except for
 * characters above U+FFFF against U+E000–U+FFFF.
 */
export function compareValues(stored: unknown, query: unknown): number | undefined {
  const kind = kindOf(stored);
  const queryKind = kindOf(query);
  // In-memory collections keep ObjectIds as 24-hex strings; they compare with ObjectId query values.
  if (kind === 'string' && queryKind === 'objectId' && OBJECT_ID_TEXT.test(stored as string)) {
    return compareText((stored as string).toLowerCase(), primitive(query, 'objectId'));
  }
  if (kind === 'null' || kind === 'other' || kind !== queryKind) return undefined;
  const a = primitive(stored, kind);
  const b = primitive(query, kind);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function valuesEqual(stored: unknown, query: unknown): boolean {
  return compareValues(stored, query) === 0;
}
