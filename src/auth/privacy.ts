// Record-level privacy, as apicrud's RBAC-with-privacy: a record carries a privacy level and an owner, and may
// belong to a membership resource (a list, a team); the caller's memberships imply roles
// `<resource>-<id>-<level>`, and a record is readable by its owner, by everyone when `public`, and by whoever
// holds the role `<resource>-<record's resource id>-<record's privacy>`. The rule is a filter, so it runs
// inside the store query like the permission filters.
import { DELETED_FIELD, type RecordStore } from '../contracts/records.js';
import { ForbiddenError } from '../errors.js';
import { and, or, type FilterNode } from '../filter/ast.js';
import { castConfigured } from '../filter/cast.js';
import type { FieldFilter } from './principal.js';

/** apicrud's `privacy_levels`, widest first: `public` is read by anyone, `secret` by the owner alone. */
export const PRIVACY_LEVELS = ['public', 'invitee', 'member', 'manager', 'secret'] as const;
export type PrivacyLevel = (typeof PRIVACY_LEVELS)[number];

/** The levels a membership can have, lowest first; each includes the ones before it. */
export const MEMBERSHIP_LEVELS = ['invitee', 'member', 'manager'] as const;
export type MembershipLevel = (typeof MEMBERSHIP_LEVELS)[number];

export function isPrivacyLevel(value: unknown): value is PrivacyLevel {
  return typeof value === 'string' && (PRIVACY_LEVELS as readonly string[]).includes(value);
}

export function isMembershipLevel(value: unknown): value is MembershipLevel {
  return typeof value === 'string' && (MEMBERSHIP_LEVELS as readonly string[]).includes(value);
}

/** A principal's standing in one membership resource (`list x-1234`, level `member`). */
export interface Membership {
  id: string;
  level: MembershipLevel;
}

/**
 * apicrud's `get_roles`: a membership at level L gives `<resource>-<id>-<level>` for every level from `invitee`
 * up to L, so a manager also holds the member and invitee roles of that resource.
 */
export function impliedRoles(resource: string, memberships: Iterable<Membership>): string[] {
  const roles: string[] = [];
  for (const { id, level } of memberships) {
    for (const implied of MEMBERSHIP_LEVELS) {
      roles.push(`${resource}-${id}-${implied}`);
      if (implied === level) break;
    }
  }
  return roles;
}

/** Where a record keeps its privacy, its owner's principal id and the id of its membership resource. */
export interface PrivacyFields {
  privacy: string;
  owner: string;
  /** Absent: no membership resource, so invitee / member / manager records are read by their owner alone. */
  membership?: string;
}

/** Who asks, as the privacy rule needs it. */
export interface PrivacyCaller {
  /** The principal id; undefined for anonymous callers (they read public records only). */
  id: string | undefined;
  /** Membership resource id → the caller's level there. */
  memberships: ReadonlyMap<string, MembershipLevel>;
  /** Sees and manages every record (apicrud's admin). */
  exempt: boolean;
}

/**
 * Equality (or `in`, for a list) on configured fields, typed and blind-indexed like the permission filters:
 * `QueryCompiler.permissionFilter`.
 */
export type FieldConditions = (filters: readonly FieldFilter[]) => FilterNode;

const rank = (level: MembershipLevel): number => MEMBERSHIP_LEVELS.indexOf(level);

/** Records whose privacy is `level`; a record without one has the default privacy. */
function privacyIs(fields: PrivacyFields, fallback: PrivacyLevel, level: PrivacyLevel): FilterNode {
  const equal: FilterNode = { kind: 'cond', op: 'eq', field: fields.privacy, value: level };
  return level === fallback ? or(equal, { kind: 'cond', op: 'null', field: fields.privacy, value: true }) : equal;
}

/**
 * The records the caller may read, as a filter: what `rbac_permissions` grants `r` for, record by record.
 * The owner reads every privacy (`secret` included); `public` is for everyone; `invitee`, `member` and
 * `manager` are for callers at that level or above in the record's membership resource. A stored privacy
 * that is not a level reads as `secret`.
 */
export function readFilter(
  fields: PrivacyFields,
  fallback: PrivacyLevel,
  caller: PrivacyCaller,
  conditions: FieldConditions,
): FilterNode {
  if (caller.exempt) return and();
  const branches: FilterNode[] = [privacyIs(fields, fallback, 'public')];
  if (caller.id !== undefined) branches.push(conditions([{ [fields.owner]: caller.id }]));
  if (fields.membership !== undefined) {
    for (const level of MEMBERSHIP_LEVELS) {
      const ids: string[] = [];
      for (const [id, held] of caller.memberships) if (rank(held) >= rank(level)) ids.push(id);
      if (ids.length === 0) continue;
      branches.push(and(privacyIs(fields, fallback, level), conditions([{ [fields.membership]: ids }])));
    }
  }
  return or(...branches);
}

/**
 * The records the caller may change or delete: its own, and those it reads in a membership resource it manages
 * (apicrud: "manager = read/write by designated resource managers"); members and invitees only read.
 */
export function manageFilter(
  fields: PrivacyFields,
  fallback: PrivacyLevel,
  caller: PrivacyCaller,
  conditions: FieldConditions,
): FilterNode {
  if (caller.exempt) return and();
  const branches: FilterNode[] = [];
  if (caller.id !== undefined) branches.push(conditions([{ [fields.owner]: caller.id }]));
  const managed = [...caller.memberships].filter(([, level]) => level === 'manager').map(([id]) => id);
  if (fields.membership !== undefined && managed.length > 0) {
    branches.push(
      and(conditions([{ [fields.membership]: managed }]), readFilter(fields, fallback, caller, conditions)),
    );
  }
  return or(...branches);
}

/** Where memberships are kept: one record per (principal, resource) with the level. */
export interface MembershipSource {
  store: RecordStore;
  /** Field of a membership record holding the principal id. */
  principalField: string;
  /** Field holding the membership resource's id. */
  resourceField: string;
  /** Field holding the level (`invitee`, `member`, `manager`); other values give no role. */
  levelField: string;
  /** When set, only membership records whose value here is `active` count (apicrud's `status`). */
  statusField?: string;
  /** Most memberships of one principal; more is a 403 `forbidden.membership_limit`. */
  limit: number;
}

// A resource id becomes part of a role name and of a store query: plain text of bounded length only.
const MAX_ID_LENGTH = 256;

/**
 * The principal's memberships, in one store query of at most `limit + 1` records. Live records only; values
 * that are not a plain id or a known level are ignored; the highest level of a resource counts.
 */
export async function membershipsOf(source: MembershipSource, principalId: string): Promise<Membership[]> {
  const principalType = source.store.schema.field(source.principalField)?.type ?? 'string';
  const conditions: FilterNode[] = [
    {
      kind: 'cond',
      op: 'eq',
      field: source.principalField,
      value: castConfigured(principalType, principalId) ?? principalId,
    },
    { kind: 'cond', op: 'null', field: DELETED_FIELD, value: true },
  ];
  if (source.statusField !== undefined) {
    conditions.push({ kind: 'cond', op: 'eq', field: source.statusField, value: 'active' });
  }
  const found = await source.store.find({
    where: and(...conditions),
    sort: [{ field: 'id', direction: 1 }],
    limit: source.limit + 1,
  });
  if (found.length > source.limit) {
    throw new ForbiddenError(
      `You have more than ${source.limit} memberships; the records they share cannot be listed. Ask an administrator to raise the limit.`,
      { code: 'forbidden.membership_limit' },
    );
  }
  const levels = new Map<string, MembershipLevel>();
  for (const record of found) {
    const raw = record[source.resourceField];
    const id = typeof raw === 'object' && raw !== null && 'toHexString' in raw ? String(raw) : raw;
    const level = record[source.levelField];
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !isMembershipLevel(level)) continue;
    const held = levels.get(id);
    if (held === undefined || rank(level) > rank(held)) levels.set(id, level);
  }
  return [...levels].map(([id, level]) => ({ id, level }));
}

declare module '../context.js' {
  interface RequestContext {
    /**
     * Set by a `crudRouter` with `privacy.membership`: the caller's implied roles `<resource>-<id>-<level>`,
     * also the ABAC subject's `privacyRoles`.
     */
    privacyRoles?: string[];
  }
}
