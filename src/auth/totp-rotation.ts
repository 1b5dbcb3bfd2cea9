// Key rotation for TOTP secrets: moves every stored second factor onto the key ring's current key, so an old
// key can leave ENCRYPTION_KEYS without locking out the principals who have not logged in since it was current.
import type { PrincipalStore } from '../contracts/principals.js';
import { checkOptions, integerOption } from '../options.js';
import { DecryptionError } from '../pii/field-cipher.js';
import { problemOf, type DecryptionProblem } from '../pii/field-encryption.js';
import type { MigrateOptions, MigrationProgress, MigrationResult } from '../pii/key-rotation.js';
import type { Totp } from './totp.js';

/** A problem names the principal whose secret could not be decrypted, never the secret. */
export type SecondFactorProblem = DecryptionProblem & { id: string };

/**
 * Re-encrypts, in pages of `batchSize`, every second factor whose secret is not under the current key. Each
 * write is conditional on the secret it read: a principal who enrolled again meanwhile keeps the new secret
 * (already under the current key). Stateless, so an interrupted run is resumed by running it again.
 */
export async function migrateSecondFactorKeys(
  principals: Pick<PrincipalStore, 'listSecondFactors' | 'updateSecondFactor' | 'getSecondFactor'>,
  totp: Pick<Totp, 'reencrypted' | 'onCurrentKey'>,
  options: MigrateOptions = {},
): Promise<MigrationResult & { errors: SecondFactorProblem[] }> {
  const checked = checkOptions('migrateSecondFactorKeys()', options, ['batchSize', 'limit', 'onProgress', 'signal']);
  const batchSize = integerOption('batchSize', checked.batchSize, { fallback: 100, min: 1, max: 10_000 });
  const limit = checked.limit === undefined ? Infinity : integerOption('limit', checked.limit, { min: 1 });
  const progress: MigrationProgress = { migrated: 0, conflicts: 0, failed: 0, batches: 0 };
  const errors: SecondFactorProblem[] = [];
  let left = 0;
  let after: string | undefined;
  for (;;) {
    const page = await principals.listSecondFactors({ ...(after === undefined ? {} : { after }), limit: batchSize });
    if (page.length === 0) break;
    for (const record of page) {
      after = record.principalId;
      if (totp.onCurrentKey(record)) continue;
      // Once stopped (Ctrl-C or the limit) the run only counts what is left, so `totalLeft` stays exact.
      if (options.signal?.aborted || progress.migrated >= limit) {
        left++;
        continue;
      }
      let secret: string;
      try {
        secret = totp.reencrypted(record)!;
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        errors.push({ ...problemOf(error, record.principalId), id: record.principalId });
        progress.failed++;
        left++;
        continue;
      }
      if (await principals.updateSecondFactor(record.principalId, { secret }, { ifSecret: record.secret })) {
        progress.migrated++;
        continue;
      }
      progress.conflicts++;
      // Enrolled again meanwhile: by a process whose current key may be another, so it may still be left.
      const now = await principals.getSecondFactor(record.principalId);
      if (now && !totp.onCurrentKey(now)) left++;
    }
    progress.batches++;
    options.onProgress?.({ ...progress });
  }
  return { migrated: progress.migrated, totalLeft: left, errors };
}
