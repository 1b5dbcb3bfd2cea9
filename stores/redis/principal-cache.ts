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

export interface RedisPrincipalCacheOptions {
  /** The store of record (memory or MongoDB). */
  store: PrincipalStore;
  /** A connected ioredis client; the cache never opens or closes it. */
  client: RedisClient;
  /** How long an entry lives. It also bounds staleness if Redis was unreachable during a change. Default 60 000. */
  ttlMs?: number;
  /** Key prefix. Default `portcullis:`. */
  prefix?: string;
  logger?: Logger;
}

const MISSING = '-';

/**
 * Reads go to Redis first and fill it with `SET NX` (so a slow reader never overwrites a newer value);
 * every write goes to the store of record, then overwrites or deletes the cache entry. Because the cache
 * is shared, a revoked key or changed grant is seen by every process on its next request. When Redis is
 * unreachable, reads fall through to the store of record.
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
    if (cached !== null) return revive(JSON.parse(cached) as T);
    const value = await load();
    this.#client
      .set(fullKey, value === undefined ? MISSING : JSON.stringify(value), 'PX', this.#ttlMs, 'NX')
      .catch(() => undefined);
    return value;
  }

  async #write(key: string, value: unknown): Promise<void> {
    try {
      if (value === undefined) await this.#client.del(this.#prefix + key);
      else await this.#client.set(this.#prefix + key, JSON.stringify(value), 'PX', this.#ttlMs);
    } catch (error) {
      this.#logger.warn(
        { code: 'principal_cache.stale', key, err: (error as Error).name },
        'principal cache not updated',
      );
    }
  }

  getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    return this.#read(
      `p:${id}`,
      () => this.#store.getPrincipal(id),
      (raw) => raw,
    );
  }

  async savePrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    const saved = await this.#store.savePrincipal(record);
    await this.#write(`p:${record.id}`, saved);
    return saved;
  }

  async deletePrincipal(id: string): Promise<boolean> {
    const keys = await this.#store.listApiKeys(id);
    const deleted = await this.#store.deletePrincipal(id);
    await this.#write(`p:${id}`, undefined);
    for (const key of keys) await this.#write(`k:${key.id}`, undefined);
    return deleted;
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

  async saveGroup(record: GroupRecord): Promise<GroupRecord> {
    const saved = await this.#store.saveGroup(record);
    await this.#write(`g:${record.id}`, saved);
    return saved;
  }

  async deleteGroup(id: string): Promise<boolean> {
    const deleted = await this.#store.deleteGroup(id);
    await this.#write(`g:${id}`, undefined);
    return deleted;
  }

  listGroups(): Promise<GroupRecord[]> {
    return this.#store.listGroups();
  }

  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#read(`k:${id}`, () => this.#store.getApiKey(id), reviveApiKey);
  }

  async createApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    const created = await this.#store.createApiKey(record);
    await this.#write(`k:${record.id}`, created);
    return created;
  }

  async saveApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    const saved = await this.#store.saveApiKey(record);
    await this.#write(`k:${record.id}`, saved);
    return saved;
  }

  listApiKeys(principalId?: string): Promise<ApiKeyRecord[]> {
    return this.#store.listApiKeys(principalId);
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const revoked = await this.#store.revokeApiKey(id, at);
    await this.#write(`k:${id}`, await this.#store.getApiKey(id));
    return revoked;
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
