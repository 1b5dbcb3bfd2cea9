// The refusal of a write to a record the configured keys cannot decrypt, worded for the caller.
import { DECRYPTION_ERROR_FIELD, type StoredRecord } from '../../src/contracts/records.js';
import { ConflictError } from '../../src/errors.js';
import { showsEncrypted } from './present.js';
import type { CrudState } from './state.js';

/**
 * Throws 409 when `existing` could not be decrypted: its encrypted fields read as null, and the store
 * re-encrypts from plaintext, so any write would put those nulls over ciphertext another key may still
 * read. A caller from whom every encrypted field is hidden gets a reason that names none
 * (`conflict.not_updatable`): `conflict.undecryptable` would tell them a field they cannot see exists and is
 * broken.
 */
export function refuseUndecryptable(
  state: CrudState,
  hidden: ReadonlySet<string>,
  existing: StoredRecord,
  verb: 'updated' | 'moved',
): void {
  if (existing[DECRYPTION_ERROR_FIELD] === undefined) return;
  const blindIndex = state.blindIndex;
  if (!showsEncrypted(existing, hidden, blindIndex && ((field) => blindIndex.isEncrypted(field)))) {
    throw new ConflictError(`The record cannot be ${verb} at the moment; ask an administrator.`, {
      code: 'conflict.not_updatable',
    });
  }
  throw new ConflictError(
    `The record cannot be decrypted with the configured keys, so it cannot be ${verb}; restore its key (ENCRYPTION_KEYS) or delete it.`,
    { code: 'conflict.undecryptable' },
  );
}
