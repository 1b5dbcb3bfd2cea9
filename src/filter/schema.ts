// Field declarations of a resource: which fields exist, their types, and which may be filtered and sorted.
import { checkOptions } from '../options.js';
import { ConfigError, didYouMean } from '../errors.js';
import { compileRegex, PatternError, type LinearRegex } from '../regex.js';

export type ScalarType = 'string' | 'number' | 'boolean' | 'date' | 'objectId';
export const scalarTypes: readonly ScalarType[] = ['string', 'number', 'boolean', 'date', 'objectId'];

/** A scalar type, or `'<type>[]'` for an array of that type. */
export type FieldType = ScalarType | `${ScalarType}[]`;

export interface FieldSpec {
  type: FieldType;
  /** May appear in querystring filters. Default true. */
  filterable?: boolean;
  /** May appear in `sort`. Default true for scalar fields, false for arrays. */
  sortable?: boolean;
  /** Required on create (memory collections; mongoose models use their own rules). Default false. */
  required?: boolean;
  /** Allowed values. */
  enum?: readonly (string | number | boolean)[];
  /** Numeric bounds (numbers) or date bounds (dates, as ISO strings or Dates). */
  min?: number | string | Date;
  max?: number | string | Date;
  /** String length bounds. */
  minLength?: number;
  maxLength?: number;
  /**
   * A pattern strings must match: compiled once at creation for the linear-time engine (no backreferences or
   * lookaround); `g` and `y` do not apply.
   */
  pattern?: RegExp;
}

/** A schema as written by users: field path → type name, `[type]` or a full spec. */
export type SchemaInput = Record<string, FieldType | [ScalarType] | FieldSpec>;

export interface CompiledField {
  path: string;
  type: ScalarType;
  array: boolean;
  filterable: boolean;
  sortable: boolean;
  spec: FieldSpec;
  /** `spec.pattern` on the linear-time engine. */
  pattern?: LinearRegex | undefined;
}

export interface CompiledSchema {
  /** Declared fields by path (null prototype: no inherited names). */
  readonly fields: ReadonlyMap<string, CompiledField>;
  /** True when any plain field name is allowed and values stay strings (the CLI without --schema). */
  readonly open: boolean;
  field(path: string): CompiledField | undefined;
}

// One dotted path of plain identifiers; `$` operators, brackets and prototype names never pass.
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True when `path` is a safe dotted field path (at most 8 segments). */
export function isSafePath(path: string): boolean {
  if (path.length === 0 || path.length > 256) return false;
  const segments = path.split('.');
  if (segments.length > 8) return false;
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || FORBIDDEN_SEGMENTS.has(segment)) return false;
  }
  return true;
}

function parseType(option: string, input: unknown): { type: ScalarType; array: boolean } {
  let text = input;
  if (Array.isArray(input)) {
    if (input.length !== 1) throw new ConfigError(option, 'an array type lists exactly one element type');
    text = `${String(input[0])}[]`;
  }
  if (typeof text !== 'string') throw new ConfigError(option, 'must be a type name or a field spec');
  const array = text.endsWith('[]');
  const base = array ? text.slice(0, -2) : text;
  if (!(scalarTypes as readonly string[]).includes(base)) {
    const hint = didYouMean(base, scalarTypes);
    throw new ConfigError(option, `unknown type "${base}"`, hint ? { hint } : {});
  }
  return { type: base as ScalarType, array };
}

const specKeys = [
  'type',
  'filterable',
  'sortable',
  'required',
  'enum',
  'min',
  'max',
  'minLength',
  'maxLength',
  'pattern',
];

/** Validates and compiles a schema once; throws `ConfigError` naming the bad field. */
export function compileSchema(input: SchemaInput | CompiledSchema, options: { option?: string } = {}): CompiledSchema {
  if (isCompiledSchema(input)) return input;
  const option = options.option ?? 'schema';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(option, 'must be an object mapping field paths to types');
  }
  const fields = new Map<string, CompiledField>();
  for (const [path, raw] of Object.entries(input)) {
    const where = `${option}.${path}`;
    if (!isSafePath(path)) throw new ConfigError(where, 'is not a plain dotted field path');
    const spec: FieldSpec =
      typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : { type: raw as FieldType };
    checkOptions('field', spec, specKeys, { path: where });
    const { type, array } = parseType(where, spec.type);
    if (spec.pattern !== undefined && !(spec.pattern instanceof RegExp)) {
      throw new ConfigError(`${where}.pattern`, 'must be a RegExp');
    }
    let pattern: LinearRegex | undefined;
    try {
      pattern = spec.pattern && compileRegex(spec.pattern.source, spec.pattern.flags.replace(/[gy]/g, ''));
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      throw new ConfigError(`${where}.pattern`, `is an ${error.message}`, { code: error.code, cause: error });
    }
    fields.set(path, {
      path,
      type,
      array,
      filterable: spec.filterable ?? true,
      sortable: spec.sortable ?? !array,
      spec: { ...spec, type: (array ? `${type}[]` : type) as FieldType },
      pattern,
    });
  }
  return makeSchema(fields, false);
}

/** A schema that accepts every safe field name as a string (the CLI without `--schema`). */
export function openSchema(): CompiledSchema {
  return makeSchema(new Map(), true);
}

function makeSchema(fields: Map<string, CompiledField>, open: boolean): CompiledSchema {
  const openFields = new Map<string, CompiledField>();
  return {
    fields,
    open,
    field(path) {
      const declared = fields.get(path);
      if (declared || !open) return declared;
      if (!isSafePath(path)) return undefined;
      let field = openFields.get(path);
      if (!field) {
        field = { path, type: 'string', array: false, filterable: true, sortable: true, spec: { type: 'string' } };
        if (openFields.size < 1000) openFields.set(path, field);
      }
      return field;
    },
  };
}

function isCompiledSchema(input: unknown): input is CompiledSchema {
  return (
    typeof input === 'object' &&
    input !== null &&
    (input as CompiledSchema).fields instanceof Map &&
    typeof (input as CompiledSchema).field === 'function'
  );
}
