// Record-level privacy for crudRouter (apicrud's RBAC-with-privacy): the caller's memberships are read once per
// request, before `authorize`, and the privacy rule is ANDed into every store query with the other record
// filters; writes may not give a record to someone else or attach it to a membership resource the caller is
// not in.
import { isDeepStrictEqual } from 'node:util';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  isPrivacyLevel,
  manageFilter,
  PRIVACY_LEVELS,
  readFilter,
  type MembershipLevel,
  type PrivacyCaller,
  type PrivacyFields,
  type PrivacyLevel,
} from '../../src/auth/privacy.js';
import type { Principal } from '../../src/auth/principal.js';
import type { CrudAction } from '../../src/auth/scopes.js';
import type { RecordStore } from '../../src/contracts/records.js';
import { AuthenticationError, ConfigError, ForbiddenError, type FieldProblem } from '../../src/errors.js';
import type { FilterNode, QueryCompiler } from '../../src/filter/index.js';
import type { BlindIndexer } from '../../src/pii/blind-index.js';
import { checkOptions } from '../../src/options.js';
import { contextOf } from '../context.js';
import { describeGuard } from '../openapi/describe.js';
import {
  declared,
  fieldName,
  membershipsFor,
  membershipSource,
  type PrivacyMembershipOptions,
} from '../privacy-roles.js';
import { throwProblems } from './body.js';

export type { PrivacyMembershipOptions };

export interface PrivacyOptions {
  /** The field of a record holding its privacy level. Default `privacy`. */
  field?: string;
  /** The field holding the owner's principal id, set by the server on create. Default `owner`. */
  ownerField?: string;
  /** The privacy of a record created without one, and of a stored record without one. Default `secret` (`PRIVACY_DEFAULT`). */
  default?: PrivacyLevel;
  /** Who is a member, invitee or manager of what. Default none: only the owner, and everyone for `public`. */
  membership?: PrivacyMembershipOptions;
  /** Callers who read and manage every record and may set any owner (apicrud's admin). Default none. */
  exempt?: (principal: Principal) => boolean;
}

export interface CrudPrivacy {
  /**
   * Reads the caller's memberships once per request (one store query); runs before `authorize` on every route
   * (`action` only says which problems the route's OpenAPI description lists).
   */
  load(action: CrudAction): RequestHandler;
  /** The privacy rule for `action`: read for list, read and create; manage for the writes. */
  filter(req: Request, action: CrudAction): FilterNode;
  /**
   * A new record: the owner set to the caller, the default privacy, the membership resource checked. A bad
   * value is in `problems` (400); a record for someone else or for a resource the caller is not in is in
   * `refused` (403 `forbidden.privacy_owner` / `forbidden.privacy_membership`), so a batch reports every record.
   */
  create(
    req: Request,
    body: Record<string, unknown>,
  ): { record: Record<string, unknown>; problems: FieldProblem[]; refused: FieldProblem[] };
  /** An update's new state: owner kept, privacy and membership resource checked. */
  update(
    req: Request,
    current: Record<string, unknown>,
    next: Record<string, unknown>,
    mode: 'patch' | 'put',
  ): Record<string, unknown>;
}

const OPTION_NAMES = ['field', 'ownerField', 'default', 'membership', 'exempt'];
const MAX_ID_LENGTH = 256;

function notEncrypted(option: string, blindIndex: BlindIndexer | undefined, path: string): void {
  if (blindIndex?.isEncrypted(path)) {
    throw new ConfigError(option, `"${path}" is encrypted; the privacy rule must compare it in the store query`);
  }
}

function ownerProblem(field: string, message: string): FieldProblem {
  return { field, code: 'forbidden.privacy_owner', message };
}

/** A 403 for refused writes: the first refusal's code and message, every refusal (and other problem) listed. */
export function privacyRefusal(
  refused: readonly FieldProblem[],
  problems: readonly FieldProblem[] = [],
): ForbiddenError {
  const first = refused[0]!;
  return new ForbiddenError(first.message, { code: first.code, errors: [...refused, ...problems] });
}

/** Builds the privacy rule of a router from its options, checking them once; undefined without `privacy`. */
export function createPrivacy(
  input: PrivacyOptions | undefined,
  store: RecordStore,
  compiler: QueryCompiler,
  blindIndex: BlindIndexer | undefined,
): CrudPrivacy | undefined {
  if (input === undefined) return undefined;
  const options = checkOptions('privacy', input, OPTION_NAMES, { path: 'crudRouter.privacy' });
  const fields: PrivacyFields = {
    privacy: fieldName('crudRouter.privacy.field', options.field, 'privacy'),
    owner: fieldName('crudRouter.privacy.ownerField', options.ownerField, 'owner'),
  };
  const fallback = options.default ?? 'secret';
  if (!isPrivacyLevel(fallback)) {
    throw new ConfigError('crudRouter.privacy.default', `must be one of ${PRIVACY_LEVELS.join(', ')}`);
  }
  if (options.exempt !== undefined && typeof options.exempt !== 'function') {
    throw new ConfigError('crudRouter.privacy.exempt', 'must be a function of the principal');
  }
  const source = options.membership && membershipSource('crudRouter.privacy.membership', options.membership, true);
  if (source) fields.membership = source.field;
  declared('crudRouter.privacy.field', store.schema, fields.privacy, ['string']);
  declared('crudRouter.privacy.ownerField', store.schema, fields.owner, ['string', 'objectId']);
  notEncrypted('crudRouter.privacy.field', blindIndex, fields.privacy);
  notEncrypted('crudRouter.privacy.ownerField', blindIndex, fields.owner);
  if (fields.membership !== undefined) {
    declared('crudRouter.privacy.membership.field', store.schema, fields.membership, ['string', 'objectId']);
    notEncrypted('crudRouter.privacy.membership.field', blindIndex, fields.membership);
  }
  const exempt = options.exempt;
  const conditions = (filters: Parameters<QueryCompiler['permissionFilter']>[0]) => compiler.permissionFilter(filters);
  const callers = new WeakMap<Request, PrivacyCaller>();
  const filters = new WeakMap<Request, { read?: FilterNode; manage?: FilterNode }>();

  function callerOf(req: Request): PrivacyCaller {
    const caller = callers.get(req);
    // Every route loads the caller before its handler; reaching here without is a wiring bug, never "no rule".
    if (!caller) throw new Error('crudRouter privacy: the caller was not loaded for this request');
    return caller;
  }

  async function loadCaller(req: Request): Promise<void> {
    if (callers.has(req)) return;
    const context = contextOf(req);
    const principal = context.principal;
    const id = principal && principal.kind !== 'anonymous' ? principal.id : undefined;
    const isExempt = principal !== undefined && exempt !== undefined && exempt(principal) === true;
    const memberships = new Map<string, MembershipLevel>();
    if (source) {
      for (const membership of await membershipsFor(req, source)) memberships.set(membership.id, membership.level);
    }
    callers.set(req, { id, memberships, exempt: isExempt });
  }

  /** The membership resource a write attaches the record to: a plain id the caller belongs to. */
  function checkTarget(
    membership: { field: string; resource: string },
    caller: PrivacyCaller,
    target: unknown,
    problems: FieldProblem[],
    refused: FieldProblem[],
  ): void {
    if (target === undefined || target === null) return;
    if (typeof target !== 'string' || target.length === 0 || target.length > MAX_ID_LENGTH) {
      problems.push({
        field: membership.field,
        code: 'validation.privacy_membership',
        message: `"${membership.field}" must be the id of a ${membership.resource}.`,
      });
      return;
    }
    if (!caller.exempt && !caller.memberships.has(target)) {
      refused.push({
        field: membership.field,
        code: 'forbidden.privacy_membership',
        message: `You are not in ${membership.resource} ${target.slice(0, 64)}.`,
      });
    }
  }

  function checkPrivacy(record: Record<string, unknown>, problems: FieldProblem[]): void {
    const value = record[fields.privacy];
    if (value === undefined || value === null) record[fields.privacy] = fallback;
    else if (!isPrivacyLevel(value)) {
      problems.push({
        field: fields.privacy,
        code: 'validation.privacy',
        message: `"${fields.privacy}" must be one of ${PRIVACY_LEVELS.join(', ')}.`,
      });
    }
  }

  return {
    load(action) {
      const handler = function portcullisCrudPrivacy(req: Request, _res: Response, next: NextFunction) {
        loadCaller(req).then(() => next(), next);
      };
      const writes = action === 'create' || action === 'update';
      return describeGuard(handler, {
        ...(writes ? { 400: ['validation.fields'], 401: ['authentication.required'] } : {}),
        403: [
          'forbidden.membership_limit',
          ...(writes ? ['forbidden.privacy_owner', 'forbidden.privacy_membership'] : []),
        ],
      });
    },
    filter(req, action) {
      const kind =
        action === 'list' || action === 'read' || action === 'history' || action === 'create' ? 'read' : 'manage';
      let cached = filters.get(req);
      if (!cached) filters.set(req, (cached = {}));
      const hit = cached[kind];
      if (hit) return hit;
      const caller = callerOf(req);
      const filter =
        kind === 'read'
          ? readFilter(fields, fallback, caller, conditions)
          : manageFilter(fields, fallback, caller, conditions);
      cached[kind] = filter;
      return filter;
    },
    create(req, body) {
      const caller = callerOf(req);
      const record = { ...body };
      const owner = record[fields.owner];
      const problems: FieldProblem[] = [];
      const refused: FieldProblem[] = [];
      if (owner === undefined || owner === null) {
        if (caller.id === undefined) {
          throw new AuthenticationError('Authentication required.', { code: 'authentication.required' });
        }
        record[fields.owner] = caller.id;
      } else if (!caller.exempt && owner !== caller.id) {
        refused.push(
          ownerProblem(
            fields.owner,
            `You may create only records you own: leave out "${fields.owner}" or set it to your id.`,
          ),
        );
      }
      checkPrivacy(record, problems);
      if (source) checkTarget(source, caller, record[source.field], problems, refused);
      return { record, problems, refused };
    },
    update(req, current, next, mode) {
      const caller = callerOf(req);
      const record = { ...next };
      // A replacement that leaves out the owner keeps it: the owner is not the client's to drop.
      if (mode === 'put' && !Object.hasOwn(record, fields.owner) && Object.hasOwn(current, fields.owner)) {
        record[fields.owner] = current[fields.owner];
      }
      const problems: FieldProblem[] = [];
      const refused: FieldProblem[] = [];
      if (!caller.exempt && !isDeepStrictEqual(record[fields.owner], current[fields.owner])) {
        refused.push(ownerProblem(fields.owner, `Only an administrator may change "${fields.owner}".`));
      }
      checkPrivacy(record, problems);
      if (source && !isDeepStrictEqual(record[source.field], current[source.field])) {
        checkTarget(source, caller, record[source.field], problems, refused);
      }
      if (refused.length > 0) throw privacyRefusal(refused, problems);
      throwProblems(problems);
      return record;
    },
  };
}
