// Opens a mongoose connection with retry at start-up, fast failure afterwards, a bounded health check and a
// watchdog that forces a reconnect when the server stays unreachable past a bound.
import mongoose, { type Connection } from 'mongoose';
import type { StoreHealth, StoreRecovery } from '../../src/contracts/lifecycle.js';
import { retryUntil, withTimeout } from './retry.js';

export interface MongoConnectOptions {
  /** How long an operation waits for a reachable server before failing (then the request gets 503). Default 2000. */
  serverSelectionTimeoutMs?: number;
  /** Total time to keep retrying the first connection. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * A connection whose server has not answered a ping for this long, in ms, gets a new topology (the
   * driver's client is closed and connected again), and again after each further such period; 0 turns
   * the watchdog off. The driver reconnects by itself after most outages, but after a server restart
   * its monitor was seen waiting on a dead socket for minutes. Default 10 000.
   */
  reconnectAfterMs?: number;
  /** How often the watchdog pings the server, in ms. Default 1000. */
  pingIntervalMs?: number;
}

interface Watch {
  unhealthySince: number | undefined;
  recovery: StoreRecovery | undefined;
  reconnecting: boolean;
}

// The watchdog's state per connection, read by mongoHealth(); a WeakMap so the connection stays the
// driver's own object.
const watches = new WeakMap<Connection, Watch>();

/**
 * Connects to MongoDB. Commands are not buffered: while the server is down they fail within
 * `serverSelectionTimeoutMs` instead of queueing behind an outage, and the driver reconnects by itself.
 */
export async function connectMongo(uri: string, options: MongoConnectOptions = {}): Promise<Connection> {
  const serverSelectionTimeoutMS = options.serverSelectionTimeoutMs ?? 2000;
  const connection = await retryUntil(options.connectTimeoutMs ?? 10_000, async () => {
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
  const reconnectAfterMs = options.reconnectAfterMs ?? 10_000;
  if (reconnectAfterMs > 0) {
    watch(connection, reconnectAfterMs, options.pingIntervalMs ?? 1000, serverSelectionTimeoutMS);
  }
  return connection;
}

function watch(connection: Connection, reconnectAfterMs: number, intervalMs: number, pingTimeoutMs: number): void {
  const state: Watch = { unhealthySince: undefined, recovery: undefined, reconnecting: false };
  watches.set(connection, state);
  let probing = false;
  const timer = setInterval(() => {
    if (probing || state.reconnecting) return;
    probing = true;
    void ping(connection, pingTimeoutMs)
      .then((answered) => {
        if (answered) {
          state.unhealthySince = undefined;
          return;
        }
        const now = Date.now();
        state.unhealthySince ??= now;
        const last = state.recovery;
        // A failed attempt is retried at the next ping: the server may be back by then, and a client whose
        // connect failed keeps a closed topology until it is connected again.
        const due =
          last === undefined ||
          last.lastOutcome === 'failed' ||
          now - Date.parse(last.lastAttemptAt) >= reconnectAfterMs;
        if (now - state.unhealthySince >= reconnectAfterMs && due) return reconnect(connection, state);
      })
      .finally(() => (probing = false));
  }, intervalMs);
  timer.unref();
  connection.once('close', () => clearInterval(timer));
}

async function ping(connection: Connection, timeoutMs: number): Promise<boolean> {
  try {
    const db = connection.db;
    if (!db) return false;
    await withTimeout(db.command({ ping: 1 }), timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replaces the driver's topology: closing the client ends its monitors and pools (in-flight operations
 * fail, and their requests get 503), connecting it again starts fresh ones. The client object stays the
 * same, so every collection and model built on the connection keeps working.
 */
async function reconnect(connection: Connection, state: Watch): Promise<void> {
  state.reconnecting = true;
  const client = connection.getClient();
  const attempts = (state.recovery?.attempts ?? 0) + 1;
  state.recovery = { attempts, lastAttemptAt: new Date().toISOString(), lastOutcome: 'pending' };
  try {
    // close() may wait on a server that does not answer (to end sessions); the topology is replaced anyway.
    await withTimeout(client.close(), 5000).catch(() => undefined);
    await client.connect();
    state.recovery.lastOutcome = 'reconnected';
    state.unhealthySince = undefined;
  } catch {
    state.recovery.lastOutcome = 'failed';
  } finally {
    state.reconnecting = false;
  }
}

/** Pings the server; `down` with a short reason when it does not answer within `timeoutMs`. */
export async function mongoHealth(connection: Connection, timeoutMs = 1000): Promise<StoreHealth> {
  const started = performance.now();
  const state = watches.get(connection);
  const recovery = state?.recovery && {
    recovery: {
      ...state.recovery,
      ...(state.unhealthySince !== undefined && { unhealthyForMs: Date.now() - state.unhealthySince }),
    },
  };
  try {
    const db = connection.db;
    if (!db) return { status: 'down', backend: 'mongodb', reason: 'not connected', ...recovery };
    await withTimeout(db.command({ ping: 1 }), timeoutMs);
    return { status: 'up', backend: 'mongodb', latencyMs: Math.round(performance.now() - started), ...recovery };
  } catch {
    return { status: 'down', backend: 'mongodb', reason: 'no answer to ping', ...recovery };
  }
}
