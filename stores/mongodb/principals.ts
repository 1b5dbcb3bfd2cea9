// MongoDB principal store: principals, groups, API keys and second factors in four collections keyed by id.
import type { Connection } from 'mongoose';
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
import { isDuplicateKey, mongoCall, upsertById } from './errors.js';
import {
  isTotpStep,
  secondFactorPage,
  validateApiKey,
  validateGroup,
  validatePrincipal,
  validateSecondFactor,
  validateSecondFactorChange,
} from '../principal-validation.js';

export interface MongoPrincipalStoreOptions {
  /** A connected mongoose connection; the store never opens or closes it. */
  connection: Connection;
  /**
   * Collection name prefix. Default `portcullis_`: `<prefix>principals`, `<prefix>groups`, `<prefix>api_keys`,
   * `<prefix>second_factors`, `<prefix>second_factor_claims`.
   */
  prefix?: string;
}

type Doc<T extends { id: string }> = Omit<T, 'id'> & { _id: string };

function toDoc<T extends { id: string }>(record: T): Doc<T> {
  const { id, ...rest } = record;
  // Drop undefined members: the driver would store them as null.
  const clean = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  return { _id: id, ...clean } as Doc<T>;
}

type SecondFactorDoc = Omit<SecondFactorRecord, 'principalId'> & { _id: string };
/** A used TOTP step (`_id` `<step>:<principal>`) or recovery code (`_id` `r:<hash>`). */
type ClaimDoc = { _id: string; principalId: string; step?: number };

function fromDoc<T extends { id: string }>(doc: Doc<T> | null): T | undefined {
  if (!doc) return undefined;
  const { _id, ...rest } = doc;
  const clean = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== null));
  return { id: _id, ...clean } as unknown as T;
}

export class MongoPrincipalStore implements PrincipalStore {
  readonly backend = 'mongodb' as const;
  readonly #connection: Connection;
  readonly #prefix: string;

  constructor(options: MongoPrincipalStoreOptions) {
    if (!options?.connection) throw new TypeError('MongoPrincipalStore: options.connection is required');
    this.#connection = options.connection;
    this.#prefix = options.prefix ?? 'portcullis_';
  }

  get #principals() {
    return this.#connection.collection<Doc<PrincipalRecord>>(`${this.#prefix}principals`);
  }
  get #groups() {
    return this.#connection.collection<Doc<GroupRecord>>(`${this.#prefix}groups`);
  }
  get #apiKeys() {
    return this.#connection.collection<Doc<ApiKeyRecord>>(`${this.#prefix}api_keys`);
  }
  get #secondFactors() {
    return this.#connection.collection<SecondFactorDoc>(`${this.#prefix}second_factors`);
  }
  get #claims() {
    return this.#connection.collection<ClaimDoc>(`${this.#prefix}second_factor_claims`);
  }

  async init(): Promise<void> {
    await mongoCall(async () => {
      await this.#principals.createIndex({ type: 1 }, { name: 'type' });
      await this.#apiKeys.createIndex({ principalId: 1, createdAt: -1 }, { name: 'principalId_createdAt' });
      await this.#claims.createIndex({ principalId: 1, step: 1 }, { name: 'principalId_step' });
    });
  }

  async getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    if (typeof id !== 'string') return undefined;
    return fromDoc(await mongoCall(() => this.#principals.findOne({ _id: id })));
  }

  async savePrincipal(record: PrincipalRecord): Promise<PrincipalRecord> {
    validatePrincipal(record);
    await upsertById(() => this.#principals.replaceOne({ _id: record.id }, toDoc(record), { upsert: true }));
    return structuredClone(record);
  }

  async deletePrincipal(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    return mongoCall(async () => {
      await this.#apiKeys.deleteMany({ principalId: id });
      await this.#secondFactors.deleteOne({ _id: id });
      await this.#claims.deleteMany({ principalId: id });
      return (await this.#principals.deleteOne({ _id: id })).deletedCount === 1;
    });
  }

  async listPrincipals(options: { type?: PrincipalType } = {}): Promise<PrincipalRecord[]> {
    const query = options.type === undefined ? {} : { type: options.type };
    const docs = await mongoCall(() => this.#principals.find(query).sort({ _id: 1 }).toArray());
    return docs.map((doc) => fromDoc<PrincipalRecord>(doc)!);
  }

  async getGroups(ids: readonly string[]): Promise<GroupRecord[]> {
    const wanted = ids.filter((id) => typeof id === 'string');
    if (wanted.length === 0) return [];
    const docs = await mongoCall(() => this.#groups.find({ _id: { $in: wanted } }).toArray());
    const byId = new Map(docs.map((doc) => [doc._id, fromDoc<GroupRecord>(doc)!]));
    return wanted.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  async saveGroup(record: GroupRecord): Promise<GroupRecord> {
    validateGroup(record);
    await upsertById(() => this.#groups.replaceOne({ _id: record.id }, toDoc(record), { upsert: true }));
    return structuredClone(record);
  }

  async deleteGroup(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    return (await mongoCall(() => this.#groups.deleteOne({ _id: id }))).deletedCount === 1;
  }

  async listGroups(): Promise<GroupRecord[]> {
    const docs = await mongoCall(() => this.#groups.find({}).sort({ _id: 1 }).toArray());
    return docs.map((doc) => fromDoc<GroupRecord>(doc)!);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    if (typeof id !== 'string') return undefined;
    return fromDoc(await mongoCall(() => this.#apiKeys.findOne({ _id: id })));
  }

  async createApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    validateApiKey(record);
    await mongoCall(async () => {
      try {
        await this.#apiKeys.insertOne(toDoc(record));
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('An API key with this id already exists.');
        throw error;
      }
    });
    return structuredClone(record);
  }

  async saveApiKey(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    validateApiKey(record);
    await upsertById(() => this.#apiKeys.replaceOne({ _id: record.id }, toDoc(record), { upsert: true }));
    return structuredClone(record);
  }

  async listApiKeys(principalId?: string): Promise<ApiKeyRecord[]> {
    const query = principalId === undefined ? {} : { principalId: String(principalId) };
    const docs = await mongoCall(() => this.#apiKeys.find(query).sort({ createdAt: -1 }).toArray());
    return docs.map((doc) => fromDoc<ApiKeyRecord>(doc)!);
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    if (typeof id !== 'string') return false;
    const result = await mongoCall(() =>
      this.#apiKeys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date(at) } }),
    );
    return result.modifiedCount === 1;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    if (typeof id !== 'string') return;
    await mongoCall(() => this.#apiKeys.updateOne({ _id: id }, { $set: { lastUsedAt: new Date(at) } }));
  }

  async getSecondFactor(principalId: string): Promise<SecondFactorRecord | undefined> {
    if (typeof principalId !== 'string') return undefined;
    const doc = await mongoCall(() => this.#secondFactors.findOne({ _id: principalId }));
    return doc ? secondFactorOf(doc) : undefined;
  }

  async saveSecondFactor(record: SecondFactorRecord): Promise<SecondFactorRecord> {
    validateSecondFactor(record);
    const { principalId, ...rest } = record;
    const doc = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
    await mongoCall(() => this.#claims.deleteMany({ principalId }));
    await upsertById(() =>
      this.#secondFactors.replaceOne({ _id: principalId }, { _id: principalId, ...doc } as SecondFactorDoc, {
        upsert: true,
      }),
    );
    return structuredClone(record);
  }

  async updateSecondFactor(
    principalId: string,
    change: SecondFactorChange,
    options: { ifSecret?: string } = {},
  ): Promise<boolean> {
    validateSecondFactorChange(change);
    if (typeof principalId !== 'string') return false;
    const filter = { _id: principalId, ...(options.ifSecret === undefined ? {} : { secret: options.ifSecret }) };
    const set: Record<string, unknown> = {};
    const unset: Record<string, ''> = {};
    for (const [key, value] of Object.entries(change)) {
      if (value === null) unset[key] = '';
      else if (value !== undefined) set[key] = value;
    }
    const update = {
      ...(Object.keys(set).length > 0 ? { $set: set } : {}),
      ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
    };
    if (Object.keys(update).length === 0) {
      return (await mongoCall(() => this.#secondFactors.countDocuments(filter, { limit: 1 }))) === 1;
    }
    const result = await mongoCall(() => this.#secondFactors.updateOne(filter, update));
    return result.matchedCount === 1;
  }

  async listSecondFactors(options: { after?: string; limit: number }): Promise<SecondFactorRecord[]> {
    const { after, limit } = secondFactorPage(options);
    const docs = await mongoCall(() =>
      this.#secondFactors
        .find(after === undefined ? {} : { _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map(secondFactorOf);
  }

  async deleteSecondFactor(principalId: string): Promise<boolean> {
    if (typeof principalId !== 'string') return false;
    return mongoCall(async () => {
      await this.#claims.deleteMany({ principalId });
      return (await this.#secondFactors.deleteOne({ _id: principalId })).deletedCount === 1;
    });
  }

  /**
   * A conditional update alone is not atomic on every server (FerretDB let several concurrent updates match
   * `lastStep < step`), so the claim is an insert under a unique `_id`, which is; `lastStep` then refuses
   * every earlier step, and older claims are dropped.
   */
  async claimTotpStep(principalId: string, step: number): Promise<boolean> {
    if (typeof principalId !== 'string' || !isTotpStep(step)) return false;
    const current = await this.getSecondFactor(principalId);
    if (!current || (current.lastStep !== undefined && current.lastStep >= step)) return false;
    if (!(await this.#claim({ _id: `${step}:${principalId}`, principalId, step }))) return false;
    await mongoCall(async () => {
      await this.#secondFactors.updateOne(
        { _id: principalId, $or: [{ lastStep: { $exists: false } }, { lastStep: { $lt: step } }] },
        { $set: { lastStep: step } },
      );
      await this.#claims.deleteMany({ principalId, step: { $lt: step } });
    });
    return true;
  }

  async useRecoveryCode(principalId: string, hash: string): Promise<boolean> {
    if (typeof principalId !== 'string' || typeof hash !== 'string') return false;
    const current = await this.getSecondFactor(principalId);
    if (!current?.recoveryCodes.includes(hash)) return false;
    if (!(await this.#claim({ _id: `r:${hash}`, principalId }))) return false;
    await mongoCall(() => this.#secondFactors.updateOne({ _id: principalId }, { $pull: { recoveryCodes: hash } }));
    return true;
  }

  /** True when this call inserted the claim, false when it was there already. */
  async #claim(doc: ClaimDoc): Promise<boolean> {
    return mongoCall(async () => {
      try {
        await this.#claims.insertOne(doc);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }
}

// A cleared optional field may be stored as null (by `$unset` on some servers): the record leaves it out.
function secondFactorOf({ _id, ...rest }: SecondFactorDoc): SecondFactorRecord {
  const clean = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== null));
  return { principalId: _id, ...clean } as SecondFactorRecord;
}
