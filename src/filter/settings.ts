// The query compiler's options, validated once into the settings every compile step reads.
import { ConfigError } from '../errors.js';
import { checkOptions, integerOption } from '../options.js';
import type { BlindIndexer } from '../pii/blind-index.js';
import { createCursorCodec, type CursorCodec } from './cursor.js';
import { compileSchema, type CompiledField, type CompiledSchema, type SchemaInput } from './schema.js';

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

/** The validated options with their defaults applied. */
export interface CompilerSettings {
  readonly schema: CompiledSchema;
  readonly idField: string;
  /** The id field as declared, or as implied by `idType`. */
  readonly idSpec: CompiledField;
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly allowOffset: boolean;
  readonly maxOffset: number;
  readonly maxConditions: number;
  readonly maxListLength: number;
  readonly maxValueLength: number;
  readonly maxQueryLength: number;
  readonly maxSortKeys: number;
  readonly blindIndex: BlindIndexer | undefined;
  readonly codec: CursorCodec;
  readonly resource: string;
}

/** The names of `QueryCompilerOptions`, for factories that take them along with their own. */
export const queryCompilerOptionNames = [
  'schema',
  'idField',
  'idType',
  'defaultLimit',
  'maxLimit',
  'allowOffset',
  'maxOffset',
  'maxConditions',
  'maxListLength',
  'maxValueLength',
  'maxQueryLength',
  'maxSortKeys',
  'cursorSecret',
  'blindIndex',
  'resource',
] as const;

export function resolveSettings(given: QueryCompilerOptions): CompilerSettings {
  const options = checkOptions('query compiler', given, queryCompilerOptionNames);
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
  const defaultLimit = integerOption('defaultLimit', options.defaultLimit, { fallback: 20 });
  const maxLimit = integerOption('maxLimit', options.maxLimit, { fallback: 100 });
  const allowOffset = options.allowOffset ?? true;
  const maxOffset = integerOption('maxOffset', options.maxOffset, { fallback: 10_000 });
  const maxConditions = integerOption('maxConditions', options.maxConditions, { fallback: 20 });
  const maxListLength = integerOption('maxListLength', options.maxListLength, { fallback: 100 });
  const maxValueLength = integerOption('maxValueLength', options.maxValueLength, { fallback: 256 });
  const maxQueryLength = integerOption('maxQueryLength', options.maxQueryLength, { fallback: 4096 });
  const maxSortKeys = integerOption('maxSortKeys', options.maxSortKeys, { fallback: 4 });
  if (defaultLimit < 1 || defaultLimit > maxLimit) throw new ConfigError('defaultLimit', 'must be from 1 to maxLimit');
  return {
    schema,
    idField,
    idSpec,
    defaultLimit,
    maxLimit,
    allowOffset,
    maxOffset,
    maxConditions,
    maxListLength,
    maxValueLength,
    maxQueryLength,
    maxSortKeys,
    blindIndex: options.blindIndex,
    codec: createCursorCodec(options.cursorSecret),
    resource: options.resource ?? '',
  };
}

/** The declared field at `path`, the id field included. */
export function lookup(settings: CompilerSettings, path: string): CompiledField | undefined {
  return path === settings.idField ? settings.idSpec : settings.schema.field(path);
}
