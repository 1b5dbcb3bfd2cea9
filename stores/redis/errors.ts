// Maps Redis driver failures to StoreUnavailableError (503) by error class, never by name or text.
import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';

// Error replies that say the server cannot serve now, not that the command was wrong: their code is the
// reply's first word (a cluster that lost a master's slots, a slot being migrated, a replica without its
// master, a server loading its data set).
const UNAVAILABLE_REPLY_CODES = new Set(['CLUSTERDOWN', 'TRYAGAIN', 'MASTERDOWN', 'LOADING']);

/** Redis answered with an error reply (a bug on our side) versus could not be reached or serve (503). */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof ReplyError) return UNAVAILABLE_REPLY_CODES.has((error as Error).message.split(' ', 1)[0]!);
  return error instanceof Error;
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
