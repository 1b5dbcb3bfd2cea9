// Options of crudRouter: types with defaults, validated once at creation.
import { checkOptions, integerOption } from '../../src/options.js';
import type { RequestHandler, Request } from 'express';
import type { RecordStore } from '../../src/contracts/records.js';
import { CRUD_SCOPE_LEVELS, SCOPE_PATTERN, type CrudAction } from '../../src/auth/scopes.js';
import { ConfigError, didYouMean } from '../../src/errors.js';
import type { Masker, UnmaskGrant } from '../../src/pii/masker.js';
import type { BlindIndexer } from '../../src/pii/blind-index.js';
import type { Guard } from '../../src/abac/guard.js';
import { validateGuard } from './abac.js';
import type { PrivacyOptions } from './privacy.js';
import type { AttachmentOptions } from './attachments.js';

/**
 * scoutr-style field validator: `true`/`false`, or `{ result, message }`; may be async. It sees the record as
 * it will be stored: `value` is the field's value in `record` (a create's body, or the stored record merged
 * with the PATCH / replaced by the PUT), and `previous` is the stored record on updates (undefined on create).
 */
export type FieldValidator = (
  value: unknown,
  record: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
) => boolean | { result: boolean; message?: string } | Promise<boolean | { result: boolean; message?: string }>;

export interface CrudRouterOptions {
  /** Resource name: in authorization actions (`<resource>:list`), audit events and cursor binding. */
  resource: string;
  /**
   * The records: any `RecordStore` (`MemoryRecordStore` from `portcullis/memory`, `MongoRecordStore` from
   * `portcullis/mongodb`, `stores.records(...)` from `createStores`, or either wrapped in an
   * `EncryptedRecordStore`).
   */
  store: RecordStore;
  /** Page size without `limit`. Default 20. */
  defaultLimit?: number;
  /** Largest `limit`. Default 100. */
  maxLimit?: number;
  /** Accept `offset` paging beside cursors. Default true. */
  allowOffset?: boolean;
  /** Largest `offset`. Default 10 000. */
  maxOffset?: number;
  /**
   * Secret (at least 32 bytes) that list cursors are encrypted with; the same on every process (`CURSOR_SECRET`).
   * Default: random per process, so a cursor works only in the process that made it.
   */
  cursorSecret?: string | Buffer;
  /** Blind indexes of encrypted fields (equality and `in` search). Default: the store's `blindIndex`. */
  blindIndex?: BlindIndexer;
  /** Mount `GET /:searchKey/:searchValue` (scoutr's dynamic path filter). Default true. */
  dynamicPathFilter?: boolean;
  /** Fields with a static path filter `GET /<field>/:value`. Default none. */
  staticPathFilters?: string[];
  /** Mount `PUT /:id` (full replacement). Default false. */
  allowReplace?: boolean;
  /** DELETE moves records to the trash (`/trash` routes); `?force=true` deletes for good. Default true. */
  softDelete?: boolean;
  /** Maintain `createdAt` / `updatedAt`. Default true. */
  timestamps?: boolean;
  /** scoutr field validators, run on every write against the record as it will be stored; each field required. */
  validators?: Record<string, FieldValidator>;
  /** An authorization guard per action (`<resource>:list|read|create|update|delete|restore|purge`). */
  authorize?: (action: string) => RequestHandler;
  /**
   * Record-level ABAC: every route reads and writes only the records the guard allows the caller, each
   * record being the inquiry's resource and `<resource>:<action>` its action, inside the store query
   * (`guard.queryFor`), so lists, counts and cursors agree with `guard.decide` per record. Policies with rules
   * that have no filter form are refused with 403 `forbidden.unfilterable_policy`. Needs in-memory policies
   * (a list, a PolicySet or a PolicyMirror). Default none. See docs/crud.md "Record-level ABAC".
   */
  guard?: Guard;
  /**
   * Record-level privacy (apicrud's): each record's privacy level, owner and membership resource decide who
   * reads it, inside the store query. Default none. See docs/privacy.md.
   */
  privacy?: PrivacyOptions;
  /**
   * The credential scope each action needs (403 `forbidden.scope` without it), replacing the default
   * `<resource>:read` (list, read), `<resource>:write` (create, update, restore) and `<resource>:delete`
   * (delete, purge) action by action; `false` for an action (or for all) needs none.
   */
  scopes?: false | Partial<Record<CrudAction, string | false>>;
  /** Masks every item before it is sent. */
  masker?: Masker;
  /** What the caller may see unmasked. Default: nothing. */
  unmask?: (req: Request) => UnmaskGrant | undefined;
  /** Mount `GET /:id/history` with the audit trail of a record. */
  history?: (resource: string, id: string) => Promise<unknown[]>;
  /** Most values in one `POST /search/:key`. Default 10 000. */
  maxSearchValues?: number;
  /** Values per store query when searching. Default 500. */
  searchChunkSize?: number;
  /** Most values returned by `GET /unique/:field`. Default 1000. */
  maxUniqueValues?: number;
  /** JSON body size limit (a batch's whole body included). Default `100kb`. */
  bodyLimit?: string | number;
  /** Most records in one `POST /batch` (`BATCH_MAX_RECORDS`). Default 100. */
  maxBatchRecords?: number;
  /**
   * With a resident store (`ResidentRecordStore`): lists, searches and unique values that name no single
   * country read every named (or every) country's store and merge their pages. Default false: such a query
   * is a 400 naming the country parameter. See docs/residency.md.
   */
  fanOut?: boolean;
  /** Mount `/:id/attachments` routes: files attached to records, in this store. Default none. */
  attachments?: AttachmentOptions;
}

export const optionNames: readonly (keyof CrudRouterOptions)[] = [
  'resource',
  'store',
  'defaultLimit',
  'maxLimit',
  'allowOffset',
  'maxOffset',
  'cursorSecret',
  'blindIndex',
  'dynamicPathFilter',
  'staticPathFilters',
  'allowReplace',
  'softDelete',
  'timestamps',
  'validators',
  'authorize',
  'guard',
  'privacy',
  'scopes',
  'masker',
  'unmask',
  'history',
  'maxSearchValues',
  'searchChunkSize',
  'maxUniqueValues',
  'bodyLimit',
  'maxBatchRecords',
  'fanOut',
  'attachments',
];

const RESOURCE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function integer(options: CrudRouterOptions, name: keyof CrudRouterOptions, min: number): void {
  integerOption(`crudRouter.${name}`, options[name], { fallback: min, min });
}

function fn(options: CrudRouterOptions, name: keyof CrudRouterOptions): void {
  const value = options[name];
  if (value !== undefined && typeof value !== 'function')
    throw new ConfigError(`crudRouter.${name}`, 'must be a function');
}

function flag(options: CrudRouterOptions, name: keyof CrudRouterOptions): void {
  const value = options[name];
  if (value !== undefined && typeof value !== 'boolean')
    throw new ConfigError(`crudRouter.${name}`, 'must be true or false');
}

/** Refuses unknown keys (with a hint) and impossible values; `undefined` values count as absent. */
export function validateOptions(input: CrudRouterOptions): CrudRouterOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('crudRouter', 'needs an options object');
  const options = checkOptions('crudRouter()', input, optionNames, { path: 'crudRouter' });
  if (typeof options.resource !== 'string' || !RESOURCE.test(options.resource)) {
    throw new ConfigError('crudRouter.resource', 'must be a name of letters, digits, "_" or "-" (e.g. "accounts")');
  }
  if (typeof options.store?.find !== 'function' || typeof options.store.replace !== 'function') {
    throw new ConfigError(
      'crudRouter.store',
      'must implement the RecordStore contract (find, get, insert, replace, remove, ...)',
    );
  }
  for (const name of [
    'defaultLimit',
    'maxLimit',
    'maxSearchValues',
    'searchChunkSize',
    'maxUniqueValues',
    'maxBatchRecords',
  ] as const)
    integer(options, name, 1);
  integer(options, 'maxOffset', 0);
  for (const name of ['authorize', 'unmask', 'history'] as const) fn(options, name);
  for (const name of [
    'allowOffset',
    'dynamicPathFilter',
    'allowReplace',
    'softDelete',
    'timestamps',
    'fanOut',
  ] as const)
    flag(options, name);
  if ((options.defaultLimit ?? 20) > (options.maxLimit ?? 100)) {
    throw new ConfigError('crudRouter.defaultLimit', 'must not exceed maxLimit');
  }
  if (options.masker !== undefined && typeof options.masker?.mask !== 'function') {
    throw new ConfigError('crudRouter.masker', 'must have a mask(value, grant) method');
  }
  if (options.validators !== undefined) {
    if (typeof options.validators !== 'object' || options.validators === null) {
      throw new ConfigError('crudRouter.validators', 'must map field names to functions');
    }
    for (const [field, validator] of Object.entries(options.validators)) {
      if (typeof validator !== 'function')
        throw new ConfigError(`crudRouter.validators.${field}`, 'must be a function');
    }
  }
  validateScopes(options.scopes);
  validateGuard(options.guard);
  if (options.staticPathFilters !== undefined && !Array.isArray(options.staticPathFilters)) {
    throw new ConfigError('crudRouter.staticPathFilters', 'must be a list of field names');
  }
  return options;
}

function validateScopes(scopes: CrudRouterOptions['scopes']): void {
  if (scopes === undefined || scopes === false) return;
  if (typeof scopes !== 'object' || scopes === null || Array.isArray(scopes)) {
    throw new ConfigError('crudRouter.scopes', 'must be false or map actions to scopes (or false)');
  }
  const actions = Object.keys(CRUD_SCOPE_LEVELS);
  for (const [action, scope] of Object.entries(scopes)) {
    if (!actions.includes(action)) {
      const hint = didYouMean(action, actions);
      throw new ConfigError(
        `crudRouter.scopes.${action}`,
        `is not an action (${actions.join(', ')})`,
        hint ? { hint } : {},
      );
    }
    if (scope !== false && (typeof scope !== 'string' || !SCOPE_PATTERN.test(scope))) {
      throw new ConfigError(`crudRouter.scopes.${action}`, 'must be a scope name or false');
    }
  }
}

/** The scope each action needs (`undefined`: none), from the defaults and the `scopes` option. */
export function crudScopes(options: CrudRouterOptions): Readonly<Record<CrudAction, string | undefined>> {
  const result = {} as Record<CrudAction, string | undefined>;
  for (const [action, level] of Object.entries(CRUD_SCOPE_LEVELS) as [CrudAction, string][]) {
    const chosen = options.scopes === false ? false : options.scopes?.[action];
    result[action] = chosen === false ? undefined : (chosen ?? `${options.resource}:${level}`);
  }
  return result;
}
