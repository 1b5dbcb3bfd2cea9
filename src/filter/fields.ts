// Field names in a query: refusing unsafe keys, and resolving names to declared fields without an oracle.
import { didYouMean, type FieldProblem } from '../errors.js';
import { FORBIDDEN_SEGMENTS, type CompiledField } from './schema.js';
import { lookup, type CompilerSettings } from './settings.js';

/** The part of a set the compiler reads. */
export type FieldSet = Pick<ReadonlySet<string>, 'has'>;

/** What a name must allow: `any` is for projections. */
export type FieldUse = 'filterable' | 'sortable' | 'any';

const UNSAFE_HINT = /[[\]$]|__proto__|constructor|prototype/;

/** Why a parameter name is refused outright (brackets, `$`, prototype words, length), if it is. */
export function keyProblem(key: string): FieldProblem | undefined {
  // Fast path: a plain name without brackets, `$` or a prototype word needs no closer look.
  if (key.length <= 128 && !UNSAFE_HINT.test(key)) return undefined;
  if (key.includes('[') || key.includes(']')) {
    return {
      field: key.slice(0, 64),
      code: 'filter.forbidden_key',
      message: `The parameter "${key.slice(0, 64)}" uses bracket syntax, which is not accepted.`,
    };
  }
  if (key.length > 128)
    return {
      field: key.slice(0, 64),
      code: 'filter.too_large',
      message: 'A parameter name is longer than 128 characters.',
    };
  for (const segment of key.split('.')) {
    if (segment.startsWith('$') || FORBIDDEN_SEGMENTS.has(segment) || FORBIDDEN_SEGMENTS.has(segment.split('__')[0]!)) {
      return {
        field: key,
        code: 'filter.forbidden_key',
        message: `The parameter "${key}" is not an accepted field name.`,
      };
    }
  }
  return undefined;
}

function visibleNames(settings: CompilerSettings, hidden: FieldSet, want: FieldUse): string[] {
  const names = [settings.idField];
  for (const field of settings.schema.fields.values()) {
    if (hidden.has(field.path)) continue;
    if (want === 'any' || field[want]) names.push(field.path);
  }
  return names;
}

/** The declared field `name` if the caller may use it for `want`; otherwise records an unknown-field problem. */
export function resolveField(
  settings: CompilerSettings,
  problems: FieldProblem[],
  key: string,
  name: string,
  hidden: FieldSet,
  want: FieldUse,
): CompiledField | undefined {
  const field = hidden.has(name) && name !== settings.idField ? undefined : lookup(settings, name);
  if (field && (want === 'any' || field[want])) return field;
  // Hidden fields get exactly this message, and hints only ever name visible fields: no oracle.
  const hint = name.length <= 64 ? didYouMean(name, visibleNames(settings, hidden, want)) : undefined;
  const verb = want === 'sortable' ? 'sort on' : want === 'any' ? 'select' : 'filter on';
  problems.push({
    field: key,
    code: 'filter.unknown_field',
    message: `Cannot ${verb} unknown field "${name.slice(0, 64)}"${hint ? ` (${hint})` : ''}.`,
  });
  return undefined;
}
