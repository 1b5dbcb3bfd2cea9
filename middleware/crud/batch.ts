// POST /batch: creates several records all or nothing, after checking every one (InCountry's batch_write).
import type { Request, Response } from 'express';
import type { NewRecord, RecordStore } from '../../src/contracts/records.js';
import { ForbiddenError, ValidationError, type FieldProblem } from '../../src/errors.js';
import { contextOf } from '../context.js';
import { hiddenFields, permissionsOf } from './access.js';
import { throwProblems } from './body.js';
import { privacyRefusal } from './privacy.js';
import { storeForCreate } from './residency.js';
import type { CrudState } from './state.js';
import { checkNewRecord, creatable, fieldsOf } from './write.js';

/** Default of `maxBatchRecords` (and `BATCH_MAX_RECORDS`): InCountry's own limit per request. */
export const DEFAULT_MAX_BATCH_RECORDS = 100;

function batchProblem(message: string, code = 'validation.batch'): ValidationError {
  return new ValidationError(message, { code, errors: [{ field: 'records', code, message }] });
}

/** The body's `records`: a non-empty list of at most `max` items, or a 400 naming what is wrong. */
function recordsOf(body: unknown, max: number): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw batchProblem('The request body must be a JSON object with a "records" list.', 'validation.body');
  }
  const unknownKeys = Object.keys(body).filter((key) => key !== 'records');
  if (unknownKeys.length > 0) {
    throw new ValidationError('The batch body has only a "records" list.', {
      code: 'validation.body',
      errors: unknownKeys.slice(0, 20).map((key) => ({
        field: key.slice(0, 128),
        code: 'validation.unknown_field',
        message: `"${key.slice(0, 128)}" is not a field of a batch; put the records in "records".`,
      })),
    });
  }
  const records = (body as { records?: unknown }).records;
  if (!Array.isArray(records)) throw batchProblem('"records" must be a list of records.');
  if (records.length === 0) throw batchProblem('"records" is empty: a batch needs at least one record.');
  if (records.length > max) {
    throw batchProblem(
      `A batch holds at most ${max} records; this one has ${records.length}.`,
      'validation.batch_size',
    );
  }
  return records;
}

function atIndex(index: number, problem: FieldProblem): FieldProblem {
  return { ...problem, index, message: `Record ${index}: ${problem.message}` };
}

/**
 * Checks every record first and answers with every problem at once (400 `validation.fields`, each problem
 * with the record's `index`); then every record against the caller's record rules (403
 * `forbidden.record_scope`, listing the indexes); a privacy refusal (owner, membership resource) makes the whole
 * answer a 403 listing every problem found; then stores them all or none (`RecordStore.insertMany`).
 * Each record gets its own audit event (`CREATE`, its id), as if created alone, so its history starts there.
 */
export function batchRoute(state: CrudState, maxRecords: number) {
  return async (req: Request, res: Response) => {
    const items = recordsOf(req.body, maxRecords);
    const hidden = hiddenFields(permissionsOf(req));
    const now = new Date(state.now());
    const problems: FieldProblem[] = [];
    const refused: FieldProblem[] = [];
    const records: NewRecord[] = [];
    for (const [index, item] of items.entries()) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        problems.push(
          atIndex(index, { field: '(record)', code: 'validation.body', message: 'must be a JSON object.' }),
        );
        continue;
      }
      // A resident store: each record's own country (its field, else the declared one), a problem if none.
      let store: RecordStore;
      try {
        store = storeForCreate(state, req, item as Record<string, unknown>);
      } catch (error) {
        if (!(error instanceof ValidationError) || !error.errors) throw error;
        problems.push(...error.errors.map((problem) => atIndex(index, problem)));
        continue;
      }
      const checked = await checkNewRecord(state, req, item as Record<string, unknown>, hidden, now, store);
      problems.push(...checked.problems.map((problem) => atIndex(index, problem)));
      refused.push(...checked.refused.map((problem) => atIndex(index, problem)));
      records.push({ id: store.newId(), record: checked.record });
    }
    // A refusal stands whatever the other records' input: the batch is a 403 listing every problem of every record.
    if (refused.length > 0) throw privacyRefusal(refused, problems);
    throwProblems(problems);
    const inScope = creatable(state, req);
    const outside = records.flatMap(({ id, record }, index) =>
      inScope(record, id)
        ? []
        : [
            atIndex(index, {
              field: '(record)',
              code: 'forbidden.record_scope',
              message: 'would fall outside the records you may access.',
            }),
          ],
    );
    if (outside.length > 0) {
      throw new ForbiddenError(
        `${outside.length} of the ${records.length} records would fall outside the records you may access; nothing was stored.`,
        { code: 'forbidden.record_scope', errors: outside },
      );
    }
    const created = await state.store.insertMany(records);
    const draft = contextOf(req).audit;
    if (draft) {
      draft.action = 'CREATE';
      draft.resource = state.resource;
      draft.records = created.map((record, index) => ({
        resourceId: record.id,
        after: fieldsOf(record),
        body: items[index],
        extra: { batch: { index, size: created.length } },
      }));
    }
    res.status(201).json({ records: created.map((record) => state.present(req, record)) });
  };
}
