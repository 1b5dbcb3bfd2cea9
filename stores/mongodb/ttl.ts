// TTL indexes where the server has them; FerretDB v1 does not, so callers then sweep expired documents.
import type { Collection, Document, Filter } from 'mongodb';

// MongoDB's "NotImplemented" and "CommandNotSupported" codes, as FerretDB answers unsupported index options.
const NOT_IMPLEMENTED_CODES = new Set([115, 238]);

/**
 * Creates a TTL index on `field`. Returns `'ttl'` when the server expires documents itself, or `'sweep'`
 * when it cannot (FerretDB v1): a plain index is created instead and the caller must delete expired
 * documents itself (see `sweepExpired`). Reads must always filter on the expiry field either way.
 */
export async function ensureTtlIndex<T extends Document>(
  collection: Collection<T>,
  field: string,
  expireAfterSeconds = 0,
): Promise<'ttl' | 'sweep'> {
  try {
    await collection.createIndex({ [field]: 1 } as Document, { expireAfterSeconds, name: `${field}_ttl` });
    return 'ttl';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'number' || !NOT_IMPLEMENTED_CODES.has(code)) throw error;
    await collection.createIndex({ [field]: 1 } as Document, { name: `${field}_expiry` });
    return 'sweep';
  }
}

/** Deletes documents whose `field` is at or before `now`; for servers without TTL indexes. */
export async function sweepExpired<T extends Document>(
  collection: Collection<T>,
  field: string,
  now: Date,
): Promise<number> {
  const result = await collection.deleteMany({ [field]: { $lte: now } } as Filter<T>);
  return result.deletedCount;
}
