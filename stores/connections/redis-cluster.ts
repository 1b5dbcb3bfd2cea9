// Opens an ioredis Cluster client from seed node URLs, failing commands fast while the cluster is away.
import { Cluster } from 'ioredis';
import { retryUntil } from './retry.js';
import { watchLiveness, type RedisConnectOptions } from './redis.js';

/**
 * Connects to a Redis Cluster through any of its nodes (`redis://[user:password@]host:port` or
 * `rediss://…`; the client learns the others from `CLUSTER SLOTS`). Credentials and TLS come from the
 * first URL and apply to every node. As with `connectRedis`, the offline queue is off so commands issued
 * while the cluster is unreachable fail at once (503), and the client keeps reconnecting in the background.
 */
export async function connectRedisCluster(
  nodes: readonly string[],
  options: RedisConnectOptions = {},
): Promise<Cluster> {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new TypeError('connectRedisCluster: nodes must list at least one node URL');
  }
  const seeds = nodes.map((node) => {
    const url = new URL(node);
    return { host: url.hostname, port: Number(url.port || 6379) };
  });
  const first = new URL(nodes[0]!);
  const commandTimeout = options.commandTimeoutMs ?? 2000;
  return retryUntil(options.connectTimeoutMs ?? 10_000, async () => {
    const cluster = new Cluster(seeds, {
      lazyConnect: true,
      enableOfflineQueue: false,
      // Fan-outs (a page of sessions, an audit list over its shards) go out as one pipeline per node.
      enableAutoPipelining: true,
      clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
      // A cluster that lost a master without replica answers CLUSTERDOWN for every slot. ioredis would retry
      // each command up to maxRedirections (16) times, refreshing the slot map each time (which waits on the
      // frozen node): 6-11 s per command measured. Fail at once instead (503); MOVED and ASK still redirect.
      retryDelayOnClusterDown: 0,
      retryDelayOnFailover: 0,
      redisOptions: {
        maxRetriesPerRequest: 1,
        commandTimeout,
        connectTimeout: Math.max(commandTimeout, 1000),
        ...(first.username && { username: decodeURIComponent(first.username) }),
        ...(first.password && { password: decodeURIComponent(first.password) }),
        ...(first.protocol === 'rediss:' && { tls: {} }),
      },
    });
    // Without a listener ioredis prints every reconnect failure; health() reports the state instead.
    cluster.on('error', () => undefined);
    try {
      await cluster.connect();
      watchLiveness(cluster, options);
      return cluster;
    } catch (error) {
      cluster.disconnect();
      throw error;
    }
  });
}
