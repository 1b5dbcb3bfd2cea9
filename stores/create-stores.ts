// `portcullis/stores`: builds every store kind on the backend the configuration picks, sharing one connection
// per server. The MongoDB and Redis backends load only when configured; the types name both drivers'.
import { redisConfigured, resolveBackend, storeKinds, type Config } from '../src/config/index.js';
import type { Backend, StoreKind } from '../src/config/store-kinds.js';
import type { ManagedStore } from '../src/contracts/lifecycle.js';
import type { AuditStore } from '../src/contracts/audit.js';
import type { Connections, HealthReport, Stores } from '../src/contracts/store-set.js';
import type { StoreHealth } from '../src/contracts/lifecycle.js';
import type { Connection } from 'mongoose';
import type { SessionStore } from '../src/contracts/sessions.js';
import type { PrincipalStore } from '../src/contracts/principals.js';
import type { QuotaStore, RateLimitStore } from '../src/contracts/rate-limit.js';
import type { PolicyChangeFeed, PolicyStore } from '../src/contracts/policies.js';
import { ConfigError } from '../src/errors.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { recordStoreFactory } from './records-factory.js';
import { connectResidency, residentRecordFactory, type ResidencyConnections } from './resident-records-factory.js';
// The MongoDB and Redis backends (and so their drivers) are loaded only when a server is configured, so that
// an application on memory stores never loads a driver.
import type * as MongoBackend from './mongodb/index.js';
import type * as RedisBackend from './redis/index.js';
import type { RedisClient } from './redis/client.js';
// Types only: the drivers' types for `Stores.connections` (these modules load nothing at run time).
import './mongodb/connection-type.js';
import './redis/connection-type.js';
import { MemoryAuditStore } from './memory/audit.js';
import { MemorySessionStore } from './memory/sessions.js';
import { MemoryPolicyStore } from './memory/policies.js';
import { MemoryPrincipalStore } from './memory/principals.js';
import { MemoryQuotaStore, MemoryRateLimitStore } from './memory/rate-limit.js';

export type {
  Connections,
  HealthReport,
  Stores,
  RecordStoreFactory,
  RecordStoreOptions,
  ResidentRecordFactory,
  ResidentRecordFactoryOptions,
} from '../src/contracts/store-set.js';
export type { ResidencyConnections } from './resident-records-factory.js';

export interface CreateStoresOptions {
  logger?: Logger;
  /**
   * A connected ioredis client to use instead of connecting `REDIS_URL` / `REDIS_CLUSTER_NODES` /
   * `REDIS_SENTINELS`: one built with options those variables do not offer (TLS, ACL users, NAT maps). The stores use it as Redis is configured
   * (`auto` backends pick it); `close()` leaves it open. Default: none.
   */
  redis?: RedisClient;
  /**
   * Each country's records store for `stores.residentRecords(...)`, instead of `RESIDENCY_STORES`: `'memory'` or a
   * connected mongoose connection, by country code (`*` for the others); `close()` leaves them open. Default:
   * `RESIDENCY_STORES`.
   */
  residency?: ResidencyConnections;
}

/** Connects the configured servers (retrying within `STORE_CONNECT_TIMEOUT`) and builds every store kind. */
export async function createStores(config: Config, options: CreateStoresOptions = {}): Promise<Stores> {
  const logger = options.logger ?? silentLogger;
  const connections: Connections = {};
  const residencyUrls = options.residency
    ? []
    : Object.values(config.RESIDENCY_STORES ?? {}).filter((target) => target !== 'memory');
  const residencyMongo = Object.values(options.residency ?? {}).some((target) => target !== 'memory');
  const mongo: typeof MongoBackend | undefined =
    config.MONGODB_URI || residencyUrls.length > 0 || residencyMongo ? await import('./mongodb/index.js') : undefined;
  const redis: typeof RedisBackend | undefined =
    redisConfigured(config) || options.redis ? await import('./redis/index.js') : undefined;
  const budget = config.STORE_CONNECT_TIMEOUT;
  if (config.MONGODB_URI) {
    connections.mongodb = await connecting('MONGODB_URI', hostsOf(config.MONGODB_URI), budget, () =>
      need(mongo).connectMongo(config.MONGODB_URI!, {
        serverSelectionTimeoutMs: config.MONGODB_SERVER_SELECTION_TIMEOUT,
        connectTimeoutMs: config.STORE_CONNECT_TIMEOUT,
        reconnectAfterMs: config.MONGODB_RECONNECT_AFTER,
      }),
    );
    logger.info({ backend: 'mongodb' }, 'connected to MongoDB');
  }
  const redisOptions = {
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT,
    connectTimeoutMs: config.STORE_CONNECT_TIMEOUT,
  };
  try {
    if (options.redis) {
      connections.redis = options.redis;
    } else if (config.REDIS_CLUSTER_NODES?.length) {
      const nodes = config.REDIS_CLUSTER_NODES;
      connections.redis = await connecting('REDIS_CLUSTER_NODES', nodes.map(hostsOf).join(', '), budget, () =>
        need(redis).connectRedisCluster(nodes, redisOptions),
      );
      logger.info({ backend: 'redis', cluster: true }, 'connected to Redis Cluster');
    } else if (config.REDIS_SENTINELS?.length) {
      const target = {
        sentinels: config.REDIS_SENTINELS,
        name: config.REDIS_SENTINEL_NAME ?? '',
        sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
        password: config.REDIS_SENTINEL_MASTER_PASSWORD,
      };
      const hosts = target.sentinels.map(({ host, port }) => `${host}:${port}`).join(', ');
      connections.redis = await connecting('REDIS_SENTINELS', `${hosts} (master ${target.name})`, budget, () =>
        need(redis).connectRedis(target, redisOptions),
      );
      logger.info({ backend: 'redis', sentinel: target.name }, 'connected to Redis through Sentinel');
    } else if (config.REDIS_URL) {
      const url = config.REDIS_URL;
      connections.redis = await connecting('REDIS_URL', hostsOf(url), budget, () =>
        need(redis).connectRedis(url, redisOptions),
      );
      logger.info({ backend: 'redis' }, 'connected to Redis');
    }
  } catch (error) {
    await closeConnections(connections, false);
    throw error;
  }
  const ownsRedis = !options.redis;
  // A country's server is connected like MONGODB_URI (the same one is shared), and closed with the others.
  const residencyOwned: { close(): Promise<unknown> }[] = [];
  let residency: ResidencyConnections;
  try {
    residency =
      options.residency ??
      (await connectResidency(config.RESIDENCY_STORES ?? { '*': 'memory' }, async (url) => {
        if (url === config.MONGODB_URI && connections.mongodb) return connections.mongodb;
        const connection = await connecting('RESIDENCY_STORES', hostsOf(url), budget, () =>
          need(mongo).connectMongo(url, {
            serverSelectionTimeoutMs: config.MONGODB_SERVER_SELECTION_TIMEOUT,
            connectTimeoutMs: config.STORE_CONNECT_TIMEOUT,
            reconnectAfterMs: config.MONGODB_RECONNECT_AFTER,
          }),
        );
        residencyOwned.push(connection);
        logger.info({ backend: 'mongodb', residency: true }, "connected to a country's MongoDB");
        return connection;
      }));
  } catch (error) {
    for (const connection of residencyOwned) await connection.close().catch(() => undefined);
    await closeConnections(connections, ownsRedis);
    throw error;
  }

  // As `backendFor(config, kind)`, with a client passed in counting as configured Redis.
  const servers = { mongodb: Boolean(connections.mongodb), redis: Boolean(connections.redis) };
  const backendOf = (kind: StoreKind) => resolveBackend(kind, String(config[storeKinds[kind].variable]), servers);
  const backends = {
    policies: backendOf('policies'),
    principals: backendOf('principals'),
    sessions: backendOf('sessions'),
    audit: backendOf('audit'),
    rateLimit: backendOf('rateLimit'),
    records: backendOf('records'),
  } satisfies Record<StoreKind, Backend>;

  const sessions = pick<SessionStore>(backends.sessions, {
    memory: () => new MemorySessionStore(),
    mongodb: () => new (need(mongo).MongoSessionStore)({ connection: requireConnection(connections.mongodb) }),
    redis: () => new (need(redis).RedisSessionStore)({ client: requireConnection(connections.redis) }),
  });

  const principalsOfRecord = pick<PrincipalStore>(backends.principals, {
    memory: () => new MemoryPrincipalStore(),
    mongodb: () => new (need(mongo).MongoPrincipalStore)({ connection: requireConnection(connections.mongodb) }),
  });
  const principals = connections.redis
    ? new (need(redis).RedisPrincipalCache)({
        store: principalsOfRecord,
        client: connections.redis,
        ttlMs: config.PRINCIPAL_CACHE_TTL,
        logger,
      })
    : principalsOfRecord;
  const rateLimit = pick<RateLimitStore>(backends.rateLimit, {
    memory: () => new MemoryRateLimitStore(),
    redis: () => new (need(redis).RedisRateLimitStore)({ client: requireConnection(connections.redis) }),
  });
  const quotas = pick<QuotaStore>(backends.rateLimit, {
    memory: () => new MemoryQuotaStore(),
    redis: () => new (need(redis).RedisQuotaStore)({ client: requireConnection(connections.redis) }),
  });

  const retention = { retention: config.AUDIT_RETENTION, readRetention: config.AUDIT_READ_RETENTION };
  const audit = pick<AuditStore>(backends.audit, {
    memory: () => new MemoryAuditStore(retention),
    mongodb: () =>
      new (need(mongo).MongoAuditStore)({ connection: requireConnection(connections.mongodb), ...retention }),
    redis: () =>
      new (need(redis).RedisAuditStore)({
        client: requireConnection(connections.redis),
        maxLength: config.AUDIT_STREAM_MAXLEN,
        ...retention,
      }),
  });
  // Any process replays what the queue holds into its own audit store (a stuck or stopped process's batches
  // too), so the queue is the audit database's: deployments that share a Redis server but not a database
  // must not share it.
  const auditQueue =
    connections.redis && backends.audit !== 'redis'
      ? new (need(redis).RedisReliabilityQueue)({
          client: connections.redis,
          ...(backends.audit === 'mongodb' && { key: `portcullis:audit:fallback:${connections.mongodb!.name}` }),
        })
      : undefined;

  const policies = pick<PolicyStore & PolicyChangeFeed>(backends.policies, {
    memory: () => new MemoryPolicyStore(),
    mongodb: () => new (need(mongo).MongoPolicyStore)({ connection: requireConnection(connections.mongodb), logger }),
    redis: () => new (need(redis).RedisPolicyStore)({ client: requireConnection(connections.redis), logger }),
  });

  const managed: ManagedStore[] = [sessions, principals, rateLimit, quotas, audit, policies];
  try {
    for (const store of managed) await store.init?.();
  } catch (error) {
    for (const connection of residencyOwned) await connection.close().catch(() => undefined);
    await closeConnections(connections, ownsRedis);
    throw error;
  }

  async function health(): Promise<HealthReport> {
    const servers: HealthReport['servers'] = {};
    if (connections.mongodb) servers.mongodb = await need(mongo).mongoHealth(connections.mongodb);
    if (connections.redis) servers.redis = await need(redis).redisHealth(connections.redis);
    const stores: HealthReport['stores'] = {};
    for (const [kind, backend] of Object.entries(backends) as [StoreKind, Backend][]) {
      stores[kind] =
        backend === 'memory' ? { status: 'up', backend } : (servers[backend] ?? { status: 'down', backend });
    }
    const countries = await countryHealth(servers.mongodb);
    const status = [...Object.values(servers), ...Object.values(countries ?? {})].every(
      (server) => server.status === 'up',
    )
      ? 'up'
      : 'down';
    return { status, servers, stores, ...(countries && { countries }) };
  }

  // Each distinct country server is pinged once, all at the same time.
  async function countryHealth(shared: StoreHealth | undefined): Promise<Record<string, StoreHealth> | undefined> {
    const located = Object.entries(residency).filter((entry): entry is [string, Connection] => entry[1] !== 'memory');
    if (located.length === 0) return undefined;
    const pings = new Map<Connection, Promise<StoreHealth>>();
    for (const [, connection] of located) {
      if (connection === connections.mongodb && shared) pings.set(connection, Promise.resolve(shared));
      else if (!pings.has(connection)) pings.set(connection, need(mongo).mongoHealth(connection));
    }
    const answers = new Map(await Promise.all([...pings].map(async ([key, ping]) => [key, await ping] as const)));
    return Object.fromEntries(located.map(([country, connection]) => [country, answers.get(connection)!]));
  }

  async function close(): Promise<void> {
    for (const store of managed) await store.close?.();
    for (const connection of residencyOwned) await connection.close().catch(() => undefined);
    await closeConnections(connections, ownsRedis);
  }

  const records = recordStoreFactory(
    backends.records,
    connections.mongodb && mongo ? { connection: connections.mongodb, backend: mongo } : undefined,
  );

  return {
    backends,
    connections,
    sessions,
    records,
    residentRecords: residentRecordFactory(residency, mongo),
    principals,
    rateLimit,
    quotas,
    audit,
    auditQueue,
    policies,
    health,
    close,
  };
}

/**
 * A first connection that fails within STORE_CONNECT_TIMEOUT is a start-up error naming the variable and the
 * host, never the URL (it may hold a password) nor the driver's whole message (it may quote the URL).
 */
async function connecting<T>(variable: string, hosts: string, budgetMs: number, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    throw new ConfigError(
      variable,
      `cannot connect to ${hosts} within ${budgetMs}ms (${failureOf(error)}); check the server and STORE_CONNECT_TIMEOUT`,
      { code: 'config.unreachable' },
    );
  }
}

/** The `host:port` list of a connection URL, without its credentials, path or options. */
function hostsOf(url: string): string {
  const afterScheme = url.slice(url.indexOf('//') + 2);
  const authority = afterScheme.split(/[/?#]/, 1)[0]!;
  return authority.slice(authority.lastIndexOf('@') + 1) || 'the server';
}

/** A failure's kind (`ECONNREFUSED`, `AuthenticationFailed`, `WRONGPASS`…), never its free-text message. */
function failureOf(error: unknown): string {
  const { code, codeName, name, message } = (error ?? {}) as Record<string, unknown>;
  if (typeof codeName === 'string') return codeName;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  const text = typeof message === 'string' ? message : '';
  const known = /\b(E[A-Z]{3,}|WRONGPASS|NOAUTH|NOPERM|Authentication failed)\b/.exec(text);
  if (known) return known[1]!;
  return typeof name === 'string' ? name : 'unknown error';
}

function pick<T>(backend: Backend, factories: Partial<Record<Backend, () => T>>): T {
  const factory = factories[backend];
  if (!factory) throw new TypeError(`no ${backend} implementation for this store kind`);
  return factory();
}

function need<T>(backend: T | undefined): T {
  // A backend module is loaded whenever its server is configured; this guards direct callers.
  if (backend === undefined) throw new TypeError('the server for this backend is not configured');
  return backend;
}

function requireConnection<T>(connection: T | undefined): T {
  // loadConfig already refuses a backend whose server is not configured; this guards direct callers.
  if (connection === undefined) throw new TypeError('the server for this backend is not configured');
  return connection;
}

async function closeConnections(connections: Connections, ownsRedis: boolean): Promise<void> {
  await connections.mongodb?.close().catch(() => undefined);
  if (connections.redis && ownsRedis) await connections.redis.quit().catch(() => connections.redis?.disconnect());
}
