// A Redis read-through cache shared by every process, in front of any principal store.
import type { RedisClient } from './client.js';
import type {
  ApiKeyRecord,
  GroupRecord,
  PrincipalRecord,
  PrincipalStore,
  PrincipalType,
  SecondFactorChange,
  SecondFactorRecord,
} from '../../src/contracts/principals.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { integerOption } from '../../src/options.js';
import { redisCall } from './errors.js';

export interface RedisPrincipalCacheOptions {
  /** The store of record (memory or MongoDB). */
  store: PrincipalStore;
  /** A connected ioredis client; the cache never opens or closes it. */
  client: RedisClient;
  /** How long an entry lives, and how long an entry stays uncached after a change. Default 60 000. */
  ttlMs?: number;
  /** Key prefix. Default `portcullis:`. */
  prefix?: string;
  logger?: Logger;
}

const MISSING = '-';
// An entry that changed: readers go to the store of record and cannot fill it (their `SET NX` fails), so a
// value a reader loaded before the change can never land after it.
const CHANGED = '~';

/**
 * Reads go to Redis first and fill it with `SET NX`. Every write first marks its entries CHANGED in Redis,
 * and only then writes the store of record: when Redis cannot take the mark the write is refused (503) and
 * the store is left as it was, so no change (a revoked key, a disabled principal) is ever made while an old
 * entry could outlive it. A retry does the whole write again. Because the cache is shared, the change is
 * seen by every process on its next request. When Redis is unreachable, reads fall through to the store.
 */
export class RedisPrincipalCache implements PrincipalStore {
  readonly #store: PrincipalStore;
  readonly #client: RedisClient;
  readonly #ttlMs: number;
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(options: RedisPrincipalCacheOptions) {
    if (!options?.store) throw new TypeError('RedisPrincipalCache: options.store is required');
    if (!options.client) throw new TypeError('RedisPrincipalCache: options.client is required');
    this.#store = options.store;
    this.#client = options.client;
    this.#ttlMs = integerOption('ttlMs', options.ttlMs, { fallback: 60_000, min: 1 });
    this.#prefix = `${options.prefix ?? 'portcullis:'}pc:`;
    this.#logger = options.logger ?? silentLogger;
  }

  get backend() {
    return this.#store.backend;
  }

  init(): Promise<void> {
    return this.#store.init?.() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.#store.close?.() ?? Promise.resolve();
  }

  async #read<T>(key: string, load: () => Promise<T | undefined>, revive: (raw: T) => T): Promise<T | undefined> {
    const fullKey = this.#prefix + key;
    let cached: string | null;
    try {
      cached = await this.#client.get(fullKey);
    } catch (error) {
      this.#logger.warn(
        { code: 'principal_cache.unavailable', err: (error as Error).name },
        'principal cache read failed',
      );
      return load();
    }
    if (cached === MISSING) return undefined;
    if (cached === CHANGED) return load();
    if (cached !== null) return revive(JSON.parse(cached) as T);
    const value = await load();
    this.#client
      .set(fullKey, value === undefined ? MISSING : JSON.stringify(value), 'PX', this.#ttlMs, 'NX')
      .catch(() => undefined);
    return value;
  }

  /**
   * Runs a write to the store of record with `keys` marked CHANGED around it. The mark before is required
   * (else 503, store untouched). The mark after renews it for a store write that outlasted part of its
   * lifetime (a reader that loaded the old value then could fill the entry once the mark expired); failing
   * to renew it is only a problem then, and answers 503 so that the caller retries.
   */
  async #change<T>(keys: readonly string[], write: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      await this.#mark(keys);
    } catch (error) {
      this.#logger.warn(
        { code: 'principal_cache.unavailable', keys, err: (error as Error).name },
        'principal cache entries not invalidated; change refused',
      );
      throw error;
    }
    const result = await write();
    try {
      await this.#mark(keys);
    } catch (error) {
      if (Date.now() - started < this.#ttlMs / 2) return result;
      this.#logger.warn(
        { code: 'principal_cache.unavailable', keys, err: (error as Error).name },
        'principal cache entries not invalidated again after a slow change; answered 503 for a retry',
      );
      throw error;
    }
    return result;
  }

  #mark(keys: readonly string[]): Promise<unknown> {
    return redisCall(() =>
      Promise.all(keys.map((key) => this.#client.set(this.#prefix + key, CHANGED, 'PX', this.#ttlMs))),
    );
  }

  getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    return this.#read(
      `p:${id}`,
      () => this.#store.getPrincipal(id),
      (raw) => raw,
    );
  }

  savePrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    return this.#change([`p:${record.id}`], () => this.#store.savePrincipal(record));
  }

  async deletePrincipal(id: string): Promise<boolean> {
    const keys = await this.#store.listApiKeys(id);
    return this.#change([`p:${id}`, ...keys.map((key) => `k:${key.id}`)], () => this.#store.deletePrincipal(id));
  }

  listPrincipals(options?: { type?: PrincipalType }): Promise<PrincipalRecord[]> {
    return this.#store.listPrincipals(options);
  }

  async getGroups(ids: readonly string[]): Promise<GroupRecord[]> {
    const groups = await Promise.all(
      ids.map((id) =>
        this.#read(
          `g:${id}`,
          async () => (await this.#store.getGroups([id]))[0],
          (raw) => raw,
        ),
      ),
    );
    return groups.filter((group): group is GroupRecord => group !== undefined);
  }

  saveGroup(record: GroupRecord): Promise<GroupRecord> {
    return this.#change([`g:${record.id}`], () => this.#store.saveGroup(record));
  }

  deleteGroup(id: string): Promise<boolean> {
    return this.#change([`g:${id}`], () => this.#store.deleteGroup(id));
  }

  listGroups(): Promise<GroupRecord[]> {
    return this.#store.listGroups();
  }

  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#read(`k:${id}`, () => this.#store.getApiKey(id), reviveApiKey);
  }

  createApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    return this.#change([`k:${record.id}`], () => this.#store.createApiKey(record));
  }

  saveApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    return this.#change([`k:${record.id}`], () => this.#store.saveApiKey(record));
  }

  listApiKeys(principalId?: string): Promise<ApiKeyRecord[]> {
    return this.#store.listApiKeys(principalId);
  }

  revokeApiKey(id: string, at: Date): Promise<boolean> {
    return this.#change([`k:${id}`], () => this.#store.revokeApiKey(id, at));
  }

  touchApiKey(id: string, at: Date): Promise<void> {
    // Last-use times are read from the store of record (admin listing), so the cache is left alone.
    return this.#store.touchApiKey(id, at);
  }

  // Second factors are never cached: a stale `lastStep` or recovery-code list would let a code be used twice.
  getSecondFactor(principalId: string): Promise<SecondFactorRecord | undefined> {
    return this.#store.getSecondFactor(principalId);
  }

  saveSecondFactor(record: SecondFactorRecord): Promise<SecondFactorRecord> {
    return this.#store.saveSecondFactor(record);
  }

  updateSecondFactor(
    principalId: string,
    change: SecondFactorChange,
    options?: { ifSecret?: string },
  ): Promise<boolean> {
    return this.#store.updateSecondFactor(principalId, change, options);
  }

  listSecondFactors(options: { after?: string; limit: number }): Promise<SecondFactorRecord[]> {
    return this.#store.listSecondFactors(options);
  }

  deleteSecondFactor(principalId: string): Promise<boolean> {
    return this.#store.deleteSecondFactor(principalId);
  }

  claimTotpStep(principalId: string, step: number): Promise<boolean> {
    return this.#store.claimTotpStep(principalId, step);
  }

  useRecoveryCode(principalId: string, hash: string): Promise<boolean> {
    return this.#store.useRecoveryCode(principalId, hash);
  }
}

function reviveApiKey(raw: ApiKeyRecord): ApiKeyRecord {
  const record = { ...raw, createdAt: new Date(raw.createdAt) };
  for (const key of ['expiresAt', 'lastUsedAt', 'revokedAt'] as const) {
    if (raw[key] !== undefined) record[key] = new Date(raw[key]);
  }
  return record;
}
