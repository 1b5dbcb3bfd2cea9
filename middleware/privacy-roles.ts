// The caller's memberships and the roles they imply (`<resource>-<id>-<level>`), read once per request for
// whoever needs them: the standalone `privacyRoles()` middleware (for an `authorize()` mounted before a router)
// and a crudRouter's `privacy` share one read per request and membership source.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { impliedRoles, membershipsOf, type Membership, type MembershipSource } from '../src/auth/privacy.js';
import type { RecordStore } from '../src/contracts/records.js';
import { ConfigError } from '../src/errors.js';
import { isSafePath, type CompiledSchema } from '../src/filter/schema.js';
import { checkOptions, integerOption } from '../src/options.js';
import { contextOf } from './context.js';
import { describeGuard } from './openapi/describe.js';

export interface PrivacyMembershipOptions {
  /** The membership resource's name in the implied roles (`list` → `list-<id>-member`): letters, digits, `_`. */
  resource: string;
  /** The field of a record holding its membership resource's id (apicrud's `attr`, e.g. `listId`); crudRouter only. */
  field: string;
  /** The membership records: one per principal and resource, with the level. */
  store: RecordStore;
  /** Field of a membership record holding the principal id. Default `principalId`. */
  principalField?: string;
  /** Field of a membership record holding the resource id. Default `<resource>Id`. */
  resourceField?: string;
  /** Field of a membership record holding the level: `invitee`, `member` or `manager`. Default `level`. */
  levelField?: string;
  /** When set, only membership records whose value in this field is `active` count. Default none. */
  statusField?: string;
  /** Most memberships a principal may have (read in one query); more is 403 `forbidden.membership_limit`. Default 1000. */
  limit?: number;
}

export interface PrivacyRolesOptions {
  /** Where memberships are kept: as a crudRouter's `privacy.membership`, without `field`. */
  membership: Omit<PrivacyMembershipOptions, 'field'>;
}

const MEMBERSHIP_NAMES = [
  'resource',
  'field',
  'store',
  'principalField',
  'resourceField',
  'levelField',
  'statusField',
  'limit',
];
const RESOURCE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export function fieldName(option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !isSafePath(value)) throw new ConfigError(option, 'must be a plain field path');
  return value;
}

/** The field must be a declared scalar of one of `types` in `schema`. */
export function declared(option: string, schema: CompiledSchema, path: string, types: readonly string[]): void {
  const field = schema.field(path);
  if (schema.open) return;
  if (!field) throw new ConfigError(option, `"${path}" is not a field of the store`);
  if (field.array || !types.includes(field.type)) {
    throw new ConfigError(option, `"${path}" must be a single ${types.join(' or ')} field`);
  }
}

export type CheckedMembership = MembershipSource & { resource: string };

/** Checks membership options once; with `recordField`, `field` is required (a crudRouter's), else refused. */
export function membershipSource(
  option: string,
  input: PrivacyMembershipOptions,
  recordField: true,
): CheckedMembership & { field: string };
export function membershipSource(
  option: string,
  input: Omit<PrivacyMembershipOptions, 'field'>,
  recordField: false,
): CheckedMembership;
export function membershipSource(
  option: string,
  input: Partial<PrivacyMembershipOptions>,
  recordField: boolean,
): CheckedMembership & { field?: string } {
  const names = recordField ? MEMBERSHIP_NAMES : MEMBERSHIP_NAMES.filter((name) => name !== 'field');
  const options = checkOptions('privacy.membership', input, names, { path: option });
  if (typeof options.resource !== 'string' || !RESOURCE.test(options.resource)) {
    throw new ConfigError(`${option}.resource`, 'must be a name of letters, digits and "_" (e.g. "list")');
  }
  const store = options.store;
  if (typeof store?.find !== 'function' || typeof store.schema?.field !== 'function') {
    throw new ConfigError(`${option}.store`, 'must implement the RecordStore contract');
  }
  if (recordField && options.field === undefined) {
    throw new ConfigError(`${option}.field`, 'is required: the record field naming its resource');
  }
  const source = {
    resource: options.resource,
    ...(recordField ? { field: fieldName(`${option}.field`, options.field, '') } : {}),
    store,
    principalField: fieldName(`${option}.principalField`, options.principalField, 'principalId'),
    resourceField: fieldName(`${option}.resourceField`, options.resourceField, `${options.resource}Id`),
    levelField: fieldName(`${option}.levelField`, options.levelField, 'level'),
    ...(options.statusField !== undefined
      ? { statusField: fieldName(`${option}.statusField`, options.statusField, 'status') }
      : {}),
    limit: integerOption(`${option}.limit`, options.limit, { fallback: 1000, min: 1, max: 100_000 }),
  };
  declared(`${option}.principalField`, store.schema, source.principalField, ['string', 'objectId']);
  declared(`${option}.resourceField`, store.schema, source.resourceField, ['string', 'objectId']);
  declared(`${option}.levelField`, store.schema, source.levelField, ['string']);
  if (source.statusField !== undefined) declared(`${option}.statusField`, store.schema, source.statusField, ['string']);
  return source;
}

/** What identifies a membership read: the same store read through the same fields gives the same memberships. */
function sourceKey(source: CheckedMembership): string {
  return JSON.stringify([
    source.resource,
    source.principalField,
    source.resourceField,
    source.levelField,
    source.statusField ?? null,
    source.limit,
  ]);
}

const loaded = new WeakMap<Request, Map<RecordStore, Map<string, Promise<Membership[]>>>>();

/**
 * The caller's memberships in `source`, read at most once per request (a second middleware or router asking
 * for the same source gets the same answer), their implied roles added to the context's `privacyRoles`.
 * An anonymous caller has none.
 */
export function membershipsFor(req: Request, source: CheckedMembership): Promise<Membership[]> {
  const context = contextOf(req);
  const principal = context.principal;
  if (!principal || principal.kind === 'anonymous') return Promise.resolve([]);
  let byStore = loaded.get(req);
  if (!byStore) loaded.set(req, (byStore = new Map()));
  let byKey = byStore.get(source.store);
  if (!byKey) byStore.set(source.store, (byKey = new Map()));
  const key = sourceKey(source);
  let found = byKey.get(key);
  if (!found) {
    found = membershipsOf(source, principal.id).then((memberships) => {
      const roles = new Set(context.privacyRoles);
      for (const role of impliedRoles(source.resource, memberships)) roles.add(role);
      context.privacyRoles = [...roles];
      return memberships;
    });
    byKey.set(key, found);
  }
  return found;
}

/**
 * Sets the request's `privacyRoles` (`<resource>-<id>-<level>`, the ABAC subject's `privacyRoles`) from the
 * caller's memberships, for an `authorize()` mounted before a crudRouter; a crudRouter with the same
 * `privacy.membership` then reads no memberships again. Mount it after authentication.
 */
export function privacyRoles(options: PrivacyRolesOptions): RequestHandler {
  const checked = checkOptions('privacyRoles', options, ['membership'], { path: 'privacyRoles' });
  if (checked.membership === undefined) throw new ConfigError('privacyRoles.membership', 'is required');
  const source = membershipSource('privacyRoles.membership', checked.membership, false);
  const handler = function portcullisPrivacyRoles(req: Request, _res: Response, next: NextFunction) {
    membershipsFor(req, source).then(() => next(), next);
  };
  return describeGuard(handler, { 403: ['forbidden.membership_limit'] });
}
