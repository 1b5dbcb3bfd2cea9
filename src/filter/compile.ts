// Compiles a list querystring into the typed filter, sort, page and projection, with every check up front.
import type { FieldFilter } from '../auth/principal.js';
import { didYouMean, ValidationError, type FieldProblem } from '../errors.js';
import { and, matchAll, type FilterNode } from './ast.js';
import { bindingOf, CompiledQuery, type CompiledListQuery } from './compiled-query.js';
import {
  buildCondition,
  capabilities,
  castOne,
  indexed,
  permissionFilter,
  refusedEncrypted,
  singleCondition,
  valuesCondition,
  type FieldCapabilities,
} from './conditions.js';
import {
  controlKeySet,
  parseCount,
  parseFields,
  parseLimit,
  parseOffset,
  parseSort,
  type ControlKey,
} from './controls.js';
import { keysetAfter } from './cursor.js';
import { keyProblem, resolveField, type FieldSet } from './fields.js';
import { operatorAliases, type OperatorName } from './operators.js';
import { readPairs, type QueryInput } from './querystring.js';
import type { CompiledField, CompiledSchema, SchemaInput } from './schema.js';
import { lookup, resolveSettings, type CompilerSettings, type QueryCompilerOptions } from './settings.js';

export type { CompiledListQuery } from './compiled-query.js';
export { controlKeys } from './controls.js';
export type { QueryCompilerOptions } from './settings.js';
export type { FieldCapabilities } from './conditions.js';

export interface CompileContext {
  /** Path filters (`/:searchKey/:searchValue` or static ones); they take precedence over the querystring. */
  pathFilters?: Readonly<Record<string, string>>;
  /** Fields the caller may not see: refused exactly like unknown fields. */
  hiddenFields?: ReadonlySet<string>;
  /**
   * Fields the caller sees only masked: refused in filters and sorts exactly like unknown fields (a filter
   * on them would answer questions about the clear value), accepted in `fields`.
   */
  maskedFields?: ReadonlySet<string>;
  /** Permission filters, OR'd, then AND'd with the query. Empty or absent: no restriction. */
  filters?: readonly FieldFilter[];
  /** A further condition AND'd in (e.g. "not in the trash"). */
  where?: FilterNode;
  /**
   * Who asks and what they may see, as an opaque string (e.g. the principal id and a fingerprint of the
   * fields visible to it): a cursor made for one view is refused under another. Default `''`.
   */
  view?: string;
}

export interface QueryCompiler {
  readonly schema: CompiledSchema;
  readonly idField: string;
  compile(input: QueryInput, context?: CompileContext): CompiledListQuery;
  /** Compiles permission field filters alone (OR of ANDs), for get/update/delete. */
  permissionFilter(filters: readonly FieldFilter[] | undefined): FilterNode;
  /** Compiles one condition from a typed field and text value (path filters, unique values, search). */
  condition(field: string, op: OperatorName, text: string, hiddenFields?: ReadonlySet<string>): FilterNode;
  /** `field in values` from JSON values of any number (callers bound and chunk them), typed by the schema. */
  valuesCondition(field: string, values: readonly unknown[], hiddenFields?: ReadonlySet<string>): FilterNode;
  /** What `compile` accepts on a field (the id field included); `undefined` for an unknown field. */
  capabilities(path: string): FieldCapabilities | undefined;
  /** The bounds `compile` enforces. */
  readonly limits: QueryLimits;
}

/** The bounds of a compiler's queries. */
export type QueryLimits = Pick<
  CompilerSettings,
  | 'defaultLimit'
  | 'maxLimit'
  | 'allowOffset'
  | 'maxOffset'
  | 'maxConditions'
  | 'maxListLength'
  | 'maxValueLength'
  | 'maxSortKeys'
>;

const noHidden: ReadonlySet<string> = new Set();

function invalid(problems: FieldProblem[]): ValidationError {
  return new ValidationError(
    problems.length === 1
      ? problems[0]!.message
      : `The query has ${problems.length} problems: ${problems.map((p) => p.message).join(' ')}`,
    { code: problems[0]!.code ?? 'filter.invalid', errors: problems },
  );
}

/** Validates options and compiles the schema once; `compile()` then runs per request. */
export function createQueryCompiler(options: QueryCompilerOptions): QueryCompiler {
  const settings = resolveSettings(options);
  return {
    schema: settings.schema,
    idField: settings.idField,
    compile: (input, context) => compileQuery(settings, input, context),
    permissionFilter: (filters) => permissionFilter(settings, filters),
    condition: (field, op, text, hiddenFields = noHidden) => singleCondition(settings, field, op, text, hiddenFields),
    valuesCondition: (field, values, hiddenFields = noHidden) => valuesCondition(settings, field, values, hiddenFields),
    capabilities: (path) => capabilities(settings, path),
    limits: {
      defaultLimit: settings.defaultLimit,
      maxLimit: settings.maxLimit,
      allowOffset: settings.allowOffset,
      maxOffset: settings.maxOffset,
      maxConditions: settings.maxConditions,
      maxListLength: settings.maxListLength,
      maxValueLength: settings.maxValueLength,
      maxSortKeys: settings.maxSortKeys,
    },
  };
}

/** The conditions of the querystring's filter parameters and of the path filters. */
function queryConditions(
  settings: CompilerSettings,
  problems: FieldProblem[],
  pairs: readonly { key: string; value: string }[],
  control: Partial<Record<ControlKey, string>>,
  refused: FieldSet,
  pathFilters: Readonly<Record<string, string>> | undefined,
): FilterNode[] {
  const { maxConditions, maxListLength } = settings;
  const equalities = new Map<string, { field: CompiledField; key: string; values: string[] }>();
  const conditions: FilterNode[] = [];
  let conditionCount = 0;

  for (const { key, value } of pairs) {
    if (controlKeySet.has(key)) {
      const name = key as ControlKey;
      if (control[name] !== undefined) {
        problems.push({
          field: key,
          code: 'filter.repeated_parameter',
          message: `The parameter "${key}" is given more than once.`,
        });
      }
      control[name] = value;
      continue;
    }
    const bad = keyProblem(key);
    if (bad) {
      problems.push(bad);
      continue;
    }
    if (++conditionCount > maxConditions) {
      if (conditionCount === maxConditions + 1) {
        problems.push({
          field: key,
          code: 'filter.too_large',
          message: `A query may have at most ${maxConditions} filter parameters.`,
        });
      }
      continue;
    }
    // `field__op`: the last "__" splits, unless the whole key is a declared field.
    const at = key.lastIndexOf('__');
    let name = key;
    let op: OperatorName | undefined = 'eq';
    let opText = '';
    if (at > 0) {
      opText = key.slice(at + 2);
      op = operatorAliases[opText];
      // An open schema (the CLI without --schema) allows any plain name, so only a declared field may keep
      // "__" in its name: otherwise `status__frobnicate` would pass as a field instead of a mistyped operator.
      if (op === undefined && (settings.schema.open ? settings.schema.fields.has(key) : lookup(settings, key))) {
        op = 'eq';
      } else name = key.slice(0, at);
    }
    if (op === undefined) {
      const hint = didYouMean(opText, Object.keys(operatorAliases));
      problems.push({
        field: key,
        code: 'filter.unknown_operator',
        message: `Unknown operator "${opText.slice(0, 32)}" in "${key}"${hint ? ` (${hint})` : ''}.`,
      });
      continue;
    }
    const field = resolveField(settings, problems, key, name, refused, 'filterable');
    if (!field) continue;
    if (op === 'eq' && pathFilters && Object.hasOwn(pathFilters, name)) continue;
    if (op === 'eq') {
      // Repeated `field=a&field=b` means either value (scoutr's multi-value parameters).
      const entry = equalities.get(name);
      if (entry) entry.values.push(value);
      else equalities.set(name, { field, key, values: [value] });
      continue;
    }
    const node = buildCondition(settings, problems, key, field, op, value);
    if (node) conditions.push(node);
  }

  for (const { field, key, values } of equalities.values()) {
    if (values.length === 1) {
      const node = buildCondition(settings, problems, key, field, 'eq', values[0]!);
      if (node) conditions.push(node);
      continue;
    }
    if (values.length > maxListLength) {
      problems.push({
        field: key,
        code: 'filter.too_large',
        message: `"${key}" is repeated more than ${maxListLength} times.`,
      });
      continue;
    }
    if (refusedEncrypted(settings, problems, key, field, 'in')) continue;
    const cast = [];
    for (const text of values) {
      const value = castOne(settings, problems, key, field, text);
      if (value !== undefined) cast.push(value);
    }
    if (cast.length === values.length)
      conditions.push(indexed(settings, field, { kind: 'cond', op: 'in', field: field.path, values: cast }));
  }

  if (pathFilters) {
    for (const [name, text] of Object.entries(pathFilters)) {
      const bad = keyProblem(name);
      if (bad) {
        problems.push(bad);
        continue;
      }
      const field = resolveField(settings, problems, name, name, refused, 'filterable');
      const node = field && buildCondition(settings, problems, name, field, 'eq', text);
      if (node) conditions.push(node);
    }
  }
  return conditions;
}

function compileQuery(settings: CompilerSettings, input: QueryInput, context: CompileContext = {}): CompiledListQuery {
  const { codec, resource } = settings;
  const problems: FieldProblem[] = [];
  const hidden = context.hiddenFields ?? noHidden;
  const masked = context.maskedFields;
  // Filters and sorts refuse masked fields too; `fields` may still name them (their values come masked).
  const refused: FieldSet =
    masked && masked.size > 0 ? { has: (name) => hidden.has(name) || masked.has(name) } : hidden;
  const pairs = readPairs(input, settings.maxQueryLength, problems);
  const control: Partial<Record<ControlKey, string>> = {};
  const conditions = queryConditions(settings, problems, pairs, control, refused, context.pathFilters);
  const sortKeys = parseSort(settings, problems, control.sort, refused);
  const limit = parseLimit(settings, problems, control.limit);
  const offset = parseOffset(settings, problems, control);
  const projection = parseFields(settings, problems, control.fields, hidden);
  const count = parseCount(problems, control.count);
  if (problems.length > 0) throw invalid(problems);

  const scope = context.filters && context.filters.length > 0 ? permissionFilter(settings, context.filters) : matchAll;
  const where = and(and(...conditions), scope, context.where ?? matchAll);
  const view = context.view ?? '';
  let page = where;
  let binding: string | undefined;
  if (control.cursor !== undefined) {
    binding = bindingOf(resource, sortKeys, view, where);
    const types = sortKeys.map((key) => lookup(settings, key.field)!.type);
    const values = codec.decode(control.cursor, binding, types);
    if (!values) {
      throw invalid([
        {
          field: 'cursor',
          code: 'filter.invalid_cursor',
          message: 'The cursor is invalid, altered, or belongs to a different query; start again without it.',
        },
      ]);
    }
    page = and(where, keysetAfter(sortKeys, values));
  }
  return new CompiledQuery(
    where,
    page,
    sortKeys,
    limit,
    count,
    control.cursor,
    offset,
    projection,
    codec,
    resource,
    view,
    binding,
  );
}

const compilers = new WeakMap<object, { schema: unknown; compiler: QueryCompiler }>();

/**
 * One-call form: compiles `input` against `schema`, caching the compiler per schema object (or per options
 * object, when given) so repeated calls stay cheap. Used by the audit list route and the CLI.
 */
export function compileListQuery(
  input: QueryInput,
  schema: SchemaInput | CompiledSchema,
  options: Omit<QueryCompilerOptions, 'schema'> = {},
  context: CompileContext = {},
): CompiledListQuery {
  const cacheKey = Object.keys(options).length === 0 ? schema : options;
  let cached = compilers.get(cacheKey);
  if (!cached || cached.schema !== schema) {
    cached = { schema, compiler: createQueryCompiler({ ...options, schema }) };
    compilers.set(cacheKey, cached);
  }
  return cached.compiler.compile(input, context);
}
