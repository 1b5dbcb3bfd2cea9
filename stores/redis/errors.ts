// Maps Redis driver failures to StoreUnavailableError (503) by error class, never by name or text.
import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';

/** Redis answered with an error reply (a bug on our side) versus could not be reached (503). */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof Error && !(error instanceof ReplyError);
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
