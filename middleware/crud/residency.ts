// Residency in the CRUD router: the store of the country a request names, and POST /:id/move.
import type { Request, Response } from 'express';
import type { RecordStore } from '../../src/contracts/records.js';
import { isResident, type ResidentRecords } from '../../src/contracts/residency.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../../src/errors.js';
import { and, toPredicate, type FilterNode } from '../../src/filter/index.js';
import { recordFilter } from './abac.js';
import { forbiddenUpdates, hiddenFields, permissionsOf } from './access.js';
import { refuseUndecryptable } from './undecryptable.js';
import { objectBody } from '../json-body.js';
import { checkIfMatch, etagOf } from './etag.js';
import { audit, rawQuery, scopeFor, type CrudState } from './state.js';

function countryProblem(field: string, code: string, message: string): ValidationError {
  return new ValidationError(message, { code, errors: [{ field, code, message }] });
}

/**
 * The country a request declares in the querystring parameter named after the country field (`?country=de`,
 * InCountry's `country` argument): undefined when absent, a 400 when given more than once.
 */
function declaredCountry(store: ResidentRecords, req: Request): string | undefined {
  const field = store.countryField;
  const values = new URLSearchParams(rawQuery(req)).getAll(field);
  if (values.length > 1) {
    throw countryProblem(field, 'residency.country_ambiguous', `Name one country in "${field}", not ${values.length}.`);
  }
  return values[0];
}

/**
 * The store a list, a search or a unique-values query reads: the one country its filters (querystring, path
 * filter, permissions) confine it to, or, on a route with `fanOut`, every country they name.
 */
export function storeForQuery(state: CrudState, where: FilterNode): RecordStore {
  const store = state.store;
  return isResident(store) ? store.forQuery(where, { fanOut: state.options.fanOut ?? false }) : store;
}

/** The store of one record's route (get, update, delete, restore, purge, history): the declared country's. */
export function storeForRecord(state: CrudState, req: Request): RecordStore {
  const store = state.store;
  return isResident(store) ? store.in(declaredCountry(store, req)) : store;
}

/**
 * An update keeps the record's country: changing it, or removing it with a merge-patch `null`, is a move, not
 * a write, since the country says which store holds the record. A replacement (PUT) that leaves the field out
 * keeps it, as before.
 */
export function checkCountryKept(
  state: CrudState,
  current: Record<string, unknown>,
  next: Record<string, unknown>,
  mode: 'patch' | 'put',
): void {
  const store = state.store;
  if (!isResident(store)) return;
  const field = store.countryField;
  if (next[field] === current[field] || (mode === 'put' && next[field] === undefined)) return;
  throw countryProblem(
    field,
    'residency.country_changed',
    `A record's "${field}" is where it is stored and cannot change by a write; move the record instead.`,
  );
}

/** The store a new record goes to: its country field's, else the declared country's (which it then gets). */
export function storeForCreate(state: CrudState, req: Request, body: Record<string, unknown>): RecordStore {
  const store = state.store;
  if (!isResident(store)) return store;
  const declared = declaredCountry(store, req);
  const own = body[store.countryField];
  if (declared !== undefined && own !== undefined && own !== declared) {
    throw countryProblem(
      store.countryField,
      'residency.country_mismatch',
      `The record's "${store.countryField}" differs from the country the request names.`,
    );
  }
  return store.in(own ?? declared);
}

/**
 * POST /:id/move?country=<from> with `{ "<country field>": "<to>" }`: the record is written to the new
 * country's store before it is deleted from the old one (`ResidentRecords.move`), under the `update` action:
 * the caller must be allowed to update the record and its country field, before and after the move.
 */
export function moveRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const store = state.store as ResidentRecords;
    const field = store.countryField;
    const id = String(req.params.id);
    const body = objectBody(req.body);
    const extra = Object.keys(body).filter((key) => key !== field);
    if (extra.length > 0 || body[field] === undefined) {
      throw new ValidationError(`The body names the new country and nothing else: {"${field}": "us"}.`, {
        code: 'validation.body',
        errors: [
          ...(body[field] === undefined ? [{ field, code: 'residency.country_required', message: 'is required' }] : []),
          ...extra.map((key) => ({
            field: key.slice(0, 64),
            code: 'validation.unknown_field',
            message: 'not accepted',
          })),
        ],
      });
    }
    const from = declaredCountry(store, req);
    const source = store.in(from);
    const to = body[field] as string;
    store.in(to);
    const permissions = permissionsOf(req);
    const forbidden = forbiddenUpdates(permissions, [field]);
    if (forbidden.length > 0) {
      throw new ForbiddenError(forbidden.map((p) => p.message).join(' '), {
        code: 'forbidden.update_field',
        errors: forbidden,
      });
    }
    const existing = await source.get(id, scopeFor(state, req, state.live, 'update'));
    if (!existing) {
      throw new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
    }
    refuseUndecryptable(state, hiddenFields(permissions), existing, 'moved');
    const conditional = checkIfMatch(req, existing._version);
    const inScope = toPredicate(
      and(state.compiler.permissionFilter(permissions?.filters), recordFilter(state, req, 'update')),
    );
    const now = new Date(state.now());
    const moved = await store.move(id, from!, to, {
      expectedVersion: existing._version,
      update(fields) {
        const next = { ...fields, [field]: to, ...(state.timestamps ? { updatedAt: now } : {}) };
        if (!inScope({ ...next, [state.compiler.idField]: id })) {
          throw new ForbiddenError('The record would fall outside the records you may access.', {
            code: 'forbidden.record_scope',
          });
        }
        return next;
      },
    });
    if (!moved) {
      if (conditional) throw new PreconditionFailedError('The record has changed since you read it; fetch it again.');
      throw new ConflictError('The record changed while it was being moved; try again.', {
        code: 'conflict.concurrent_update',
      });
    }
    // Country codes only: the event says where the record went, never what it holds.
    audit(req, state, { action: 'MOVE', resourceId: id, before: { [field]: from }, after: { [field]: to } });
    res.setHeader('ETag', etagOf(moved._version));
    res.setHeader('Location', `${req.baseUrl}/${encodeURIComponent(id)}?${field}=${encodeURIComponent(to)}`);
    res.json(state.present(req, moved));
  };
}
