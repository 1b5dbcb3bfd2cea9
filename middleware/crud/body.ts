// Request bodies: shape and key safety, server-managed fields, merge-patch, scoutr field validators.
import { ValidationError, type FieldProblem } from '../../src/errors.js';
import { FORBIDDEN_SEGMENTS } from '../../src/filter/schema.js';
import type { FieldValidator } from './options.js';

const MAX_DEPTH = 16;

/** Every key at every depth: no `$` operators, no dots, no prototype names. */
export function unsafeKeys(value: unknown, prefix = '', depth = 0, problems: FieldProblem[] = []): FieldProblem[] {
  // Containers count as levels (the body is level 1, at depth 0); scalars at any level are fine.
  if (depth >= MAX_DEPTH && typeof value === 'object' && value !== null) {
    problems.push({
      field: prefix || '(body)',
      code: 'validation.too_deep',
      message: `The body nests deeper than ${MAX_DEPTH} levels.`,
    });
    return problems;
  }
  if (Array.isArray(value)) {
    value.forEach((element, index) => unsafeKeys(element, `${prefix}.${index}`, depth + 1, problems));
    return problems;
  }
  if (typeof value !== 'object' || value === null) return problems;
  for (const key of Object.keys(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (
      key.startsWith('$') ||
      key.includes('.') ||
      FORBIDDEN_SEGMENTS.has(key) ||
      key.length === 0 ||
      key.length > 128
    ) {
      problems.push({
        field: path.slice(0, 128),
        code: 'validation.forbidden_key',
        message: `"${path.slice(0, 128)}" is not an accepted field name.`,
      });
      continue;
    }
    unsafeKeys((value as Record<string, unknown>)[key], path, depth + 1, problems);
  }
  return problems;
}

/** Leaf paths of a body (objects are walked, arrays and scalars are leaves). */
export function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (
      typeof child === 'object' &&
      child !== null &&
      !Array.isArray(child) &&
      !(child instanceof Date) &&
      Object.keys(child).length > 0
    ) {
      paths.push(...leafPaths(child as Record<string, unknown>, path));
    } else {
      paths.push(path);
    }
  }
  return paths;
}

/** True when `path` is `field` or lies inside it (`address.city` is inside `address`). */
export function covers(field: string, path: string): boolean {
  return path === field || path.startsWith(`${field}.`) || field.startsWith(`${path}.`);
}

/** RFC 7386 merge patch: objects merge recursively, `null` removes a field, anything else replaces. */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (typeof value === 'object' && !Array.isArray(value)) {
      const current = result[key];
      const base =
        typeof current === 'object' && current !== null && !Array.isArray(current) && !(current instanceof Date)
          ? (current as Record<string, unknown>)
          : {};
      result[key] = mergePatch(base, value as Record<string, unknown>);
    } else result[key] = value;
  }
  return result;
}

function readField(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Runs scoutr validators on `record`, the record as it will be stored (a create's body, or the merge of the
 * stored record and the update), so that a rule spanning fields holds whichever of them a request touches.
 * Every validated field is required; `previous` is the stored record on updates. A validator that throws
 * counts as a failure, never as a 500.
 */
export async function runValidators(
  validators: Record<string, FieldValidator> | undefined,
  record: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  if (!validators) return problems;
  for (const [field, validate] of Object.entries(validators)) {
    const value = readField(record, field);
    if (value === undefined) {
      problems.push({ field, code: 'validation.required', message: `"${field}" is required.` });
      continue;
    }
    let outcome: Awaited<ReturnType<FieldValidator>>;
    try {
      outcome = await validate(value, record, previous);
    } catch {
      outcome = false;
    }
    const passed = typeof outcome === 'object' && outcome !== null ? Boolean(outcome.result) : Boolean(outcome);
    if (!passed) {
      const message =
        typeof outcome === 'object' && outcome !== null && outcome.message
          ? outcome.message
          : `"${field}" is not valid.`;
      problems.push({ field, code: 'validation.field', message });
    }
  }
  return problems;
}

export function throwProblems(problems: FieldProblem[]): void {
  if (problems.length === 0) return;
  throw new ValidationError(
    problems.length === 1 ? problems[0]!.message : `The request has ${problems.length} problems; see errors.`,
    { code: 'validation.fields', errors: problems },
  );
}
