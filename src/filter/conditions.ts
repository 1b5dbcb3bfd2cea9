// One condition from a field and its text: typed, bounded, and moved to the blind index of an encrypted field.
import type { FieldFilter } from '../auth/principal.js';
import { ValidationError, type FieldProblem } from '../errors.js';
import { and, or, matchAll, type FilterNode, type FilterValue } from './ast.js';
import { castConfigured, castJson, castText, typeExpectation } from './cast.js';
import { keyProblem, resolveField, type FieldSet } from './fields.js';
import { operatorTypes, type OperatorName } from './operators.js';
import type { CompiledField } from './schema.js';
import { lookup, type CompilerSettings } from './settings.js';

/** One text value cast to the field's type, or a problem when it is too long or of the wrong type. */
export function castOne(
  settings: CompilerSettings,
  problems: FieldProblem[],
  key: string,
  field: CompiledField,
  text: string,
): FilterValue | undefined {
  const { maxValueLength } = settings;
  if (text.length > maxValueLength) {
    problems.push({
      field: key,
      code: 'filter.too_large',
      message: `The value of "${key}" is longer than ${maxValueLength} characters.`,
    });
    return undefined;
  }
  const value = castText(field.type, text);
  if (value === undefined) {
    problems.push({
      field: key,
      code: 'filter.invalid_value',
      message: `The value of "${key}" must be ${typeExpectation[field.type]}.`,
    });
  }
  return value;
}

function castList(
  settings: CompilerSettings,
  problems: FieldProblem[],
  key: string,
  field: CompiledField,
  text: string,
  exactLength?: number,
): FilterValue[] | undefined {
  const { maxValueLength, maxListLength } = settings;
  if (text.length > maxValueLength * Math.max(2, maxListLength)) {
    problems.push({ field: key, code: 'filter.too_large', message: `The value of "${key}" is too long.` });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const shape = exactLength === 2 ? 'a JSON list of two values, e.g. [1, 5]' : 'a JSON list, e.g. ["a", "b"]';
  if (!Array.isArray(parsed) || (exactLength !== undefined && parsed.length !== exactLength) || parsed.length === 0) {
    problems.push({ field: key, code: 'filter.invalid_value', message: `The value of "${key}" must be ${shape}.` });
    return undefined;
  }
  if (parsed.length > maxListLength) {
    problems.push({
      field: key,
      code: 'filter.too_large',
      message: `The list in "${key}" has more than ${maxListLength} values.`,
    });
    return undefined;
  }
  const values: FilterValue[] = [];
  for (const element of parsed) {
    if (typeof element === 'string' && element.length > maxValueLength) {
      problems.push({
        field: key,
        code: 'filter.too_large',
        message: `A value in "${key}" is longer than ${maxValueLength} characters.`,
      });
      return undefined;
    }
    const value = castJson(field.type, element);
    if (value === undefined) {
      problems.push({
        field: key,
        code: 'filter.invalid_value',
        message: `Every value in "${key}" must be ${typeExpectation[field.type]}.`,
      });
      return undefined;
    }
    values.push(value);
  }
  return values;
}

/**
 * True, with a problem recorded, when `op` cannot run on the encrypted field: only equality and `in` on a
 * searchable one can, through its blind index.
 */
export function refusedEncrypted(
  settings: CompilerSettings,
  problems: FieldProblem[],
  key: string,
  field: CompiledField,
  op: OperatorName | 'sort',
): boolean {
  const { blindIndex } = settings;
  if (!blindIndex || !blindIndex.isEncrypted(field.path)) return false;
  if ((op === 'eq' || op === 'in') && blindIndex.isSearchable(field.path)) return false;
  problems.push({
    field: key,
    code: 'filter.encrypted_field',
    message: blindIndex.isSearchable(field.path)
      ? `The field "${field.path}" is encrypted and only supports equality and "in".`
      : `The field "${field.path}" is encrypted and cannot be searched.`,
  });
  return true;
}

/** What a compile accepts on a field: the operators of a filterable one, whether it sorts, whether it is encrypted. */
export interface FieldCapabilities {
  field: CompiledField;
  operators: readonly OperatorName[];
  sortable: boolean;
  encrypted: boolean;
}

const allOperators = Object.keys(operatorTypes) as OperatorName[];

/**
 * The capabilities of a declared field (or the id field), by the very checks `buildCondition` and the sort
 * refuse with: the operator's types, then the field's encryption. `undefined` for an unknown field.
 */
export function capabilities(settings: CompilerSettings, path: string): FieldCapabilities | undefined {
  const field = lookup(settings, path);
  if (!field) return undefined;
  const ignored: FieldProblem[] = [];
  const operators = !field.filterable
    ? []
    : allOperators.filter(
        (op) => operatorTypes[op].includes(field.type) && !refusedEncrypted(settings, ignored, path, field, op),
      );
  return {
    field,
    operators,
    sortable: field.sortable && !refusedEncrypted(settings, ignored, path, field, 'sort'),
    encrypted: settings.blindIndex?.isEncrypted(field.path) ?? false,
  };
}

/** Equality and `in` on an encrypted field become the same test on its blind index. */
export function indexed(settings: CompilerSettings, field: CompiledField, node: FilterNode): FilterNode {
  const { blindIndex } = settings;
  if (!blindIndex || node.kind !== 'cond' || !blindIndex.isEncrypted(field.path)) return node;
  const target = blindIndex.indexField(field.path);
  if (node.op === 'eq')
    return { kind: 'cond', op: 'eq', field: target, value: blindIndex.index(field.path, String(node.value)) };
  if (node.op === 'in') {
    return {
      kind: 'cond',
      op: 'in',
      field: target,
      values: node.values.map((v) => blindIndex.index(field.path, String(v))),
    };
  }
  return node;
}

/** The condition `field op text`, or undefined with the problems recorded. */
export function buildCondition(
  settings: CompilerSettings,
  problems: FieldProblem[],
  key: string,
  field: CompiledField,
  op: OperatorName,
  text: string,
): FilterNode | undefined {
  if (!operatorTypes[op].includes(field.type)) {
    problems.push({
      field: key,
      code: 'filter.unsupported_operator',
      message: `The operator "${op}" does not apply to the ${field.type} field "${field.path}".`,
    });
    return undefined;
  }
  if (refusedEncrypted(settings, problems, key, field, op)) return undefined;
  switch (op) {
    case 'in':
    case 'notin': {
      const values = castList(settings, problems, key, field, text);
      return values && indexed(settings, field, { kind: 'cond', op, field: field.path, values });
    }
    case 'between': {
      const values = castList(settings, problems, key, field, text, 2);
      return values && { kind: 'cond', op, field: field.path, low: values[0]!, high: values[1]!, array: field.array };
    }
    case 'exists': {
      if (text !== 'true' && text !== 'false') {
        problems.push({
          field: key,
          code: 'filter.invalid_value',
          message: `The value of "${key}" must be true or false.`,
        });
        return undefined;
      }
      return { kind: 'cond', op, field: field.path, value: text === 'true' };
    }
    default: {
      const value = castOne(settings, problems, key, field, text);
      return value === undefined ? undefined : indexed(settings, field, { kind: 'cond', op, field: field.path, value });
    }
  }
}

/** Permission field filters: an OR of ANDs of equality (or `in`, for a list) with configured values. */
export function permissionFilter(settings: CompilerSettings, filters: readonly FieldFilter[] | undefined): FilterNode {
  if (!filters || filters.length === 0) return matchAll;
  const branches: FilterNode[] = [];
  for (const filter of filters) {
    const parts: FilterNode[] = [];
    for (const [path, raw] of Object.entries(filter)) {
      const field = lookup(settings, path);
      const cast = (value: unknown): FilterValue => {
        if (!field) return value as FilterValue;
        return castConfigured(field.type, value) ?? (value as FilterValue);
      };
      let node: FilterNode = Array.isArray(raw)
        ? { kind: 'cond', op: 'in', field: path, values: raw.map(cast) }
        : { kind: 'cond', op: 'eq', field: path, value: cast(raw) };
      if (field) node = indexed(settings, field, node);
      parts.push(node);
    }
    branches.push(and(...parts));
  }
  return or(...branches);
}

/** One condition from a field name and text value, or a ValidationError naming the first problem. */
export function singleCondition(
  settings: CompilerSettings,
  field: string,
  op: OperatorName,
  text: string,
  hiddenFields: FieldSet,
): FilterNode {
  const problems: FieldProblem[] = [];
  const resolved = resolveField(settings, problems, field, field, hiddenFields, 'filterable');
  const node = resolved && buildCondition(settings, problems, field, resolved, op, text);
  if (!node)
    throw new ValidationError(problems[0]?.message ?? 'Invalid filter.', {
      code: problems[0]?.code ?? 'filter.invalid',
      errors: problems,
    });
  return node;
}

/** `field in values` from JSON values, or a ValidationError naming each bad value (at most 20). */
export function valuesCondition(
  settings: CompilerSettings,
  field: string,
  values: readonly unknown[],
  hiddenFields: FieldSet,
): FilterNode {
  const { maxValueLength } = settings;
  const problems: FieldProblem[] = [];
  const bad = keyProblem(field);
  const resolved = bad
    ? (problems.push(bad), undefined)
    : resolveField(settings, problems, field, field, hiddenFields, 'filterable');
  if (resolved && !refusedEncrypted(settings, problems, field, resolved, 'in')) {
    const cast: FilterValue[] = [];
    values.forEach((element, index) => {
      const value =
        typeof element === 'string' && element.length > maxValueLength ? undefined : castJson(resolved.type, element);
      if (value === undefined) {
        problems.push({
          field: `${index}`,
          code: 'filter.invalid_value',
          message: `Value ${index} must be ${typeExpectation[resolved.type]} (at most ${maxValueLength} characters).`,
        });
      } else cast.push(value);
    });
    if (problems.length === 0)
      return indexed(settings, resolved, { kind: 'cond', op: 'in', field: resolved.path, values: cast });
  }
  throw new ValidationError(problems[0]?.message ?? 'Invalid search.', {
    code: problems[0]?.code ?? 'filter.invalid',
    errors: problems.slice(0, 20),
  });
}
