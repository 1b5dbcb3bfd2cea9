// The parameters that shape a list rather than filter it: sort, limit, offset, fields and count.
import type { FieldProblem } from '../errors.js';
import type { SortKey } from './ast.js';
import { refusedEncrypted } from './conditions.js';
import { keyProblem, resolveField, type FieldSet } from './fields.js';
import type { CompilerSettings } from './settings.js';

/** Parameters that control the list rather than filter it. */
export const controlKeys = ['sort', 'limit', 'cursor', 'offset', 'fields', 'count'] as const;
export type ControlKey = (typeof controlKeys)[number];
export const controlKeySet: ReadonlySet<string> = new Set(controlKeys);

const INTEGER = /^\d{1,9}$/;

function parseInteger(
  problems: FieldProblem[],
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = INTEGER.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    problems.push({
      field: name,
      code: 'filter.invalid_value',
      message: `The value of "${name}" must be an integer from ${min} to ${max}.`,
    });
    return fallback;
  }
  return value;
}

/** The sort keys, always ending with the id field as tie-breaker. */
export function parseSort(
  settings: CompilerSettings,
  problems: FieldProblem[],
  text: string | undefined,
  hidden: FieldSet,
): SortKey[] {
  const { idField, maxSortKeys } = settings;
  const keys: SortKey[] = [];
  if (text !== undefined && text.length > 0) {
    const parts = text.split(',');
    if (parts.length > maxSortKeys) {
      problems.push({ field: 'sort', code: 'filter.too_large', message: `Sort by at most ${maxSortKeys} fields.` });
      return [{ field: idField, direction: 1 }];
    }
    for (const raw of parts) {
      // `+field` arrives as " field" once `+` is decoded as a space.
      const part = raw.trim();
      const descending = part.startsWith('-');
      const name = descending || part.startsWith('+') ? part.slice(1) : part;
      const bad = keyProblem(name);
      if (bad) {
        problems.push({ ...bad, field: 'sort' });
        continue;
      }
      const field = resolveField(settings, problems, 'sort', name, hidden, 'sortable');
      if (!field || refusedEncrypted(settings, problems, 'sort', field, 'sort')) continue;
      if (keys.some((key) => key.field === name)) {
        problems.push({ field: 'sort', code: 'filter.invalid_value', message: `The sort names "${name}" twice.` });
        continue;
      }
      keys.push({ field: name, direction: descending ? -1 : 1 });
    }
  }
  // The tie-breaker runs the way the last key does, so one index {field: 1, id: 1} serves both `field` and
  // `-field` (MongoDB walks an index forwards or backwards, never half of it each way).
  const last = keys.at(-1);
  if (!keys.some((key) => key.field === idField)) keys.push({ field: idField, direction: last?.direction ?? 1 });
  return keys;
}

/** The projection: the id field first, then each named visible field once. */
export function parseFields(
  settings: CompilerSettings,
  problems: FieldProblem[],
  text: string | undefined,
  hidden: FieldSet,
): string[] | undefined {
  if (text === undefined) return undefined;
  const { idField } = settings;
  const fields = [idField];
  for (const name of text.split(',')) {
    if (name.length === 0 || name === idField) continue;
    const bad = keyProblem(name);
    if (bad) {
      problems.push({ ...bad, field: 'fields' });
      continue;
    }
    if (resolveField(settings, problems, 'fields', name, hidden, 'any') && !fields.includes(name)) fields.push(name);
  }
  return fields;
}

export function parseLimit(settings: CompilerSettings, problems: FieldProblem[], text: string | undefined): number {
  return parseInteger(problems, 'limit', text, settings.defaultLimit, 1, settings.maxLimit);
}

/** The offset, when offset paging is allowed and no cursor is given too. */
export function parseOffset(
  settings: CompilerSettings,
  problems: FieldProblem[],
  control: Partial<Record<ControlKey, string>>,
): number | undefined {
  if (control.offset === undefined) return undefined;
  let offset: number | undefined;
  if (!settings.allowOffset) {
    problems.push({
      field: 'offset',
      code: 'filter.unknown_parameter',
      message: 'Offset paging is not enabled here; use cursor.',
    });
  } else {
    offset = parseInteger(problems, 'offset', control.offset, 0, 0, settings.maxOffset);
  }
  if (control.cursor !== undefined) {
    problems.push({ field: 'offset', code: 'filter.conflict', message: 'Use either cursor or offset, not both.' });
  }
  return offset;
}

export function parseCount(problems: FieldProblem[], text: string | undefined): boolean {
  if (text === undefined) return false;
  if (text === 'true' || text === '1') return true;
  if (text !== 'false' && text !== '0') {
    problems.push({
      field: 'count',
      code: 'filter.invalid_value',
      message: 'The value of "count" must be true or false.',
    });
  }
  return false;
}
