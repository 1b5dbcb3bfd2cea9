// Key rotation: moves stored records onto the current key in batches, safely beside live writes, resumably.
import { checkOptions, integerOption } from '../options.js';
import { DecryptionError } from './field-cipher.js';
import { problemOf, type DecryptionProblem, type FieldEncryption } from './field-encryption.js';

/** A stored record as a rotation source returns it: its id and raw (encrypted) fields. */
export interface RotationRecord {
  id: unknown;
  raw: Record<string, unknown>;
}

/** What a store offers key rotation. Implemented for MongoDB and for the memory collection. */
export interface RotationSource {
  /** Records whose version field is not `version` (or is missing), ordered by id, after `afterId` when given. */
  findStale(version: number, limit: number, afterId: unknown): Promise<RotationRecord[]>;
  countStale(version: number): Promise<number>;
  /**
   * Applies each update only if its record still holds `expected` in every listed field (compare-and-set, so a
   * concurrent write is never overwritten). Returns how many were applied; the others changed meanwhile.
   */
  replaceIfUnchanged(changes: readonly RecordChange[]): Promise<number>;
}

/** One compare-and-set rewrite of a record. */
export interface RecordChange {
  id: unknown;
  expected: Record<string, unknown>;
  update: { $set: Record<string, unknown>; $unset: Record<string, unknown> };
}

export interface MigrateOptions {
  /** Records read and rewritten per batch. Default 100. */
  batchSize?: number;
  /** Stop after this many records were migrated (then run again to continue). Default: until done. */
  limit?: number;
  /** Called after each batch. */
  onProgress?: (progress: MigrationProgress) => void;
  /** Stops between batches when aborted (Ctrl-C); what was done stays done. */
  signal?: AbortSignal;
}

export interface MigrationProgress {
  migrated: number;
  /** Records skipped because a concurrent write changed them first (they are retried in the next pass). */
  conflicts: number;
  failed: number;
  batches: number;
}

export interface MigrationResult {
  /** Records moved onto the current key by this run. */
  migrated: number;
  /** Records still not on the current key (concurrent leftovers, undecryptable ones, or beyond `limit`). */
  totalLeft: number;
  /** Records that could not be decrypted; listed without any plaintext. */
  errors: DecryptionProblem[];
}

/**
 * Re-encrypts and re-indexes every record not on the current key. Stateless between runs (the version field
 * says what is left), so an interrupted run is resumed by running it again. Each record is written with a
 * compare-and-set on its encrypted fields: an application write that lands meanwhile wins, and since the
 * application writes with the current key, the record is retried in a later pass or already done.
 */
export async function migrateKeys(
  source: RotationSource,
  encryption: FieldEncryption,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const checked = checkOptions('migrateKeys()', options, ['batchSize', 'limit', 'onProgress', 'signal']);
  const batchSize = integerOption('batchSize', checked.batchSize, { fallback: 100, min: 1, max: 10_000 });
  const limit = checked.limit === undefined ? Infinity : integerOption('limit', checked.limit, { min: 1 });
  const version = encryption.ring.current;
  const watched = [...encryption.paths, encryption.versionField];
  const progress: MigrationProgress = { migrated: 0, conflicts: 0, failed: 0, batches: 0 };
  const failedIds = new Set<string>();
  const errors: DecryptionProblem[] = [];

  // Passes repeat while the previous one lost races to live writes; undecryptable records never block.
  for (let pass = 0; pass < 100 && progress.migrated < limit; pass++) {
    let afterId: unknown = undefined;
    let conflictsThisPass = 0;
    for (;;) {
      if (options.signal?.aborted || progress.migrated >= limit) break;
      const batch = await source.findStale(version, Math.min(batchSize, limit - progress.migrated), afterId);
      if (batch.length === 0) break;
      const changes: RecordChange[] = [];
      for (const record of batch) {
        afterId = record.id;
        if (failedIds.has(String(record.id))) continue;
        try {
          const update = encryption.migrationUpdate(record.raw);
          const expected: Record<string, unknown> = {};
          for (const field of watched) expected[field] = readPath(record.raw, field);
          changes.push({ id: record.id, expected, update });
        } catch (error) {
          if (!(error instanceof DecryptionError)) throw error;
          failedIds.add(String(record.id));
          errors.push(problemOf(error, record.id));
          progress.failed++;
        }
      }
      const applied = changes.length > 0 ? await source.replaceIfUnchanged(changes) : 0;
      progress.migrated += applied;
      progress.conflicts += changes.length - applied;
      conflictsThisPass += changes.length - applied;
      progress.batches++;
      options.onProgress?.({ ...progress });
    }
    if (options.signal?.aborted) break;
    // A pass without a lost race ends the run only if nothing (but undecryptable records) is still stale: a
    // server that miscounts matched writes, or a write that landed behind the pass, would otherwise be left.
    if (conflictsThisPass === 0 && (await source.countStale(version)) <= failedIds.size) break;
  }
  const stale = await source.countStale(version);
  return { migrated: progress.migrated, totalLeft: stale, errors };
}

function readPath(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
