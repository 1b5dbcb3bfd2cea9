// Maps driver failures to StoreUnavailableError (503) by error class, never by message text.
import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../src/errors.js';

// Classes the MongoDB driver and mongoose throw when no server can be reached or a connection broke.
const mongoUnavailableNames = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoExpiredSessionError',
]);

export function isMongoUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (mongoUnavailableNames.has(error.name)) return true;
  const labels = (error as { errorLabelSet?: Set<string> }).errorLabelSet;
  return labels instanceof Set && labels.has('ResetPool');
}

/** Redis answered with an error reply (a bug on our side) versus could not be reached (503). */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && !(error instanceof ReplyError);
}

/** Runs a MongoDB operation, turning connectivity failures into a 503 for the request. */
export async function mongoCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isMongoUnavailable(error)) throw new StoreUnavailableError('mongodb', { cause: error });
    throw error;
  }
}

/** Runs a Redis operation, turning connectivity failures and timeouts into a 503 for the request. */
export async function redisCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isRedisUnavailable(error)) throw new StoreUnavailableError('redis', { cause: error });
    throw error;
  }
}

/** MongoDB's duplicate-key error (E11000), identified by its numeric code. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** An insert error that is only duplicate keys: a retried batch whose other documents were inserted. */
export function onlyDuplicateKeys(error: unknown): boolean {
  if (!isDuplicateKey(error)) return false;
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  if (!Array.isArray(writeErrors)) return true;
  return writeErrors.every((writeError) => (writeError as { code?: unknown }).code === 11000);
}
