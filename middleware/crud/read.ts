// Read routes: list (with path filters), get by id, unique values, search by key, history.
import type { Request, Response } from 'express';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { and, matchAll, type FilterNode } from '../../src/filter/index.js';
import { contextOf } from '../context.js';
import { isHidden, permissionsOf, hiddenFields } from './access.js';
import { etagOf } from './etag.js';
import { audit, cursorView, rawQuery, scopeFor, type CrudState } from './state.js';

export type PathFilterOf = (req: Request) => Record<string, string> | undefined;

/** GET / (and path-filtered lists): items, a next cursor (or offset) and, with `count=true`, the total. */
export function listRoute(state: CrudState, scope: FilterNode, pathFilterOf?: PathFilterOf) {
  return async (req: Request, res: Response) => {
    const permissions = permissionsOf(req);
    const hidden = hiddenFields(permissions);
    const pathFilters = pathFilterOf?.(req);
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: hidden,
      ...(pathFilters ? { pathFilters } : {}),
      ...(permissions ? { filters: permissions.filters } : {}),
      where: scope,
      view: cursorView(req, hidden),
    });
    contextOf(req).query = query;
    const found = await state.store.find({
      where: query.page,
      sort: query.sortKeys,
      limit: query.limit + 1,
      ...(query.offset ? { skip: query.offset } : {}),
      ...omitFor(hidden, query.sortKeys),
    });
    const more = found.length > query.limit;
    const page = more ? found.slice(0, query.limit) : found;
    // The cursor first: presenting masks and trims the store's records in place.
    const nextCursor = more && query.offset === undefined ? query.nextCursor(page.at(-1)!) : null;
    const body: Record<string, unknown> = {
      items: page.map((record) => state.present(req, record, hidden, query.projection, true)),
      nextCursor,
    };
    if (query.offset !== undefined) body.nextOffset = more ? query.offset + query.limit : null;
    if (query.count) body.count = await state.store.count(query.where);
    audit(req, state, { action: 'LIST' });
    res.json(body);
  };
}

/** The store may leave out hidden fields, except sort keys (the next cursor is built from them). */
function omitFor(hidden: ReadonlySet<string>, sort: readonly { field: string }[]): { omit?: string[] } {
  if (hidden.size === 0) return {};
  const omit = [...hidden].filter((field) => !sort.some((key) => key.field === field));
  return omit.length > 0 ? { omit } : {};
}

export function getRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const record = await state.store.get(id, scopeFor(state, req, state.live));
    if (!record)
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    audit(req, state, { action: 'GET', resourceId: id });
    res.setHeader('ETag', etagOf(record._version));
    res.json(state.present(req, record, hiddenFields(permissionsOf(req)), undefined, true));
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
    const hidden = hiddenFields(permissions);
    const spec = field === state.compiler.idField ? undefined : state.compiler.schema.field(field);
    if (!spec || !spec.filterable || isHidden(hidden, field)) throw unknownField(field);
    if ((state.options.blindIndex ?? state.options.encryption)?.isEncrypted(field)) {
      throw new ValidationError(`The field "${field}" is encrypted; its values cannot be listed.`, {
        code: 'filter.encrypted_field',
      });
    }
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: hidden,
      ...(permissions ? { filters: permissions.filters } : {}),
      where: state.live,
    });
    let values = await state.store.distinct(field, query.where, limit);
    if (state.options.masker) {
      const masker = state.options.masker;
      const grant = state.options.unmask?.(req);
      values = values.map((value) => {
        const masked = masker.mask({ [field]: value }, grant) as Record<string, unknown>;
        return masked[field];
      });
    }
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
    const hidden = hiddenFields(permissions);
    const query = state.compiler.compile(rawQuery(req), {
      hiddenFields: hidden,
      ...(permissions ? { filters: permissions.filters } : {}),
      where: state.live,
    });
    // Validate every value before the first query, so a bad value never leaves a partial answer.
    const unique = [...new Set(values)];
    const conditions: FilterNode[] = [];
    for (let start = 0; start < unique.length; start += chunkSize) {
      conditions.push(state.compiler.valuesCondition(key, unique.slice(start, start + chunkSize), hidden));
    }
    const items: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let truncated = false;
    for (const condition of conditions) {
      const room = maxValues - items.length;
      const found = await state.store.find({
        where: and(query.where, condition),
        sort: query.sortKeys,
        limit: room + 1,
        ...omitFor(hidden, query.sortKeys),
      });
      for (const record of found) {
        if (seen.has(record.id)) continue;
        if (items.length >= maxValues) {
          truncated = true;
          break;
        }
        seen.add(record.id);
        items.push(state.present(req, record, hidden, query.projection));
      }
      if (truncated) break;
    }
    audit(req, state, { action: 'SEARCH', after: { key, values: unique.length } });
    res.json({ items, truncated });
  };
}

/** GET /:id/history — the audit trail of one record the caller may see (live or in the trash). */
export function historyRoute(state: CrudState, history: (resource: string, id: string) => Promise<unknown[]>) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const record = await state.store.get(id, scopeFor(state, req, matchAll));
    if (!record)
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    const items = await history(state.resource, id);
    audit(req, state, { action: 'GET', resourceId: id });
    res.json({ items });
  };
}
