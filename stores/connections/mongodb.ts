// Opens a mongoose connection with retry at start-up, fast failure afterwards and a bounded health check.
import mongoose, { type Connection } from 'mongoose';
import type { StoreHealth } from '../../src/contracts/lifecycle.js';
import { retryUntil, withTimeout } from './retry.js';

export interface MongoConnectOptions {
  /** How long an operation waits for a reachable server before failing (then the request gets 503). Default 2000. */
  serverSelectionTimeoutMs?: number;
  /** Total time to keep retrying the first connection. Default 10 000. */
  connectTimeoutMs?: number;
}

/**
 * Connects to MongoDB. Commands are not buffered: while the server is down they fail within
 * `serverSelectionTimeoutMs` instead of queueing behind an outage, and the driver reconnects by itself.
 */
export async function connectMongo(uri: string, options: MongoConnectOptions = {}): Promise<Connection> {
  const serverSelectionTimeoutMS = options.serverSelectionTimeoutMs ?? 2000;
  return retryUntil(options.connectTimeoutMs ?? 10_000, async () => {
    const connection = mongoose.createConnection(uri, {
      serverSelectionTimeoutMS,
      connectTimeoutMS: serverSelectionTimeoutMS,
      socketTimeoutMS: 30_000,
      bufferCommands: false,
      autoIndex: false,
      autoCreate: false,
    });
    try {
      await connection.asPromise();
      return connection;
    } catch (error) {
      await connection.close(true).catch(() => undefined);
      throw error;
    }
  });
}

/** Pings the server; `down` with a short reason when it does not answer within `timeoutMs`. */
export async function mongoHealth(connection: Connection, timeoutMs = 1000): Promise<StoreHealth> {
  const started = performance.now();
  try {
    const db = connection.db;
    if (!db) return { status: 'down', backend: 'mongodb', reason: 'not connected' };
    await withTimeout(db.command({ ping: 1 }), timeoutMs);
    return { status: 'up', backend: 'mongodb', latencyMs: Math.round(performance.now() - started) };
  } catch {
    return { status: 'down', backend: 'mongodb', reason: 'no answer to ping' };
  }
}
