// Write routes: create, update (PATCH merge / PUT replace), delete (trash or forced), restore and purge.
import type { Request, Response } from 'express';
import { DELETED_FIELD, VERSION_FIELD, type RecordStore, type StoredRecord } from '../../src/contracts/records.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  type FieldProblem,
} from '../../src/errors.js';
import { and, toPredicate } from '../../src/filter/index.js';
import { recordFilter } from './abac.js';
import { forbiddenUpdates, hiddenFields, isHidden, permissionsOf } from './access.js';
import { leafPaths, mergePatch, runValidators, throwProblems, unsafeKeys } from './body.js';
import { objectBody } from '../json-body.js';
import { checkIfMatch, etagOf } from './etag.js';
import { checkCountryKept, storeForCreate, storeForRecord } from './residency.js';
import { refuseUndecryptable } from './undecryptable.js';
import { privacyRefusal } from './privacy.js';
import { audit, rawQuery, scopeFor, type CrudState } from './state.js';

const ATTEMPTS = 3;

function serverFields(state: CrudState): Set<string> {
  const fields = new Set(['id', '_id', VERSION_FIELD, DELETED_FIELD, 'deletedAt']);
  if (state.timestamps) {
    fields.add('createdAt');
    fields.add('updatedAt');
  }
  return fields;
}

/** The record's own fields: no id, version or trash marker. */
export function fieldsOf(record: StoredRecord): Record<string, unknown> {
  const { id: _id, [VERSION_FIELD]: _version, [DELETED_FIELD]: _deleted, ...fields } = record;
  return fields;
}

function withoutTimestamps(fields: Record<string, unknown>): Record<string, unknown> {
  const { createdAt: _c, updatedAt: _u, ...rest } = fields;
  return rest;
}

/** Paths whose values differ between two versions of a record. */
function changedPaths(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const paths = new Set([...leafPaths(before), ...leafPaths(after)]);
  const read = (record: Record<string, unknown>, path: string) => {
    let current: unknown = record;
    for (const segment of path.split('.'))
      current =
        typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    return JSON.stringify(current);
  };
  return [...paths].filter((path) => read(before, path) !== read(after, path));
}

function topLevel(record: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const key = path.split('.')[0]!;
    if (Object.hasOwn(record, key)) out[key] = record[key];
    else out[key] = null;
  }
  return out;
}

/** Problems with the keys of a body: unsafe names, server-managed fields, fields hidden from the caller. */
function bodyProblems(state: CrudState, body: Record<string, unknown>, hidden: ReadonlySet<string>): FieldProblem[] {
  const problems = unsafeKeys(body);
  if (problems.length > 0) return problems;
  const reserved = serverFields(state);
  for (const path of leafPaths(body)) {
    const top = path.split('.')[0]!;
    if (reserved.has(top)) {
      problems.push({ field: path, code: 'validation.server_field', message: `"${path}" is set by the server.` });
    } else if (isHidden(hidden, path)) {
      // Exactly what an unknown field gets: hidden fields stay invisible.
      problems.push({
        field: path,
        code: 'validation.unknown_field',
        message: `"${path}" is not a field of this resource.`,
      });
    }
  }
  return problems;
}

/**
 * An update is checked on the whole record, so a rule on a field the caller cannot see may fail; it is
 * reported without the field's name or the validator's message, which could quote the hidden value.
 */
function withoutHiddenNames(problems: FieldProblem[], hidden: ReadonlySet<string>): FieldProblem[] {
  const visible = problems.filter((problem) => !isHidden(hidden, problem.field));
  if (visible.length === problems.length) return problems;
  visible.push({
    field: '(record)',
    code: 'validation.hidden_field',
    message: 'The record would break a rule on a field you cannot see.',
  });
  return visible;
}

export function outsideScope(): ForbiddenError {
  return new ForbiddenError('The record would fall outside the records you may access.', {
    code: 'forbidden.record_scope',
  });
}

function notFound(state: CrudState, id: string): NotFoundError {
  return new NotFoundError(`No ${state.resource} record ${id.slice(0, 64)}.`, { code: 'not_found.record' });
}

/**
 * A new record as the create and batch routes check it: the body's keys, the privacy fields (owner set to
 * the caller), the validators and the store's schema, every problem at once; else the record to store, with
 * its timestamps (`now`).
 */
export async function checkNewRecord(
  state: CrudState,
  req: Request,
  input: Record<string, unknown>,
  hidden: ReadonlySet<string>,
  now: Date,
  store: RecordStore = state.store,
): Promise<{ problems: FieldProblem[]; refused: FieldProblem[]; record: Record<string, unknown> }> {
  const problems = bodyProblems(state, input, hidden);
  // Keys that are not fields (or operators) are checked first: the privacy rule reads only well-formed bodies.
  if (problems.length > 0) return { problems, refused: [], record: {} };
  let body = input;
  let refused: FieldProblem[] = [];
  if (state.privacy) {
    const owned = state.privacy.create(req, input);
    body = owned.record;
    refused = owned.refused;
    problems.push(...owned.problems);
  }
  problems.push(...(await runValidators(state.options.validators, body, undefined)));
  const prepared = await store.prepare(body);
  problems.push(...prepared.problems.filter((p) => !problems.some((q) => q.field === p.field)));
  const record = state.timestamps ? { ...prepared.record, createdAt: now, updatedAt: now } : prepared.record;
  // A required or validated field the caller cannot see fails without its name, as on updates.
  return { problems: withoutHiddenNames(problems, hidden), refused, record };
}

/** Whether a new record falls inside the records the caller may create: permission filters and ABAC guard. */
export function creatable(state: CrudState, req: Request): (record: Record<string, unknown>, id: string) => boolean {
  const inScope = toPredicate(
    and(state.compiler.permissionFilter(permissionsOf(req)?.filters), recordFilter(state, req, 'create')),
  );
  return (record, id) => inScope({ ...record, [state.compiler.idField]: id });
}

export function createRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const body = objectBody(req.body);
    const store = storeForCreate(state, req, body);
    const { problems, refused, record } = await checkNewRecord(
      state,
      req,
      body,
      hiddenFields(permissionsOf(req)),
      new Date(state.now()),
      store,
    );
    if (refused.length > 0) throw privacyRefusal(refused, problems);
    throwProblems(problems);
    const id = store.newId();
    if (!creatable(state, req)(record, id)) throw outsideScope();
    const created = await store.insert(id, record);
    audit(req, state, { action: 'CREATE', resourceId: id, after: fieldsOf(created) });
    res.status(201);
    res.setHeader('Location', `${req.baseUrl}/${encodeURIComponent(id)}`);
    res.setHeader('ETag', etagOf(created._version));
    res.json(state.present(req, created));
  };
}

/** PATCH merges (RFC 7386), PUT replaces; both at the read version, retried when a concurrent write wins. */
export function updateRoute(state: CrudState, mode: 'patch' | 'put') {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const body = objectBody(req.body);
    const permissions = permissionsOf(req);
    const hidden = hiddenFields(permissions);
    throwProblems(bodyProblems(state, body, hidden));
    if (mode === 'patch') {
      const forbidden = forbiddenUpdates(permissions, leafPaths(body));
      if (forbidden.length > 0)
        throw new ForbiddenError(forbidden.map((p) => p.message).join(' '), {
          code: 'forbidden.update_field',
          errors: forbidden,
        });
    }
    const store = storeForRecord(state, req);
    const scope = scopeFor(state, req, state.live, 'update');
    const inScope = toPredicate(
      and(state.compiler.permissionFilter(permissions?.filters), recordFilter(state, req, 'update')),
    );
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const existing = await store.get(id, scope);
      if (!existing) throw notFound(state, id);
      refuseUndecryptable(state, hidden, existing, 'updated');
      const conditional = checkIfMatch(req, existing._version);
      const current = withoutTimestamps(fieldsOf(existing));
      let next: Record<string, unknown>;
      if (mode === 'patch') {
        next = mergePatch(current, body);
      } else {
        next = { ...body };
        // Fields the caller cannot see survive a replacement untouched.
        for (const field of hidden) if (Object.hasOwn(current, field)) next[field] = current[field];
        const forbidden = forbiddenUpdates(permissions, changedPaths(current, next));
        if (forbidden.length > 0)
          throw new ForbiddenError(forbidden.map((p) => p.message).join(' '), {
            code: 'forbidden.update_field',
            errors: forbidden,
          });
      }
      checkCountryKept(state, current, next, mode);
      if (state.privacy) next = state.privacy.update(req, current, next, mode);
      // Validated on the merge of the version read here; `replace` below is conditional on that version, so
      // the state validated is the state stored (a concurrent write makes it fail and the loop re-reads).
      const problems = await runValidators(state.options.validators, next, fieldsOf(existing));
      const prepared = await store.prepare(next);
      problems.push(...prepared.problems.filter((p) => !problems.some((q) => q.field === p.field)));
      throwProblems(withoutHiddenNames(problems, hidden));
      const record: Record<string, unknown> = { ...prepared.record };
      if (state.timestamps) {
        if (existing.createdAt !== undefined) record.createdAt = existing.createdAt;
        record.updatedAt = new Date(state.now());
      }
      if (!inScope({ ...record, [state.compiler.idField]: id })) throw outsideScope();
      const updated = await store.replace(id, existing._version, record);
      if (updated) {
        const changed = changedPaths(fieldsOf(existing), fieldsOf(updated)).filter((path) => path !== 'updatedAt');
        audit(req, state, {
          action: 'UPDATE',
          resourceId: id,
          before: topLevel(fieldsOf(existing), changed),
          after: topLevel(fieldsOf(updated), changed),
        });
        res.setHeader('ETag', etagOf(updated._version));
        res.json(state.present(req, updated));
        return;
      }
      if (conditional) throw new PreconditionFailedError('The record has changed since you read it; fetch it again.');
    }
    throw new ConflictError('The record is being changed by others; try again.', {
      code: 'conflict.concurrent_update',
    });
  };
}

function forceRequested(req: Request): boolean {
  const value = new URLSearchParams(rawQuery(req)).get('force');
  return value === 'true' || value === '1';
}

/** DELETE /:id — to the trash, or for good with `?force=true` (which also needs the `purge` action). */
export function deleteRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const force = forceRequested(req) || !state.softDelete;
    if (force && state.softDelete) await state.authorizeInline('purge', req, res);
    const store = storeForRecord(state, req);
    const scope = scopeFor(state, req, state.live, 'delete');
    const existing = await store.get(
      id,
      force && state.softDelete ? and(scope, recordFilter(state, req, 'purge')) : scope,
    );
    if (!existing) throw notFound(state, id);
    const conditional = checkIfMatch(req, existing._version);
    const done = force
      ? await store.remove(id, existing._version)
      : (await store.replace(id, existing._version, {
          ...fieldsOf(existing),
          [DELETED_FIELD]: new Date(state.now()),
        })) !== undefined;
    if (!done) {
      if (conditional) throw new PreconditionFailedError('The record has changed since you read it; fetch it again.');
      throw new ConflictError('The record changed while it was being deleted; try again.', {
        code: 'conflict.concurrent_update',
      });
    }
    if (force) await state.purgeFiles?.(id);
    audit(req, state, {
      action: 'DELETE',
      resourceId: id,
      before: fieldsOf(existing),
      ...(force ? {} : { after: { trashed: true } }),
    });
    res.status(204).end();
  };
}

/** POST /trash/:id/restore — back from the trash. */
export function restoreRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const store = storeForRecord(state, req);
    const existing = await store.get(id, scopeFor(state, req, state.trashed, 'restore'));
    if (!existing) throw notFound(state, id);
    checkIfMatch(req, existing._version);
    const record = { ...fieldsOf(existing) };
    if (state.timestamps) record.updatedAt = new Date(state.now());
    const restored = await store.replace(id, existing._version, record);
    if (!restored)
      throw new ConflictError('The record changed while it was being restored; try again.', {
        code: 'conflict.concurrent_update',
      });
    audit(req, state, { action: 'RESTORE', resourceId: id });
    res.setHeader('ETag', etagOf(restored._version));
    res.json(state.present(req, restored));
  };
}

/** DELETE /trash/:id — purges a trashed record for good. */
export function purgeRoute(state: CrudState) {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const store = storeForRecord(state, req);
    const existing = await store.get(id, scopeFor(state, req, state.trashed, 'purge'));
    if (!existing) throw notFound(state, id);
    checkIfMatch(req, existing._version);
    if (!(await store.remove(id, existing._version))) {
      throw new ConflictError('The record changed while it was being purged; try again.', {
        code: 'conflict.concurrent_update',
      });
    }
    await state.purgeFiles?.(id);
    audit(req, state, { action: 'PURGE', resourceId: id, before: fieldsOf(existing) });
    res.status(204).end();
  };
}
