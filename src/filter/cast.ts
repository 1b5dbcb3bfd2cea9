// Turns querystring text into typed values by the field's declared type; failures return undefined.
import { ObjectIdRef, type FilterValue } from './ast.js';
import type { ScalarType } from './schema.js';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

/** What a value of each type looks like, for error messages. */
export const typeExpectation: Record<ScalarType, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  date: 'an ISO 8601 date such as 2024-01-31 or 2024-01-31T12:00:00Z',
  objectId: 'a 24-character hexadecimal ObjectId',
};

/** Casts querystring text to `type`; undefined when it is not a valid value of that type. */
export function castText(type: ScalarType, text: string): FilterValue | undefined {
  switch (type) {
    case 'string':
      // A lone surrogate (`["\ud800"]` in a JSON list) is no text a store or a regex can compare.
      return text.isWellFormed() ? text : undefined;
    case 'number': {
      if (text.length > 32 || !NUMBER.test(text)) return undefined;
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'date': {
      if (!DATE.test(text) || !dayExists(text)) return undefined;
      const time = Date.parse(text);
      return Number.isFinite(time) ? new Date(time) : undefined;
    }
    case 'objectId':
      return OBJECT_ID.test(text) ? new ObjectIdRef(text) : undefined;
  }
}

/** Whether the `YYYY-MM-DD` that `text` starts with is a day of the calendar: Date.parse rolls 2024-02-30 over to March. */
function dayExists(text: string): boolean {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Casts one element of a JSON list (`in`, `notin`, `between`). */
export function castJson(type: ScalarType, element: unknown): FilterValue | undefined {
  if (typeof element === 'string') return castText(type, element);
  if (typeof element === 'number') {
    if (type === 'number') return Number.isFinite(element) ? element : undefined;
    if (type === 'string') return String(element);
    return undefined;
  }
  if (typeof element === 'boolean') {
    if (type === 'boolean') return element;
    if (type === 'string') return String(element);
  }
  return undefined;
}

/** Casts a configured value (field filters from permissions) of any JSON type. */
export function castConfigured(type: ScalarType, value: unknown): FilterValue | undefined {
  if (value instanceof Date) return type === 'date' ? value : undefined;
  return castJson(type, value);
}
