// In-memory principal store: users, OIDC groups, permission groups, API keys and second factors in maps, copied on the way in and out.
import type {
  ApiKeyRecord,
  GroupRecord,
  PrincipalRecord,
  PrincipalStore,
  PrincipalType,
  SecondFactorChange,
  SecondFactorRecord,
} from '../../src/contracts/principals.js';
import { ConflictError } from '../../src/errors.js';
import {
  isTotpStep,
  secondFactorPage,
  validateApiKey,
  validateGroup,
  validatePrincipal,
  validateSecondFactor,
  validateSecondFactorChange,
} from '../principal-validation.js';
import { copyData } from './copy.js';

export class MemoryPrincipalStore implements PrincipalStore {
  readonly backend = 'memory' as const;
  readonly #principals = new Map<string, PrincipalRecord>();
  readonly #groups = new Map<string, GroupRecord>();
  readonly #apiKeys = new Map<string, ApiKeyRecord>();
  readonly #secondFactors = new Map<string, SecondFactorRecord>();

  async getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    const record = typeof id === 'string' ? this.#principals.get(id) : undefined;
    return record && copyData(record);
  }

  async savePrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    validatePrincipal(record);
    this.#principals.set(record.id, copyData(record));
    return copyData(record);
  }

  async deletePrincipal(id: string): Promise<boolean> {
    for (const [keyId, key] of this.#apiKeys) if (key.principalId === id) this.#apiKeys.delete(keyId);
    this.#secondFactors.delete(id);
    return this.#principals.delete(id);
  }

  async listPrincipals(options: { type?: PrincipalType } = {}): Promise<PrincipalRecord[]> {
    return [...this.#principals.values()]
      .filter((record) => options.type === undefined || record.type === options.type)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((record) => copyData(record));
  }

  async getGroups(ids: readonly string[]): Promise<GroupRecord[]> {
    return ids.flatMap((id) => {
      const group = this.#groups.get(id);
      return group ? [copyData(group)] : [];
    });
  }

  async saveGroup(record: GroupRecord): Promise<GroupRecord> {
    validateGroup(record);
    this.#groups.set(record.id, copyData(record));
    return copyData(record);
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.#groups.delete(id);
  }

  async listGroups(): Promise<GroupRecord[]> {
    return [...this.#groups.values()].sort((a, b) => a.id.localeCompare(b.id)).map((g) => copyData(g));
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const record = typeof id === 'string' ? this.#apiKeys.get(id) : undefined;
    return record && copyData(record);
  }

  async createApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    validateApiKey(record);
    if (this.#apiKeys.has(record.id)) throw new ConflictError('An API key with this id already exists.');
    this.#apiKeys.set(record.id, copyData(record));
    return copyData(record);
  }

  async saveApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    validateApiKey(record);
    this.#apiKeys.set(record.id, copyData(record));
    return copyData(record);
  }

  async listApiKeys(principalId?: string): Promise<ApiKeyRecord[]> {
    return [...this.#apiKeys.values()]
      .filter((key) => principalId === undefined || key.principalId === principalId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((key) => copyData(key));
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const key = this.#apiKeys.get(id);
    if (!key || key.revokedAt) return false;
    key.revokedAt = new Date(at);
    return true;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    const key = this.#apiKeys.get(id);
    if (key) key.lastUsedAt = new Date(at);
  }

  async getSecondFactor(principalId: string): Promise<SecondFactorRecord | undefined> {
    const record = typeof principalId === 'string' ? this.#secondFactors.get(principalId) : undefined;
    return record && copyData(record);
  }

  async saveSecondFactor(record: SecondFactorRecord): Promise<SecondFactorRecord> {
    validateSecondFactor(record);
    this.#secondFactors.set(record.principalId, copyData(record));
    return copyData(record);
  }

  async updateSecondFactor(
    principalId: string,
    change: SecondFactorChange,
    options: { ifSecret?: string } = {},
  ): Promise<boolean> {
    validateSecondFactorChange(change);
    const record = typeof principalId === 'string' ? this.#secondFactors.get(principalId) : undefined;
    if (!record || (options.ifSecret !== undefined && record.secret !== options.ifSecret)) return false;
    for (const [key, value] of Object.entries(copyData(change)) as [keyof SecondFactorChange, unknown][]) {
      if (value === null) delete record[key];
      else if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
    }
    return true;
  }

  async deleteSecondFactor(principalId: string): Promise<boolean> {
    return this.#secondFactors.delete(principalId);
  }

  async listSecondFactors(options: { after?: string; limit: number }): Promise<SecondFactorRecord[]> {
    const { after, limit } = secondFactorPage(options);
    return [...this.#secondFactors.keys()]
      .filter((id) => after === undefined || id > after)
      .sort()
      .slice(0, limit)
      .map((id) => copyData(this.#secondFactors.get(id)!));
  }

  async claimTotpStep(principalId: string, step: number): Promise<boolean> {
    const record = typeof principalId === 'string' ? this.#secondFactors.get(principalId) : undefined;
    if (!record || !isTotpStep(step) || (record.lastStep !== undefined && record.lastStep >= step)) return false;
    record.lastStep = step;
    return true;
  }

  async useRecoveryCode(principalId: string, hash: string): Promise<boolean> {
    const record = typeof principalId === 'string' ? this.#secondFactors.get(principalId) : undefined;
    const index = record && typeof hash === 'string' ? record.recoveryCodes.indexOf(hash) : -1;
    if (index < 0) return false;
    record!.recoveryCodes.splice(index, 1);
    return true;
  }
}
