// Shapes records for responses: internal fields out, hidden fields out, projection, masking.
import type { Request } from 'express';
import {
  DECRYPTION_ERROR_FIELD,
  DELETED_FIELD,
  VERSION_FIELD,
  type StoredRecord,
} from '../../src/contracts/records.js';
import { maskOwned, type Masker } from '../../src/pii/masker.js';
import type { Visibility } from '../../src/pii/visibility.js';
import { isHidden } from './access.js';
import { setOwn } from '../../src/own.js';

/** Builds the response object of a record; the record itself is never changed. */
export type Presenter = (req: Request, record: StoredRecord, projection?: readonly string[]) => Record<string, unknown>;

function removePath(record: Record<string, unknown>, segments: string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined || !Object.hasOwn(record, head)) return;
  if (rest.length === 0) {
    delete record[head];
    return;
  }
  const child = record[head];
  if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
    const copy = { ...(child as Record<string, unknown>) };
    removePath(copy, rest);
    record[head] = copy;
  }
}

function pickPaths(record: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const segments = path.split('.');
    let source: unknown = record;
    for (const segment of segments) {
      source =
        typeof source === 'object' && source !== null && Object.hasOwn(source, segment)
          ? (source as Record<string, unknown>)[segment]
          : undefined;
    }
    if (source === undefined) continue;
    let target = out;
    for (const segment of segments.slice(0, -1)) {
      target[segment] ??= {};
      target = target[segment] as Record<string, unknown>;
    }
    target[segments.at(-1)!] = source;
  }
  return out;
}

/**
 * Presents records through the caller's view: hidden fields left out, masked ones masked. `isEncrypted`
 * (the store's blind indexer) lets an undecryptable record's marker go when every encrypted field is
 * hidden from the caller: the marker would tell them a field they cannot see exists and is broken.
 */
export function createPresenter(
  masker: Masker | undefined,
  viewOf: (req: Request) => Visibility,
  isEncrypted?: (field: string) => boolean,
): Presenter {
  return (req, record, projection) => {
    const view = viewOf(req);
    const hidden = view.hidden;
    const deletedAt = record[DELETED_FIELD];
    let out: Record<string, unknown>;
    if (projection) {
      const { [VERSION_FIELD]: _version, [DELETED_FIELD]: _deleted, ...fields } = record;
      out = pickPaths(fields, projection);
      for (const key of Object.keys(out)) if (isHidden(hidden, key)) delete out[key];
    } else {
      // One pass that leaves internal and hidden top-level fields out: copying and then deleting would
      // leave the object a slow dictionary for the masking and serialization that follow.
      out = {};
      for (const key of Object.keys(record)) {
        if (key === VERSION_FIELD || key === DELETED_FIELD || key === DECRYPTION_ERROR_FIELD) continue;
        if (isHidden(hidden, key)) continue;
        setOwn(out, key, record[key]);
      }
    }
    const showDeleted = !projection || projection.includes('deletedAt');
    if (deletedAt !== undefined && deletedAt !== null && showDeleted && !isHidden(hidden, 'deletedAt'))
      out.deletedAt = deletedAt;
    for (const field of hidden) if (field.includes('.')) removePath(out, field.split('.'));
    // An undecryptable record says so whatever fields were asked for: a projection must not make its nulls
    // look like real values.
    const undecryptable = record[DECRYPTION_ERROR_FIELD];
    if (undecryptable !== undefined && showsEncrypted(record, hidden, isEncrypted))
      out[DECRYPTION_ERROR_FIELD] = undecryptable;
    // `out` is this call's own object: the masker need not copy it again.
    return masker ? maskOwned(masker, out, view.grant) : out;
  };
}

/** Whether the caller sees one of the record's encrypted fields (all of them count when unknown). */
export function showsEncrypted(
  record: Record<string, unknown>,
  hidden: ReadonlySet<string>,
  isEncrypted: ((field: string) => boolean) | undefined,
): boolean {
  if (!isEncrypted) return true;
  for (const key of Object.keys(record)) if (isEncrypted(key) && !isHidden(hidden, key)) return true;
  return false;
}
