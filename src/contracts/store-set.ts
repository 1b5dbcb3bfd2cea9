// The set of stores `createStores(config)` builds and `createPortcullis` runs on. Driver-free, so the root
// entry's types compile without mongoose or ioredis installed: `portcullis/mongodb` and `portcullis/redis`
// add their connection to `Connections` (module augmentation) when their types are loaded.
import type { Backend, StoreKind } from '../config/store-kinds.js';
import type { StoreHealth } from './lifecycle.js';
import type { AuditStore } from './audit.js';
import type { ReliabilityQueue } from './queue.js';
import type { SessionStore } from './sessions.js';
import type { PrincipalStore } from './principals.js';
import type { QuotaStore, RateLimitStore } from './rate-limit.js';
import type { PolicyChangeFeed, PolicyStore } from './policies.js';
import type { RecordStore } from './records.js';
import type { ResidentRecords } from './residency.js';
import type { SchemaInput } from '../filter/schema.js';

/**
 * The shared server connections: `mongodb` (a mongoose `Connection`) once `portcullis/mongodb` or
 * `portcullis/stores` is imported, `redis` (an ioredis `Redis` or `Cluster`) once `portcullis/redis` or
 * `portcullis/stores` is.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the backends' entries
export interface Connections {}

export interface HealthReport {
  status: 'up' | 'down';
  servers: Partial<Record<'mongodb' | 'redis', StoreHealth>>;
  stores: Partial<Record<StoreKind, StoreHealth>>;
  /**
   * The MongoDB server of each country of `RESIDENCY_STORES` that has one (countries on memory are left out;
   * a country on the `MONGODB_URI` server shares its state). Any of them down makes `status` down.
   */
  countries?: Record<string, StoreHealth>;
}

export interface RecordStoreOptions {
  /** Prefix of generated ids, e.g. `acc_`. Default none. */
  idPrefix?: string;
  /** MongoDB collection name. Default: the resource name. */
  collection?: string;
  /** Paths stored without a declaration (e.g. blind-index fields). Default none. */
  extraPaths?: readonly string[];
}

export type RecordStoreFactory = (resource: string, fields: SchemaInput, options?: RecordStoreOptions) => RecordStore;

export interface ResidentRecordFactoryOptions extends RecordStoreOptions {
  /** The field that holds each record's country. Default `country`. */
  field?: string;
}

export type ResidentRecordFactory = (
  resource: string,
  fields: SchemaInput,
  options?: ResidentRecordFactoryOptions,
) => ResidentRecords;

export interface Stores {
  /** The backend each store kind runs on. */
  readonly backends: Readonly<Record<StoreKind, Backend>>;
  /** The shared server connections, for stores and routers that need a client (e.g. mongoose models). */
  readonly connections: Connections;
  readonly sessions: SessionStore;
  /** A records store per resource on the RECORDS backend, from a field declaration (cached by resource). */
  readonly records: RecordStoreFactory;
  /**
   * A `ResidentRecordStore` per resource (cached by resource): each country's records on its `RESIDENCY_STORES`
   * target (or the `residency` option), memory for every country when neither is set. See docs/residency.md.
   */
  readonly residentRecords: ResidentRecordFactory;
  /** Users, groups and API keys; behind the shared Redis cache when REDIS_URL is set. */
  readonly principals: PrincipalStore;
  readonly rateLimit: RateLimitStore;
  /** Quota counters, on the rate-limit backend. */
  readonly quotas: QuotaStore;
  readonly audit: AuditStore;
  /** The Redis fallback queue for audit events, when Redis is configured and is not the audit store itself. */
  readonly auditQueue?: ReliabilityQueue;
  /** ABAC policies; wrap in a `PolicyMirror` for in-memory decisions kept in sync across processes. */
  readonly policies: PolicyStore & PolicyChangeFeed;
  /** Pings every configured server; a kind is down when its server is. */
  health(): Promise<HealthReport>;
  /** Closes every store, then the connections this factory opened. */
  close(): Promise<void>;
}
