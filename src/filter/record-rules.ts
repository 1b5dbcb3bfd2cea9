// Checks and casts a record against declared field specs (the memory collection's own schema rules).
import type { FieldProblem } from '../errors.js';
import { ObjectIdRef } from './ast.js';
import { castText, typeExpectation } from './cast.js';
import type { CompiledField, CompiledSchema, ScalarType } from './schema.js';

const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

function castValue(type: ScalarType, value: unknown): unknown {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'date':
      if (value instanceof Date) return Number.isFinite(value.getTime()) ? value : undefined;
      return typeof value === 'string' ? castText('date', value) : undefined;
    case 'objectId':
      if (value instanceof ObjectIdRef) return value.hex;
      return typeof value === 'string' && OBJECT_ID.test(value) ? value.toLowerCase() : undefined;
  }
}

function bound(type: ScalarType, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (type === 'date') return value instanceof Date ? value.getTime() : Date.parse(String(value));
  return typeof value === 'number' ? value : undefined;
}

function checkScalar(field: CompiledField, path: string, value: unknown, problems: FieldProblem[]): unknown {
  const cast = castValue(field.type, value);
  if (cast === undefined) {
    problems.push({
      field: path,
      code: 'validation.type',
      message: `"${path}" must be ${typeExpectation[field.type]}.`,
    });
    return undefined;
  }
  const spec = field.spec;
  if (spec.enum && !spec.enum.includes(cast as string | number | boolean)) {
    problems.push({
      field: path,
      code: 'validation.enum',
      message: `"${path}" must be one of ${spec.enum.join(', ')}.`,
    });
  }
  const numeric = cast instanceof Date ? cast.getTime() : typeof cast === 'number' ? cast : undefined;
  const min = bound(field.type, spec.min);
  const max = bound(field.type, spec.max);
  if (numeric !== undefined && min !== undefined && numeric < min) {
    problems.push({ field: path, code: 'validation.min', message: `"${path}" must be at least ${String(spec.min)}.` });
  }
  if (numeric !== undefined && max !== undefined && numeric > max) {
    problems.push({ field: path, code: 'validation.max', message: `"${path}" must be at most ${String(spec.max)}.` });
  }
  if (typeof cast === 'string') {
    if (spec.minLength !== undefined && cast.length < spec.minLength) {
      problems.push({
        field: path,
        code: 'validation.length',
        message: `"${path}" must have at least ${spec.minLength} characters.`,
      });
    }
    if (spec.maxLength !== undefined && cast.length > spec.maxLength) {
      problems.push({
        field: path,
        code: 'validation.length',
        message: `"${path}" must have at most ${spec.maxLength} characters.`,
      });
    }
    if (field.pattern && !field.pattern.test(cast)) {
      problems.push({ field: path, code: 'validation.pattern', message: `"${path}" is not in the expected format.` });
    }
  }
  return cast;
}

/**
 * Walks `record`: every leaf must be a declared field (or `extraPaths`), of its type and within its rules;
 * required fields must be present. Returns a typed copy and every problem found.
 */
export function checkRecord(
  schema: CompiledSchema,
  record: Record<string, unknown>,
  extraPaths: ReadonlySet<string> = new Set(),
): { record: Record<string, unknown>; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const prefixes = new Set<string>();
  for (const path of schema.fields.keys()) {
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
  }

  function walk(input: Record<string, unknown>, prefix: string): Record<string, unknown> {
    const output: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value === undefined) continue;
      const field = schema.fields.get(path);
      if (field) {
        if (value === null) {
          output[key] = null;
        } else if (field.array) {
          if (!Array.isArray(value)) {
            problems.push({
              field: path,
              code: 'validation.type',
              message: `"${path}" must be a list of ${field.type} values.`,
            });
          } else {
            output[key] = value.map((element, i) => checkScalar(field, `${path}.${i}`, element, problems));
          }
        } else {
          output[key] = checkScalar(field, path, value, problems);
        }
      } else if (prefixes.has(path) && value === null) {
        output[key] = null;
      } else if (prefixes.has(path) && typeof value === 'object' && !Array.isArray(value)) {
        output[key] = walk(value as Record<string, unknown>, path);
      } else if (extraPaths.has(path)) {
        output[key] = value;
      } else {
        problems.push({
          field: path,
          code: 'validation.unknown_field',
          message: `"${path}" is not a field of this resource.`,
        });
      }
    }
    return output;
  }

  const output = walk(record, '');
  for (const field of schema.fields.values()) {
    if (!field.spec.required) continue;
    let current: unknown = output;
    for (const segment of field.path.split('.')) {
      current =
        typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    }
    if (current === undefined || current === null || current === '') {
      problems.push({ field: field.path, code: 'validation.required', message: `"${field.path}" is required.` });
    }
  }
  return { record: output, problems };
}
