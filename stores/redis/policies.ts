// Redis policy store: policies in a hash, index keys as sets narrowed by a Lua script on the server,
// writes as Lua scripts that also publish the change to every process (vakt's unmet Redis milestone).
import { hasHashTag, isCluster, type RedisClient } from './client.js';
import type { CheckerName } from '../../src/abac/checkers.js';
import type { Inquiry } from '../../src/abac/inquiry.js';
import { POLICY_FIELDS, type Policy } from '../../src/abac/policy.js';
import type { PolicyChange, PolicyChangeFeed, PolicyMigrations, PolicyStore } from '../../src/contracts/policies.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../../src/logger.js';
import { redisCall } from '../errors.js';
import {
  asPolicy,
  indexKeysOf,
  lookupFor,
  ParsedPolicyCache,
  rawStringsOf,
  serializePolicy,
  validateBatch,
  validatePage,
} from '../policy-documents.js';

export interface RedisPolicyStoreOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: RedisClient;
  /**
   * Key prefix. Default `portcullis:policies:`. On a Redis Cluster a prefix without a hash tag is
   * wrapped in one (`{portcullis:policies:}`): the scripts touch index keys they compute, which must
   * share a slot.
   */
  prefix?: string;
  /**
   * A client for pub/sub (a subscribed connection can run nothing else). Default: `client.duplicate()`,
   * opened by `subscribe()` and closed by its unsubscribe function.
   */
  subscriber?: RedisClient;
  logger?: Logger;
}

// KEYS: docs hash, uid zset, membership set, revision, raw hash. ARGV: uid, json, mode, channel, raw, sets...
const PUT = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if ARGV[3] == 'add' and exists == 1 then return -1 end
if ARGV[3] == 'update' and exists == 0 then return -2 end
for _, set in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', set, ARGV[1]) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
for i = 6, #ARGV do
  redis.call('SADD', ARGV[i], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[i])
end
local rev = redis.call('INCR', KEYS[4])
local kind = 'update'
if exists == 0 then kind = 'add' end
redis.call('PUBLISH', ARGV[4], cjson.encode({kind = kind, uid = ARGV[1], revision = rev}))
return rev`;

// KEYS: docs hash, uid zset, membership set, revision, raw hash. ARGV: uid, channel.
const DELETE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for _, set in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', set, ARGV[1]) end
redis.call('DEL', KEYS[3])
local rev = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[2], cjson.encode({kind = 'delete', uid = ARGV[1], revision = rev}))
return 1`;

// KEYS: docs hash, type set. ARGV: groups of (count, set names...); count 0 means "not narrowed".
// Intersects the per-field unions, smallest first, and returns the matching documents.
const FIND = `
local result = nil
local i = 1
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  if count > 0 then
    local sets = {}
    for j = 1, count do sets[j] = ARGV[i + j] end
    local members = redis.call('SUNION', unpack(sets))
    if result == nil then
      result = {}
      for _, uid in ipairs(members) do result[uid] = true end
    else
      local next = {}
      for _, uid in ipairs(members) do if result[uid] then next[uid] = true end end
      result = next
    end
  end
  i = i + count + 1
end
local uids = {}
if result == nil then
  uids = redis.call('SMEMBERS', KEYS[2])
else
  for uid, _ in pairs(result) do uids[#uids + 1] = uid end
end
if #uids == 0 then return {} end
local docs = redis.call('HMGET', KEYS[1], unpack(uids))
local out = {}
for k, doc in ipairs(docs) do if doc then out[#out + 1] = doc end end
return out`;

// Each migration (re)builds the index sets of every stored policy. 2: rules follow vakt's Python equality
// (`Eq(1)` also under `true`) and the exact checker drops tags wrapping a string whole.
const MIGRATIONS = [
  { version: 1, description: 'index sets for every stored policy' },
  { version: 2, description: "index sets recomputed for vakt's equality (true == 1) and whole-tag exact strings" },
];

export class RedisPolicyStore implements PolicyStore, PolicyChangeFeed, PolicyMigrations {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #subscriber: RedisClient | undefined;
  readonly #logger: Logger;
  readonly #parsed = new ParsedPolicyCache();

  constructor(options: RedisPolicyStoreOptions) {
    if (!options?.client) throw new TypeError('RedisPolicyStore: options.client is required');
    this.#client = options.client;
    const prefix = options.prefix ?? 'portcullis:policies:';
    // The index sets are shared by many policies and intersected by one script, so on a cluster the whole
    // store needs one hash slot: its own, apart from sessions, counters and audit shards.
    this.#prefix = isCluster(options.client) && !hasHashTag(prefix) ? `{${prefix}}` : prefix;
    this.#subscriber = options.subscriber;
    this.#logger = options.logger ?? silentLogger;
  }

  #key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  get #channel(): string {
    return this.#key('changes');
  }

  #keys(uid: string): string[] {
    return [this.#key('docs'), this.#key('uids'), this.#key(`member:${uid}`), this.#key('revision'), this.#key('raw')];
  }

  #setName(mode: string, field: string, key: string): string {
    return this.#key(`ix:${mode}:${field}:${key}`);
  }

  async init(): Promise<void> {
    await this.migrateUp();
  }

  async appliedMigrations(): Promise<number[]> {
    const members = await redisCall(() => this.#client.smembers(this.#key('migrations')));
    return members.map(Number).sort((a, b) => a - b);
  }

  /** Migration 1 (re)builds the index sets of every stored policy, e.g. after restoring only the hash. */
  async migrateUp(target = Infinity): Promise<number[]> {
    const applied = new Set(await this.appliedMigrations());
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version > target || applied.has(migration.version)) continue;
      for await (const batch of this.retrieveAll(500)) {
        for (const policy of batch) await this.#put(policy, 'put', false);
      }
      await redisCall(() => this.#client.sadd(this.#key('migrations'), String(migration.version)));
      done.push(migration.version);
    }
    return done;
  }

  /** Rolling back migration 1 removes the index sets (the policies stay). */
  async migrateDown(target = 0): Promise<number[]> {
    const applied = new Set(await this.appliedMigrations());
    const done: number[] = [];
    // Rolling back 2 keeps the (wider) index sets.
    if (target < 2 && applied.has(2)) {
      await redisCall(() => this.#client.srem(this.#key('migrations'), '2'));
      done.push(2);
    }
    if (target >= 1 || !applied.has(1)) return done;
    const uids = await redisCall(() => this.#client.zrange(this.#key('uids'), '0', '-1'));
    for (const uid of uids) {
      const sets = await redisCall(() => this.#client.smembers(this.#key(`member:${uid}`)));
      if (sets.length > 0) await redisCall(() => this.#client.srem(sets[0]!, uid));
      for (const set of sets.slice(1)) await redisCall(() => this.#client.srem(set, uid));
      await redisCall(() => this.#client.del(this.#key(`member:${uid}`)));
    }
    await redisCall(() => this.#client.srem(this.#key('migrations'), '1'));
    return [...done, 1];
  }

  async add(input: Policy): Promise<void> {
    await this.#put(asPolicy(input), 'add', true);
  }

  async update(input: Policy): Promise<void> {
    await this.#put(asPolicy(input), 'update', true);
  }

  async #put(policy: Policy, mode: 'add' | 'update' | 'put', publish: boolean): Promise<void> {
    const sets = [this.#key(`type:${policy.type}`)];
    for (const [indexMode, fields] of Object.entries(indexKeysOf(policy))) {
      for (const field of POLICY_FIELDS)
        for (const key of fields[field]) sets.push(this.#setName(indexMode, field, key));
    }
    const channel = publish ? this.#channel : this.#key('changes:silent');
    const result = await redisCall(() =>
      this.#client.eval(
        PUT,
        5,
        ...this.#keys(policy.uid),
        policy.uid,
        serializePolicy(policy),
        mode,
        channel,
        JSON.stringify(rawStringsOf(policy)),
        ...sets,
      ),
    );
    if (result === -1) throw new ConflictError(`A policy with uid "${policy.uid}" already exists.`);
    if (result === -2) throw new NotFoundError(`No policy with uid "${policy.uid}".`);
  }

  async get(uid: string): Promise<Policy | undefined> {
    if (typeof uid !== 'string') return undefined;
    const json = await redisCall(() => this.#client.hget(this.#key('docs'), uid));
    return json === null ? undefined : this.#parsed.parse(json);
  }

  async getAll(limit: number, offset = 0): Promise<Policy[]> {
    const page = validatePage(limit, offset);
    const uids = await redisCall(() =>
      this.#client.zrange(this.#key('uids'), String(page.offset), String(page.offset + page.limit - 1)),
    );
    return this.#load(uids);
  }

  async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const size = validateBatch(batchSize);
    let after = '-';
    for (;;) {
      const uids = await redisCall(() =>
        this.#client.zrangebylex(this.#key('uids'), after, '+', 'LIMIT', '0', String(size)),
      );
      if (uids.length === 0) return;
      yield await this.#load(uids);
      if (uids.length < size) return;
      after = `(${uids[uids.length - 1]}`;
    }
  }

  async #load(uids: string[]): Promise<Policy[]> {
    if (uids.length === 0) return [];
    const docs = await redisCall(() => this.#client.hmget(this.#key('docs'), ...uids));
    return docs.filter((doc): doc is string => doc !== null).map((doc) => this.#parsed.parse(doc));
  }

  async delete(uid: string): Promise<boolean> {
    if (typeof uid !== 'string') return false;
    const result = await redisCall(() => this.#client.eval(DELETE, 5, ...this.#keys(uid), uid, this.#channel));
    return result === 1;
  }

  async findForInquiry(inquiry: Inquiry, checker: CheckerName = 'rules'): Promise<Policy[]> {
    const lookup = lookupFor(inquiry, checker);
    if (lookup.impossible) return [];
    const args: string[] = [];
    for (const field of POLICY_FIELDS) {
      const keys = lookup.keys[field];
      if (!keys || !lookup.mode) continue;
      args.push(String(keys.length), ...keys.map((key) => this.#setName(lookup.mode!, field, key)));
    }
    const docs = (await redisCall(() =>
      this.#client.eval(FIND, 2, this.#key('docs'), this.#key(`type:${lookup.type}`), ...args),
    )) as string[];
    let policies = docs.map((doc) => this.#parsed.parse(doc));
    if (!lookup.mode) {
      // Fuzzy: substring search on the client; the type set already narrowed to string policies.
      policies = policies.filter((policy) =>
        POLICY_FIELDS.every((field) =>
          policy[field].some((item) => typeof item === 'string' && item.includes(lookup.fuzzy[field]!)),
        ),
      );
    }
    return policies;
  }

  async subscribe(listener: (change: PolicyChange) => void, onGap?: () => void): Promise<() => Promise<void>> {
    const owned = this.#subscriber === undefined;
    const subscriber = this.#subscriber ?? duplicate(this.#client);
    let ready = false;
    const onMessage = (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      try {
        const change = JSON.parse(message) as PolicyChange;
        listener(change);
      } catch (error) {
        this.#logger.warn({ err: errorForLog(error) }, 'abac: unreadable policy change message');
      }
    };
    // A reconnect may have lost messages: reload then.
    const onReady = () => {
      if (ready) onGap?.();
      ready = true;
    };
    if (subscriber.status !== 'ready') await waitReady(subscriber);
    subscriber.on('message', onMessage);
    subscriber.on('ready', onReady);
    await redisCall(() => subscriber.subscribe(this.#channel));
    ready = true;
    return async () => {
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      if (owned) {
        await subscriber.quit().catch(() => subscriber.disconnect());
      } else {
        await subscriber.unsubscribe(this.#channel).catch(() => undefined);
      }
    };
  }
}

// The two classes' duplicate() take different arguments, so TypeScript cannot call it on the union.
function duplicate(client: RedisClient): RedisClient {
  return isCluster(client) ? client.duplicate() : client.duplicate();
}

// A duplicated connection starts connecting at once; commands fail fast until it is ready.
async function waitReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  // Duplicates inherit `lazyConnect`: connect them explicitly.
  if (client.status === 'wait') {
    await redisCall(() => client.connect());
    return;
  }
  await redisCall(
    () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Redis subscriber did not connect in time')), timeoutMs);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  );
}
