// Compiles a list querystring into the typed filter, sort, page and projection, with every check up front.
import type { FieldFilter } from '../auth/principal.js';
import { didYouMean, ValidationError, type FieldProblem } from '../errors.js';
import type { BlindIndexer } from '../pii/blind-index.js';
import { and, or, matchAll, type FilterNode, type FilterValue, type SortKey } from './ast.js';
import { castConfigured, castJson, castText, typeExpectation } from './cast.js';
import { createCursorCodec, keysetAfter, type CursorCodec } from './cursor.js';
import { readPath, toPredicate, type Predicate } from './matcher.js';
import { toMongoFilter, toMongoSort, type MongoFilter } from './mongo.js';
import { operatorAliases, operatorTypes, type OperatorName } from './operators.js';
import { readPairs, type QueryInput } from './querystring.js';
import type { ParsedListQuery } from './query.js';
import {
  compileSchema,
  FORBIDDEN_SEGMENTS,
  type CompiledField,
  type CompiledSchema,
  type SchemaInput,
} from './schema.js';

export interface QueryCompilerOptions {
  /** The resource's fields; only declared fields can be filtered, sorted or projected. */
  schema: SchemaInput | CompiledSchema;
  /** Public id field: always filterable and sortable, the tie-breaker of every sort. Default `id`. */
  idField?: string;
  /** Type of the id field when the schema does not declare it. Default `string`. */
  idType?: 'string' | 'objectId';
  /** Page size without `limit`. Default 20. */
  defaultLimit?: number;
  /** Largest accepted `limit`. Default 100. */
  maxLimit?: number;
  /** Accept `offset` paging. Default true. */
  allowOffset?: boolean;
  /** Largest accepted `offset`. Default 10 000. */
  maxOffset?: number;
  /** Most filter parameters in one query. Default 20. */
  maxConditions?: number;
  /** Most elements in an `in` / `notin` list. Default 100. */
  maxListLength?: number;
  /** Longest filter value, in characters. Default 256. */
  maxValueLength?: number;
  /** Longest querystring, in characters. Default 4096. */
  maxQueryLength?: number;
  /** Most sort keys. Default 4. */
  maxSortKeys?: number;
  /**
   * Secret (at least 32 bytes) the cursors' encryption key is derived from; the same on every process behind
   * one load balancer. Default: random per process, so cursors work only in the process that made them.
   */
  cursorSecret?: string | Buffer;
  /** Blind indexes of encrypted fields: equality and `in` compile to the index field. */
  blindIndex?: BlindIndexer;
  /** Binds cursors to this resource so one list's cursor is refused by another. Default `''`. */
  resource?: string;
}

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

export interface CompiledListQuery extends ParsedListQuery {
  /** Everything that selects records: query, path and permission filters (no cursor). */
  where: FilterNode;
  /** `where` plus the cursor's keyset condition: what this page reads. */
  page: FilterNode;
  /** The sort, ending with the id tie-breaker. */
  sortKeys: SortKey[];
  /** True when the caller asked for `count=true`. */
  count: boolean;
  /** The cursor that continues after `last` (the last item of this page, unprojected). */
  nextCursor(last: Record<string, unknown>): string;
}

/** Parameters that control the list rather than filter it. */
export const controlKeys = ['sort', 'limit', 'cursor', 'offset', 'fields', 'count'] as const;
const controlKeySet: ReadonlySet<string> = new Set(controlKeys);

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
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer`);
  }
  return value;
}

/** The part of a set the compiler reads. */
type FieldSet = Pick<ReadonlySet<string>, 'has'>;

const INTEGER = /^\d{1,9}$/;
const UNSAFE_HINT = /[[\]$]|__proto__|constructor|prototype/;

function invalid(problems: FieldProblem[]): ValidationError {
  return new ValidationError(
    problems.length === 1
      ? problems[0]!.message
      : `The query has ${problems.length} problems: ${problems.map((p) => p.message).join(' ')}`,
    { code: problems[0]!.code ?? 'filter.invalid', errors: problems },
  );
}

/** What a cursor is bound to: the resource, the sort, the caller's view and every condition of the query. */
function bindingOf(resource: string, sortKeys: readonly SortKey[], view: string, where: FilterNode): string {
  return JSON.stringify([resource, sortKeys, view, where]);
}

/** The compiled query; the MongoDB filter and the predicate are built on first use. */
class CompiledQuery implements CompiledListQuery {
  readonly where: FilterNode;
  readonly page: FilterNode;
  readonly sortKeys: SortKey[];
  readonly limit: number;
  readonly count: boolean;
  readonly cursor?: string;
  readonly offset?: number;
  readonly projection?: string[];
  readonly #codec: CursorCodec;
  readonly #resource: string;
  readonly #view: string;
  #binding: string | undefined;
  #filter: MongoFilter | undefined;
  #sort: Record<string, 1 | -1> | undefined;
  #predicate: Predicate | undefined;

  constructor(
    where: FilterNode,
    page: FilterNode,
    sortKeys: SortKey[],
    limit: number,
    count: boolean,
    cursor: string | undefined,
    offset: number | undefined,
    projection: string[] | undefined,
    codec: CursorCodec,
    resource: string,
    view: string,
    binding: string | undefined,
  ) {
    this.where = where;
    this.page = page;
    this.sortKeys = sortKeys;
    this.limit = limit;
    this.count = count;
    if (cursor !== undefined) this.cursor = cursor;
    if (offset !== undefined) this.offset = offset;
    if (projection !== undefined) this.projection = projection;
    this.#codec = codec;
    this.#resource = resource;
    this.#view = view;
    this.#binding = binding;
  }

  get filter(): MongoFilter {
    this.#filter ??= toMongoFilter(this.page);
    return this.#filter;
  }

  get sort(): Record<string, 1 | -1> {
    this.#sort ??= toMongoSort(this.sortKeys);
    return this.#sort;
  }

  matches(record: Record<string, unknown>): boolean {
    this.#predicate ??= toPredicate(this.page);
    return this.#predicate(record);
  }

  nextCursor(last: Record<string, unknown>): string {
    const values = this.sortKeys.map((key) => {
      const value = readPath(last, key.field.split('.'));
      return typeof value === 'symbol' ? null : value;
    });
    this.#binding ??= bindingOf(this.#resource, this.sortKeys, this.#view, this.where);
    return this.#codec.encode(values, this.#binding);
  }

  toJSON(): Record<string, unknown> {
    return {
      filter: this.filter,
      sort: this.sort,
      limit: this.limit,
      offset: this.offset,
      projection: this.projection,
    };
  }
}

/** Validates options and compiles the schema once; `compile()` then runs per request. */
export function createQueryCompiler(options: QueryCompilerOptions): QueryCompiler {
  const schema = compileSchema(options.schema);
  const idField = options.idField ?? 'id';
  const idSpec: CompiledField = schema.fields.get(idField) ?? {
    path: idField,
    type: options.idType ?? 'string',
    array: false,
    filterable: true,
    sortable: true,
    spec: { type: options.idType ?? 'string' },
  };
  const defaultLimit = positiveInteger('defaultLimit', options.defaultLimit, 20);
  const maxLimit = positiveInteger('maxLimit', options.maxLimit, 100);
  const allowOffset = options.allowOffset ?? true;
  const maxOffset = positiveInteger('maxOffset', options.maxOffset, 10_000);
  const maxConditions = positiveInteger('maxConditions', options.maxConditions, 20);
  const maxListLength = positiveInteger('maxListLength', options.maxListLength, 100);
  const maxValueLength = positiveInteger('maxValueLength', options.maxValueLength, 256);
  const maxQueryLength = positiveInteger('maxQueryLength', options.maxQueryLength, 4096);
  const maxSortKeys = positiveInteger('maxSortKeys', options.maxSortKeys, 4);
  if (defaultLimit < 1 || defaultLimit > maxLimit) throw new TypeError('defaultLimit must be between 1 and maxLimit');
  const blindIndex = options.blindIndex;
  const codec: CursorCodec = createCursorCodec(options.cursorSecret);
  const resource = options.resource ?? '';
  const noHidden: ReadonlySet<string> = new Set();

  function lookup(path: string): CompiledField | undefined {
    return path === idField ? idSpec : schema.field(path);
  }

  function visibleNames(hidden: FieldSet, want: 'filterable' | 'sortable' | 'any'): string[] {
    const names = [idField];
    for (const field of schema.fields.values()) {
      if (hidden.has(field.path)) continue;
      if (want === 'any' || field[want]) names.push(field.path);
    }
    return names;
  }

  function unknownField(
    problems: FieldProblem[],
    key: string,
    name: string,
    hidden: FieldSet,
    want: 'filterable' | 'sortable' | 'any',
  ) {
    // Hidden fields get exactly this message, and hints only ever name visible fields: no oracle.
    const hint = name.length <= 64 ? didYouMean(name, visibleNames(hidden, want)) : undefined;
    const verb = want === 'sortable' ? 'sort on' : want === 'any' ? 'select' : 'filter on';
    problems.push({
      field: key,
      code: 'filter.unknown_field',
      message: `Cannot ${verb} unknown field "${name.slice(0, 64)}"${hint ? ` (${hint})` : ''}.`,
    });
  }

  function resolveField(
    problems: FieldProblem[],
    key: string,
    name: string,
    hidden: FieldSet,
    want: 'filterable' | 'sortable' | 'any',
  ): CompiledField | undefined {
    const field = hidden.has(name) && name !== idField ? undefined : lookup(name);
    if (!field || (want !== 'any' && !field[want])) {
      unknownField(problems, key, name, hidden, want);
      return undefined;
    }
    return field;
  }

  function castOne(problems: FieldProblem[], key: string, field: CompiledField, text: string): FilterValue | undefined {
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
    problems: FieldProblem[],
    key: string,
    field: CompiledField,
    text: string,
    exactLength?: number,
  ): FilterValue[] | undefined {
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

  // Equality and `in` on an encrypted field become the same test on its blind index.
  function encrypted(problems: FieldProblem[], key: string, field: CompiledField, op: OperatorName | 'sort'): boolean {
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

  function indexed(field: CompiledField, node: FilterNode): FilterNode {
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

  function buildCondition(
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
    if (encrypted(problems, key, field, op)) return undefined;
    switch (op) {
      case 'in':
      case 'notin': {
        const values = castList(problems, key, field, text);
        return values && indexed(field, { kind: 'cond', op, field: field.path, values });
      }
      case 'between': {
        const values = castList(problems, key, field, text, 2);
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
        const value = castOne(problems, key, field, text);
        return value === undefined ? undefined : indexed(field, { kind: 'cond', op, field: field.path, value });
      }
    }
  }

  function permissionFilter(filters: readonly FieldFilter[] | undefined): FilterNode {
    if (!filters || filters.length === 0) return matchAll;
    const branches: FilterNode[] = [];
    for (const filter of filters) {
      const parts: FilterNode[] = [];
      for (const [path, raw] of Object.entries(filter)) {
        const field = lookup(path);
        const cast = (value: unknown): FilterValue => {
          if (!field) return value as FilterValue;
          return castConfigured(field.type, value) ?? (value as FilterValue);
        };
        let node: FilterNode = Array.isArray(raw)
          ? { kind: 'cond', op: 'in', field: path, values: raw.map(cast) }
          : { kind: 'cond', op: 'eq', field: path, value: cast(raw) };
        if (field) node = indexed(field, node);
        parts.push(node);
      }
      branches.push(and(...parts));
    }
    return or(...branches);
  }

  function keyProblem(key: string): FieldProblem | undefined {
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
      if (
        segment.startsWith('$') ||
        FORBIDDEN_SEGMENTS.has(segment) ||
        FORBIDDEN_SEGMENTS.has(segment.split('__')[0]!)
      ) {
        return {
          field: key,
          code: 'filter.forbidden_key',
          message: `The parameter "${key}" is not an accepted field name.`,
        };
      }
    }
    return undefined;
  }

  function compile(input: QueryInput, context: CompileContext = {}): CompiledListQuery {
    const problems: FieldProblem[] = [];
    const hidden = context.hiddenFields ?? noHidden;
    const masked = context.maskedFields;
    // Filters and sorts refuse masked fields too; `fields` may still name them (their values come masked).
    const refused: FieldSet =
      masked && masked.size > 0 ? { has: (name) => hidden.has(name) || masked.has(name) } : hidden;
    const pairs = readPairs(input, maxQueryLength, problems);
    const control: Partial<Record<(typeof controlKeys)[number], string>> = {};
    const equalities = new Map<string, { field: CompiledField; key: string; values: string[] }>();
    const conditions: FilterNode[] = [];
    let conditionCount = 0;

    for (const { key, value } of pairs) {
      if (controlKeySet.has(key)) {
        const name = key as (typeof controlKeys)[number];
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
        if (op === undefined && lookup(key)) op = 'eq';
        else name = key.slice(0, at);
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
      const field = resolveField(problems, key, name, refused, 'filterable');
      if (!field) continue;
      if (op === 'eq' && context.pathFilters && Object.hasOwn(context.pathFilters, name)) continue;
      if (op === 'eq') {
        // Repeated `field=a&field=b` means either value (scoutr's multi-value parameters).
        const entry = equalities.get(name);
        if (entry) entry.values.push(value);
        else equalities.set(name, { field, key, values: [value] });
        continue;
      }
      const node = buildCondition(problems, key, field, op, value);
      if (node) conditions.push(node);
    }

    for (const { field, key, values } of equalities.values()) {
      if (values.length === 1) {
        const node = buildCondition(problems, key, field, 'eq', values[0]!);
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
      if (encrypted(problems, key, field, 'in')) continue;
      const cast: FilterValue[] = [];
      for (const text of values) {
        const value = castOne(problems, key, field, text);
        if (value !== undefined) cast.push(value);
      }
      if (cast.length === values.length)
        conditions.push(indexed(field, { kind: 'cond', op: 'in', field: field.path, values: cast }));
    }

    if (context.pathFilters) {
      for (const [name, text] of Object.entries(context.pathFilters)) {
        const bad = keyProblem(name);
        if (bad) {
          problems.push(bad);
          continue;
        }
        const field = resolveField(problems, name, name, refused, 'filterable');
        const node = field && buildCondition(problems, name, field, 'eq', text);
        if (node) conditions.push(node);
      }
    }

    const sortKeys = parseSort(problems, control.sort, refused);
    const limit = parseInteger(problems, 'limit', control.limit, defaultLimit, 1, maxLimit);
    let offset: number | undefined;
    if (control.offset !== undefined) {
      if (!allowOffset) {
        problems.push({
          field: 'offset',
          code: 'filter.unknown_parameter',
          message: 'Offset paging is not enabled here; use cursor.',
        });
      } else {
        offset = parseInteger(problems, 'offset', control.offset, 0, 0, maxOffset);
      }
      if (control.cursor !== undefined) {
        problems.push({ field: 'offset', code: 'filter.conflict', message: 'Use either cursor or offset, not both.' });
      }
    }
    const projection = parseFields(problems, control.fields, hidden);
    let count = false;
    if (control.count !== undefined) {
      if (control.count === 'true' || control.count === '1') count = true;
      else if (control.count !== 'false' && control.count !== '0') {
        problems.push({
          field: 'count',
          code: 'filter.invalid_value',
          message: 'The value of "count" must be true or false.',
        });
      }
    }
    if (problems.length > 0) throw invalid(problems);

    const scope = context.filters && context.filters.length > 0 ? permissionFilter(context.filters) : matchAll;
    const where = and(and(...conditions), scope, context.where ?? matchAll);
    const view = context.view ?? '';
    let page = where;
    let binding: string | undefined;
    if (control.cursor !== undefined) {
      binding = bindingOf(resource, sortKeys, view, where);
      const types = sortKeys.map((key) => lookup(key.field)!.type);
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

  function parseSort(problems: FieldProblem[], text: string | undefined, hidden: FieldSet): SortKey[] {
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
        const field = resolveField(problems, 'sort', name, hidden, 'sortable');
        if (!field || encrypted(problems, 'sort', field, 'sort')) continue;
        if (keys.some((key) => key.field === name)) {
          problems.push({ field: 'sort', code: 'filter.invalid_value', message: `The sort names "${name}" twice.` });
          continue;
        }
        keys.push({ field: name, direction: descending ? -1 : 1 });
      }
    }
    if (!keys.some((key) => key.field === idField)) keys.push({ field: idField, direction: 1 });
    return keys;
  }

  function parseFields(problems: FieldProblem[], text: string | undefined, hidden: FieldSet): string[] | undefined {
    if (text === undefined) return undefined;
    const fields = [idField];
    for (const name of text.split(',')) {
      if (name.length === 0 || name === idField) continue;
      const bad = keyProblem(name);
      if (bad) {
        problems.push({ ...bad, field: 'fields' });
        continue;
      }
      if (resolveField(problems, 'fields', name, hidden, 'any') && !fields.includes(name)) fields.push(name);
    }
    return fields;
  }

  function valuesCondition(field: string, values: readonly unknown[], hiddenFields = noHidden): FilterNode {
    const problems: FieldProblem[] = [];
    const bad = keyProblem(field);
    const resolved = bad
      ? (problems.push(bad), undefined)
      : resolveField(problems, field, field, hiddenFields, 'filterable');
    if (resolved && !encrypted(problems, field, resolved, 'in')) {
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
        return indexed(resolved, { kind: 'cond', op: 'in', field: resolved.path, values: cast });
    }
    throw new ValidationError(problems[0]?.message ?? 'Invalid search.', {
      code: problems[0]?.code ?? 'filter.invalid',
      errors: problems.slice(0, 20),
    });
  }

  return {
    schema,
    idField,
    compile,
    permissionFilter,
    valuesCondition,
    condition(field, op, text, hiddenFields = noHidden) {
      const problems: FieldProblem[] = [];
      const resolved = resolveField(problems, field, field, hiddenFields, 'filterable');
      const node = resolved && buildCondition(problems, field, resolved, op, text);
      if (!node)
        throw new ValidationError(problems[0]?.message ?? 'Invalid filter.', {
          code: problems[0]?.code ?? 'filter.invalid',
          errors: problems,
        });
      return node;
    },
  };
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
