// What every CRUD handler shares: the store, the compiled query language, options and helpers.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DELETED_FIELD, type RecordStore } from '../../src/contracts/records.js';
import {
  and,
  compileSchema,
  createQueryCompiler,
  matchAll,
  type FilterNode,
  type QueryCompiler,
  type SchemaInput,
} from '../../src/filter/index.js';
import type { Clock } from '../../src/clock.js';
import type { BlindIndexer } from '../../src/pii/blind-index.js';
import { systemClock } from '../../src/clock.js';
import { contextOf } from '../context.js';
import { permissionsOf } from './access.js';
import type { CrudAction } from '../../src/auth/scopes.js';
import { scopeDenial } from '../authorize-endpoint.js';
import { crudScopes, type CrudRouterOptions } from './options.js';
import { recordFilter } from './abac.js';
import { createPrivacy, type CrudPrivacy } from './privacy.js';
import { createPresenter, type Presenter } from './present.js';
import { createVisibilityModel, type Visibility, type VisibilityModel } from '../../src/pii/visibility.js';

export interface CrudState {
  options: CrudRouterOptions;
  resource: string;
  store: RecordStore;
  /** Blind indexes of encrypted fields: the option, else the store's. */
  blindIndex: BlindIndexer | undefined;
  compiler: QueryCompiler;
  present: Presenter;
  /** The caller's view of every field (clear, masked, hidden), decided once per request. */
  view(req: Request): Visibility;
  /** Views by what decides them (excluded fields, unmask grant): `view` asks it once per request. */
  visibility: VisibilityModel;
  timestamps: boolean;
  softDelete: boolean;
  /** Set by the attachments: deletes the files of a record deleted for good. */
  purgeFiles?: (id: string) => Promise<void>;
  now: Clock;
  /** Live (not trashed) records. */
  live: FilterNode;
  /** Trashed records. */
  trashed: FilterNode;
  /** The credential scope each action needs (`undefined`: none). */
  scopes: Readonly<Record<CrudAction, string | undefined>>;
  /** Record-level privacy, when the `privacy` option is given. */
  privacy: CrudPrivacy | undefined;
  /** Runs the scope check and the authorize guard of `action`, when one is configured, inside a handler. */
  authorizeInline(action: CrudAction, req: Request, res: Response): Promise<void>;
}

export const liveNode: FilterNode = { kind: 'cond', op: 'null', field: DELETED_FIELD, value: true };
export const trashedNode: FilterNode = { kind: 'cond', op: 'null', field: DELETED_FIELD, value: false };

export function createState(options: CrudRouterOptions, now: Clock = systemClock): CrudState {
  const store = options.store;
  const blindIndex = options.blindIndex ?? store.blindIndex;
  const timestamps = options.timestamps ?? true;
  // The query schema: the store's fields, plus the timestamps the router maintains.
  const fields: SchemaInput = {};
  for (const field of store.schema.fields.values()) fields[field.path] = field.spec;
  if (timestamps) {
    fields.createdAt ??= 'date';
    fields.updatedAt ??= 'date';
  }
  const compiler = createQueryCompiler({
    schema: compileSchema(fields),
    idType: store.idType,
    resource: options.resource,
    ...(options.defaultLimit !== undefined ? { defaultLimit: options.defaultLimit } : {}),
    ...(options.maxLimit !== undefined ? { maxLimit: options.maxLimit } : {}),
    ...(options.allowOffset !== undefined ? { allowOffset: options.allowOffset } : {}),
    ...(options.maxOffset !== undefined ? { maxOffset: options.maxOffset } : {}),
    ...(options.cursorSecret !== undefined ? { cursorSecret: options.cursorSecret } : {}),
    ...(blindIndex ? { blindIndex } : {}),
  });
  const guards = new Map<string, RequestHandler>();
  const scopes = crudScopes(options);
  const visibility = createVisibilityModel({
    schema: compiler.schema,
    masker: options.masker,
    idField: compiler.idField,
  });
  const views = new WeakMap<Request, Visibility>();
  const view = (req: Request): Visibility => {
    let found = views.get(req);
    if (!found) {
      found = visibility.of(permissionsOf(req)?.excludeFields, options.unmask?.(req));
      views.set(req, found);
    }
    return found;
  };
  return {
    options,
    resource: options.resource,
    store,
    blindIndex,
    compiler,
    present: createPresenter(options.masker, view, blindIndex && ((field) => blindIndex.isEncrypted(field))),
    view,
    visibility,
    timestamps,
    softDelete: options.softDelete ?? true,
    now,
    live: liveNode,
    trashed: trashedNode,
    scopes,
    privacy: createPrivacy(options.privacy, store, compiler, blindIndex),
    async authorizeInline(action, req, res) {
      const scope = scopes[action];
      const denial = scope === undefined ? undefined : scopeDenial(req, scope);
      if (denial) throw denial;
      if (!options.authorize) return;
      let guard = guards.get(action);
      if (!guard) {
        guard = options.authorize(`${options.resource}:${action}`);
        guards.set(action, guard);
      }
      await new Promise<void>((resolve, reject) => {
        const next: NextFunction = (error?: unknown) => (error ? reject(error) : resolve());
        void Promise.resolve(guard(req, res, next)).catch(reject);
      });
    },
  };
}

/** The caller's record filter AND `scope` (live or trashed records) AND the records the guard allows `action` on. */
export function scopeFor(state: CrudState, req: Request, scope: FilterNode, action: CrudAction): FilterNode {
  return and(state.compiler.permissionFilter(permissionsOf(req)?.filters), scope, recordFilter(state, req, action));
}

/**
 * The caller's view that list cursors are bound to: who asks and how each field shows to them (a
 * `Visibility` fingerprint, or the hidden fields), so a cursor handed to someone else, or kept after the
 * caller's permissions or unmask grant changed, is refused.
 */
export function cursorView(req: Request, fingerprint: string): string {
  const principal = contextOf(req).principal;
  const who = principal ? `${principal.kind}:${principal.id}` : 'anonymous';
  return `${who}\n${fingerprint}`;
}

/** The raw querystring, read from the URL so the app's query parser (simple or qs) does not matter. */
export function rawQuery(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

/** Fills the audit draft when `auditTrail()` is mounted. */
export function audit(
  req: Request,
  state: CrudState,
  fields: { action: string; resourceId?: string; before?: Record<string, unknown>; after?: Record<string, unknown> },
): void {
  const draft = contextOf(req).audit;
  if (!draft) return;
  draft.action = fields.action;
  draft.resource = state.resource;
  if (fields.resourceId !== undefined) draft.resourceId = fields.resourceId;
  if (fields.before !== undefined) draft.before = fields.before;
  if (fields.after !== undefined) draft.after = fields.after;
}

export { matchAll };
