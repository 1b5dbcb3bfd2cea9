// Opens an ioredis client that reconnects forever but fails commands fast while Redis is away.
import { Redis, type Cluster } from 'ioredis';
import type { StoreHealth } from '../../src/contracts/lifecycle.js';
import { retryUntil, withTimeout } from './retry.js';

export interface RedisConnectOptions {
  /** Per-command timeout; a slower command fails and the request gets 503. Default 2000. */
  commandTimeoutMs?: number;
  /** Total time to keep retrying the first connection. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * How often the client checks that Redis still answers, in ms; 0 turns the check off. Default a quarter
   * of `commandTimeoutMs`, at most 1000. A server that stops answering (frozen, or a half-open connection)
   * would otherwise cost every command the full `commandTimeoutMs`, several times per request; once a
   * check goes unanswered for `commandTimeoutMs` the client reconnects, and until Redis answers again
   * commands fail at once (503). So a request started as the server froze fails within about 1.25 times
   * `commandTimeoutMs`, however many commands it sends.
   */
  livenessIntervalMs?: number;
}

/**
 * A master found through Redis Sentinel: the client asks the sentinels for the current master of `name`,
 * and asks again whenever its connection drops, so it follows a failover.
 */
export interface RedisSentinelTarget {
  /** Some of the sentinels; the client learns the others from them. */
  sentinels: readonly { host: string; port: number }[];
  /** The master group they monitor (`sentinel monitor <name> …`). */
  name: string;
  /** The sentinels' own password, if they ask for one. */
  sentinelPassword?: string;
  /** The master's (and replicas') password, if they ask for one. */
  password?: string;
}

/**
 * Connects to Redis: one server by URL, or the master a Sentinel names. The offline queue is off so that
 * commands issued during an outage fail at once (503) instead of piling up; the client keeps reconnecting
 * in the background with capped backoff.
 */
export async function connectRedis(
  target: string | RedisSentinelTarget,
  options: RedisConnectOptions = {},
): Promise<Redis> {
  const commandTimeout = options.commandTimeoutMs ?? 2000;
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands in flight when the connection drops fail at once (503) instead of waiting to be resent after a
    // reconnect, which against a frozen server would cost their whole timeout.
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 1000),
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  };
  const budgetMs = options.connectTimeoutMs ?? 10_000;
  const deadline = Date.now() + budgetMs;
  return retryUntil(budgetMs, async () => {
    const client =
      typeof target === 'string'
        ? new Redis(target, common)
        : new Redis({
            ...common,
            sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
            name: target.name,
            ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
            ...(target.password !== undefined && { password: target.password }),
            sentinelCommandTimeout: commandTimeout,
            // Subscribes to the sentinels' +switch-master, so the client moves to a new master as soon as
            // they elect it rather than when its old connection fails.
            failoverDetector: true,
            // A demoted master that is still reachable refuses writes (READONLY): reconnect, which asks the
            // sentinels for the new master. The failed command gets its 503.
            reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
          });
    // Without a listener ioredis prints every reconnect failure; health() reports the state instead. The
    // first connection's own failure (ECONNREFUSED, WRONGPASS…) only arrives here: connect() rejects with
    // "Connection is closed.", which would tell the user nothing.
    let cause: unknown;
    client.on('error', (error) => (cause ??= error));
    try {
      // Bounded: through Sentinel, connect() waits as long as no sentinel answers, or none names the master
      // (ioredis keeps asking them, as it should once running), so a wrong address, name or password would
      // hang the start for ever.
      await withTimeout(client.connect(), Math.max(1, deadline - Date.now()));
      watchLiveness(client, options);
      return client;
    } catch (error) {
      client.disconnect();
      const reason = cause ?? error;
      // Through Sentinel, ioredis says only "All sentinels are unreachable" or times out, whether no sentinel
      // answered or none knew the master: one code that says what was awaited. A refused password stays itself.
      if (typeof target !== 'string' && !/\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(String((reason as Error)?.message))) {
        throw Object.assign(new Error('no sentinel named a master that accepted the connection'), {
          code: 'SENTINEL_NO_MASTER',
          cause: reason,
        });
      }
      throw reason;
    }
  });
}

/**
 * Pings every connection of the client (each node's, on a cluster) every `livenessIntervalMs`, and drops one
 * whose server leaves a ping unanswered for `commandTimeoutMs` (see `RedisConnectOptions.livenessIntervalMs`).
 */
export function watchLiveness(client: Redis | Cluster, options: RedisConnectOptions = {}): void {
  const deadlineMs = options.commandTimeoutMs ?? 2000;
  const intervalMs = options.livenessIntervalMs ?? Math.min(1000, Math.max(50, deadlineMs / 4));
  if (intervalMs <= 0) return;
  const probing = new WeakSet<Redis>();
  const probe = (connection: Redis) => {
    if (probing.has(connection) || connection.status !== 'ready') return;
    probing.add(connection);
    withTimeout(connection.ping(), deadlineMs)
      .catch(() => {
        // Destroying the silent socket fails the commands waiting on it at once (with maxRetriesPerRequest 0
        // none is kept to be resent) and ioredis reconnects; with the offline queue off new commands are
        // refused at once until the ready check is answered again. (disconnect() only half-closes the
        // socket, and a frozen server never finishes closing it.)
        if (connection.status === 'ready') connection.stream.destroy();
      })
      .finally(() => probing.delete(connection));
  };
  const timer = setInterval(() => {
    if (client.isCluster) for (const node of (client as Cluster).nodes('all')) probe(node);
    else probe(client as Redis);
  }, intervalMs);
  timer.unref();
  client.once('end', () => clearInterval(timer));
}

export async function redisHealth(client: Redis | Cluster, timeoutMs = 1000): Promise<StoreHealth> {
  const started = performance.now();
  if (client.status !== 'ready') return { status: 'down', backend: 'redis', reason: `connection ${client.status}` };
  try {
    await withTimeout(client.ping(), timeoutMs);
    return { status: 'up', backend: 'redis', latencyMs: Math.round(performance.now() - started) };
  } catch {
    return { status: 'down', backend: 'redis', reason: 'no answer to PING' };
  }
}
