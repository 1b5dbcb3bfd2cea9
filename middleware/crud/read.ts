// Read routes: list (with path filters), get by id, unique values, search by key, history.
import { isDeepStrictEqual } from 'node:util';
import type { Request, Response } from 'express';
import { DECRYPTION_ERROR_FIELD, type StoredRecord } from '../../src/contracts/records.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { and, matchAll, type FilterNode } from '../../src/filter/index.js';
import { contextOf } from '../context.js';
import { permissionsOf } from './access.js';
import { etagOf } from './etag.js';
import { recordFilter } from './abac.js';
import { storeForQuery, storeForRecord } from './residency.js';
import { audit, cursorView, rawQuery, scopeFor, type CrudState } from './state.js';

export type PathFilterOf = (req: Request) => Record<string, string> | undefined;

/** GET / (and path-filtered lists): items, a next cursor (or offset) and, with `count=true`, the total. */
export function listRoute(state: CrudState, scope: FilterNode, pathFilterOf?: PathFilterOf) {
  return async (req: Request, res: Response) => {
    const permissions = permissionsOf(req);
    const view = state.view(req);
    const pathFilters = pathFilterOf?.(req);
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: view.hidden,
      maskedFields: view.masked,
      ...(pathFilters ? { pathFilters } : {}),
      ...(permissions ? { filters: permissions.filters } : {}),
      where: and(scope, recordFilter(state, req, 'list')),
      view: cursorView(req, view.fingerprint),
    });
    contextOf(req).query = query;
    const store = storeForQuery(state, query.where);
    const found = await store.find({
      where: query.page,
      sort: query.sortKeys,
      limit: query.limit + 1,
      ...(query.offset ? { skip: query.offset } : {}),
      ...omitFor(view.hidden),
    });
    const more = found.length > query.limit;
    const page = more ? found.slice(0, query.limit) : found;
    const nextCursor = more && query.offset === undefined ? query.nextCursor(page.at(-1)!) : null;
    const body: Record<string, unknown> = {
      items: page.map((record) => state.present(req, record, query.projection)),
      nextCursor,
    };
    const errors = decryptionErrors(page);
    if (errors.length > 0) body.errors = errors;
    if (query.offset !== undefined) body.nextOffset = more ? query.offset + query.limit : null;
    if (query.count) body.count = await store.count(query.where);
    audit(req, state, { action: 'LIST' });
    res.json(body);
  };
}

/**
 * Records of a page that could not be decrypted, beside the items as InCountry lists them: the id and the
 * problem's code, never plaintext or key material.
 */
function decryptionErrors(page: readonly StoredRecord[]): { id: string; code: string; message: string }[] {
  const errors: { id: string; code: string; message: string }[] = [];
  for (const record of page) {
    const code = record[DECRYPTION_ERROR_FIELD];
    if (code === undefined) continue;
    errors.push({
      id: record.id,
      code: String(code),
      message: 'The record cannot be decrypted with the configured keys; its encrypted fields are null.',
    });
  }
  return errors;
}

/** The store may leave out hidden fields: none can be a sort key (the next cursor is built from those). */
function omitFor(hidden: ReadonlySet<string>): { omit?: string[] } {
  return hidden.size === 0 ? {} : { omit: [...hidden] };
}

export function getRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const record = await storeForRecord(state, req).get(id, scopeFor(state, req, state.live, 'read'));
    if (!record)
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    audit(req, state, { action: 'GET', resourceId: id });
    res.setHeader('ETag', etagOf(record._version));
    res.json(state.present(req, record));
  };
}

function unknownField(field: string): ValidationError {
  return new ValidationError(`Cannot list values of unknown field "${field.slice(0, 64)}".`, {
    code: 'filter.unknown_field',
    errors: [{ field: 'field', code: 'filter.unknown_field', message: `Unknown field "${field.slice(0, 64)}".` }],
  });
}

/** GET /unique/:field — the distinct values of a field among the records the caller may see (scoutr). */
export function uniqueRoute(state: CrudState) {
  const limit = state.options.maxUniqueValues ?? 1000;
  return async (req: Request, res: Response) => {
    const field = String(req.params.field);
    const permissions = permissionsOf(req);
    const view = state.view(req);
    const spec = field === state.compiler.idField ? undefined : state.compiler.schema.field(field);
    // A field the caller may not read in clear is refused exactly like one that does not exist.
    if (!spec || !spec.filterable || view.unreadable.has(field)) throw unknownField(field);
    if (state.blindIndex?.isEncrypted(field)) {
      throw new ValidationError(`The field "${field}" is encrypted; its values cannot be listed.`, {
        code: 'filter.encrypted_field',
      });
    }
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: view.hidden,
      maskedFields: view.masked,
      ...(permissions ? { filters: permissions.filters } : {}),
      where: and(state.live, recordFilter(state, req, 'list')),
    });
    // Only fields the caller reads in clear get here: their values need no masking.
    const values = await storeForQuery(state, query.where).distinct(field, query.where, limit);
    audit(req, state, { action: 'LIST', after: { unique: field } });
    res.json({ field, values });
  };
}

/** POST /search/:key with a JSON list of values: records whose key is any of them, queried in chunks. */
export function searchRoute(state: CrudState) {
  const maxValues = state.options.maxSearchValues ?? 10_000;
  const chunkSize = state.options.searchChunkSize ?? 500;
  return async (req: Request, res: Response) => {
    const key = String(req.params.key);
    const values: unknown = req.body;
    if (!Array.isArray(values) || values.length === 0) {
      throw new ValidationError('The request body must be a non-empty JSON list of values.', {
        code: 'validation.body',
        errors: [{ field: 'body', message: 'must be a non-empty JSON list' }],
      });
    }
    if (values.length > maxValues) {
      throw new ValidationError(`Search at most ${maxValues} values at once.`, {
        code: 'filter.too_large',
        errors: [{ field: 'body', message: `has ${values.length} values; the limit is ${maxValues}` }],
      });
    }
    const permissions = permissionsOf(req);
    const view = state.view(req);
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: view.hidden,
      maskedFields: view.masked,
      ...(permissions ? { filters: permissions.filters } : {}),
      where: and(state.live, recordFilter(state, req, 'list')),
    });
    // Validate every value before the first query, so a bad value never leaves a partial answer.
    const unique = [...new Set(values)];
    const conditions: FilterNode[] = [];
    for (let start = 0; start < unique.length; start += chunkSize) {
      conditions.push(state.compiler.valuesCondition(key, unique.slice(start, start + chunkSize), view.unreadable));
    }
    const items: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let truncated = false;
    for (const condition of conditions) {
      const room = maxValues - items.length;
      const where = and(query.where, condition);
      const found = await storeForQuery(state, where).find({
        where,
        sort: query.sortKeys,
        limit: room + 1,
        ...omitFor(view.hidden),
      });
      for (const record of found) {
        if (seen.has(record.id)) continue;
        if (items.length >= maxValues) {
          truncated = true;
          break;
        }
        seen.add(record.id);
        items.push(state.present(req, record, query.projection));
      }
      if (truncated) break;
    }
    audit(req, state, { action: 'SEARCH', after: { key, values: unique.length } });
    res.json({ items, truncated });
  };
}

/** GET /:id/history — the audit trail of one record the caller may see (live or in the trash), in its view. */
export function historyRoute(state: CrudState, history: (resource: string, id: string) => Promise<unknown[]>) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const record = await storeForRecord(state, req).get(id, scopeFor(state, req, matchAll, 'read'));
    if (!record)
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    const entries = await history(state.resource, id);
    audit(req, state, { action: 'GET', resourceId: id });
    res.json({ items: historyInView(state, req, entries) });
  };
}

/** Who made a change, as a caller may see it: staff members' keys, addresses and agents only to admins. */
const PUBLIC_USER_FIELDS = ['id', 'kind', 'name'] as const;

function userInView(req: Request, user: unknown): unknown {
  if (typeof user !== 'object' || user === null) return user;
  const principal = contextOf(req).principal;
  const permissions = permissionsOf(req);
  const own = principal !== undefined && (user as { id?: unknown }).id === principal.id;
  // Without authenticate() the router is open and has no caller to protect others from.
  if (!permissions || permissions.allEndpoints || own) return user;
  const shown: Record<string, unknown> = {};
  for (const key of PUBLIC_USER_FIELDS)
    if (Object.hasOwn(user, key)) shown[key] = (user as Record<string, unknown>)[key];
  return shown;
}

/**
 * Each past state through the caller's view (hidden fields gone, masked ones masked); a change the caller
 * cannot see (one that touched only fields hidden from it, and the update time) is left out, so the trail
 * tells neither when a hidden field changed nor how long it was.
 */
function historyInView(state: CrudState, req: Request, entries: readonly unknown[]): unknown[] {
  const shown: unknown[] = [];
  const unreadable = state.view(req).unreadable;
  // Entries come newest first: compare each with the older one after it.
  const views = entries.map((entry): { entry: Record<string, unknown> | undefined; state: unknown } => {
    if (typeof entry !== 'object' || entry === null) return { entry: undefined, state: undefined };
    const past = (entry as { state?: unknown }).state;
    const presented = typeof past === 'object' && past !== null ? state.present(req, past as StoredRecord) : past;
    return { entry: entry as Record<string, unknown>, state: presented };
  });
  for (let index = 0; index < views.length; index++) {
    const { entry, state: presented } = views[index]!;
    if (!entry) continue;
    // The oldest update of a record created outside the router folds into a state of its changes alone.
    const older = index + 1 < views.length ? views[index + 1]!.state : {};
    if (entry.action === 'UPDATE') {
      if (sameApartFromUpdateTime(presented, older)) continue;
      // A change only to fields the caller reads masked or not at all is no change it may see: the trail holds
      // them masked for everyone, so their masked forms would differ or agree by accident of the masking.
      const olderRaw = index + 1 < views.length ? views[index + 1]!.entry?.state : {};
      const changed = changedKeys(entry.state, olderRaw);
      if (changed.every((key) => unreadable.has(key))) continue;
    }
    shown.push({
      ...entry,
      ...(entry.user !== undefined ? { user: userInView(req, entry.user) } : {}),
      state: presented,
    });
  }
  return shown;
}

/** Top-level keys whose values differ between two states, the update time aside. */
function changedKeys(a: unknown, b: unknown): string[] {
  const left = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
  const right = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  keys.delete('updatedAt');
  return [...keys].filter((key) => !isDeepStrictEqual(left[key], right[key]));
}

function sameApartFromUpdateTime(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  const { updatedAt: _a, ...restA } = a as Record<string, unknown>;
  const { updatedAt: _b, ...restB } = b as Record<string, unknown>;
  return isDeepStrictEqual(restA, restB);
}
