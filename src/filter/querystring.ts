// Splits a raw querystring (or an already parsed query object) into key/value pairs, refusing nested shapes.
import type { FieldProblem } from '../errors.js';

export type QueryInput = string | Readonly<Record<string, unknown>>;

export interface QueryPair {
  key: string;
  value: string;
}

function decode(text: string): string | undefined {
  if (text.indexOf('%') === -1 && text.indexOf('+') === -1) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Reads `a=1&b=2` itself rather than trusting the app's query parser: with `qs` extended mode `a[$ne]=1`
 * would already be an object. An object input (req.query) is accepted when every value is a string or a
 * list of strings; anything nested is refused naming its key.
 */
export function readPairs(input: QueryInput, maxLength: number, problems: FieldProblem[]): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (typeof input === 'string') {
    const text = input.charCodeAt(0) === 63 /* ? */ ? input.slice(1) : input;
    if (text.length > maxLength) {
      problems.push({
        field: 'querystring',
        code: 'filter.too_large',
        message: `The querystring is longer than ${maxLength} characters.`,
      });
      return pairs;
    }
    if (text.length === 0) return pairs;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('&', start);
      if (end === -1) end = text.length;
      if (end > start) {
        const part = text.slice(start, end);
        const equals = part.indexOf('=');
        const rawKey = equals === -1 ? part : part.slice(0, equals);
        const rawValue = equals === -1 ? '' : part.slice(equals + 1);
        const key = decode(rawKey);
        const value = decode(rawValue);
        if (key === undefined || value === undefined) {
          problems.push({
            field: key ?? rawKey.slice(0, 64),
            code: 'filter.bad_encoding',
            message: `The parameter "${(key ?? rawKey).slice(0, 64)}" is not correctly percent-encoded.`,
          });
        } else if (key.length > 0) {
          pairs.push({ key, value });
        }
      }
      start = end + 1;
    }
    return pairs;
  }
  if (typeof input !== 'object' || input === null) return pairs;
  for (const key of Object.keys(input)) {
    const value = input[key];
    if (typeof value === 'string') pairs.push({ key, value });
    else if (Array.isArray(value) && value.every((element) => typeof element === 'string')) {
      for (const element of value as string[]) pairs.push({ key, value: element });
    } else {
      problems.push({
        field: key,
        code: 'filter.forbidden_key',
        message: `The parameter "${key}" must be a plain value; nested objects (bracket syntax) are not accepted.`,
      });
    }
  }
  return pairs;
}
