// Maps MongoDB driver failures to StoreUnavailableError (503) by error class and documented label, never by text.
import mongoose from 'mongoose';
import { StoreUnavailableError } from '../../src/errors.js';

const { mongo } = mongoose;

// The driver's classes for "no server could be reached or a connection broke", matched with instanceof so
// that subclasses count too (PoolClearedOnNetworkError is a MongoNetworkError; a by-name list missed it).
// They come from mongoose's own copy of the driver: the one whose errors the stores see.
const mongoUnavailableClasses = [
  mongo.MongoNetworkError,
  mongo.MongoServerSelectionError,
  mongo.MongoTopologyClosedError,
  mongo.MongoNotConnectedError,
  mongo.MongoServerClosedError,
  mongo.MongoExpiredSessionError,
  mongo.MongoClientClosedError,
  mongo.MongoOperationTimeoutError,
  mongoose.Error.MongooseServerSelectionError,
];

// The driver's errors about its own connection machinery (a pool closed by a forced reconnect, a wait for a
// pooled connection that timed out) have no exported class, only their common base: a MongoDriverError that
// is neither a misuse of the API, a runtime bug, a bad connection string nor an authentication failure.
const notConnectionStateClasses = [
  mongo.MongoAPIError,
  mongo.MongoRuntimeError,
  mongo.MongoParseError,
  mongo.MongoOIDCError,
];

function isConnectionStateError(error: unknown): boolean {
  return error instanceof mongo.MongoDriverError && !notConnectionStateClasses.some((kind) => error instanceof kind);
}

// Labels the driver documents for failures of the server or the link rather than of the request: the
// pool was reset, or a write may be retried once a primary is back.
const mongoUnavailableLabels = ['ResetPool', 'RetryableWriteError'];

// Node's own socket errors, by their documented codes: the driver lets some through unwrapped, e.g. EPIPE
// ("This socket has been ended by the other party") when the server closes a connection while a command is
// being written to it, as a restarting server does.
const socketErrorCodes = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH']);

function isSocketError(error: unknown): boolean {
  return error instanceof Error && socketErrorCodes.has((error as NodeJS.ErrnoException).code ?? '');
}

export function isMongoUnavailable(error: unknown): boolean {
  if (mongoUnavailableClasses.some((kind) => error instanceof kind) || isConnectionStateError(error)) return true;
  if (isSocketError(error)) return true;
  return error instanceof mongo.MongoError && mongoUnavailableLabels.some((label) => error.hasErrorLabel(label));
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

/**
 * Runs an upsert keyed by `_id` and, if it lost the race to insert that `_id` to a concurrent upsert (E11000),
 * runs it once more: the document now exists and is updated. MongoDB 4.2+ retries such an upsert on the
 * server; FerretDB answers E11000 (two processes seeding the same records at start-up met it).
 */
export async function upsertById<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await mongoCall(operation);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return mongoCall(operation);
  }
}
