// Redis policy store: policies in a hash, index keys as sets narrowed by a Lua script on the server,
// writes as Lua scripts that also publish the change to every process (vakt's unmet Redis milestone).
import { hasHashTag, isCluster, shardOf, type RedisClient } from './client.js';
import type { CheckerName } from '../../src/abac/checkers.js';
import type { Inquiry } from '../../src/abac/inquiry.js';
import { POLICY_FIELDS, type Policy } from '../../src/abac/policy.js';
import type {
  AddManyOptions,
  PolicyChange,
  PolicyChangeFeed,
  PolicyMigrations,
  PolicyStore,
} from '../../src/contracts/policies.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { errorForLog, silentLogger, type Logger } from '../../src/logger.js';
import { redisCall } from './errors.js';
import {
  alreadyStored,
  asPolicy,
  indexKeysOf,
  lookupFor,
  ParsedPolicyCache,
  rawStringsOf,
  serializePolicy,
  runLimited,
  validateBatch,
  validateList,
  validatePage,
} from '../policy-documents.js';

export interface RedisPolicyStoreOptions {
  /** A connected ioredis client; the store never opens or closes it. */
  client: RedisClient;
  /**
   * Key prefix. Default `portcullis:policies:`. On a Redis Cluster the policies are spread over 16
   * shards by uid, `{<prefix><n>}:docs`... (a prefix with its own hash tag keeps them in that one slot).
   */
  prefix?: string;
  /**
   * A client for pub/sub (a subscribed connection can run nothing else). Default: `client.duplicate()`,
   * opened by `subscribe()` and closed by its unsubscribe function.
   */
  subscriber?: RedisClient;
  logger?: Logger;
}

// KEYS (one shard): docs hash, uid zset, membership set, revision, raw hash. ARGV: uid, json, mode, channel,
// raw, shard count, shard index, sets... A revision is the shard's counter times the shard count plus the
// shard's index: unique across shards and taken in the same script as the write (on one server, the counter).
const PUT = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if ARGV[3] == 'add' and exists == 1 then return -1 end
if ARGV[3] == 'update' and exists == 0 then return -2 end
for _, set in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', set, ARGV[1]) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
for i = 8, #ARGV do
  redis.call('SADD', ARGV[i], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[i])
end
local rev = redis.call('INCR', KEYS[4]) * tonumber(ARGV[6]) + tonumber(ARGV[7])
local kind = 'update'
if exists == 0 then kind = 'add' end
redis.call('PUBLISH', ARGV[4], cjson.encode({kind = kind, uid = ARGV[1], revision = rev}))
return rev`;

// addMany's batch, all of one shard. KEYS: docs hash, uid zset, revision, raw hash. ARGV: shard prefix, shard
// count, shard index, then per policy: uid, json, raw, number of sets, sets... Adds the policies whose uid is
// free and returns {revision (0 when none was added), {uids already stored}}; publishes nothing (the caller
// publishes one reset for the whole call).
const ADD_MANY = `
local existing = {}
local added = 0
local i = 4
while i <= #ARGV do
  local uid, count = ARGV[i], tonumber(ARGV[i + 3])
  if redis.call('HEXISTS', KEYS[1], uid) == 1 then
    existing[#existing + 1] = uid
  else
    local member = ARGV[1] .. 'member:' .. uid
    for _, set in ipairs(redis.call('SMEMBERS', member)) do redis.call('SREM', set, uid) end
    redis.call('DEL', member)
    redis.call('HSET', KEYS[1], uid, ARGV[i + 1])
    redis.call('HSET', KEYS[4], uid, ARGV[i + 2])
    redis.call('ZADD', KEYS[2], 0, uid)
    for j = i + 4, i + 3 + count do
      redis.call('SADD', ARGV[j], uid)
      redis.call('SADD', member, ARGV[j])
    end
    added = added + 1
  end
  i = i + 4 + count
end
local rev = 0
if added > 0 then rev = redis.call('INCR', KEYS[3]) * tonumber(ARGV[2]) + tonumber(ARGV[3]) end
return {rev, existing}`;

// Policies per ADD_MANY call and calls in flight: a call blocks its server for a few milliseconds, and a
// call queued behind too many others would run out of the command timeout.
const ADD_MANY_BATCH = 250;
const ADD_MANY_IN_FLIGHT = 4;

// retrieveAll: batches whose documents are requested ahead, and uids read per shard per round trip.
const RETRIEVE_AHEAD = 4;
const UID_CHUNK = 5000;

// KEYS (one shard): docs hash, uid zset, membership set, revision, raw hash. ARGV: uid, channel, shard count,
// shard index.
const DELETE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for _, set in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', set, ARGV[1]) end
redis.call('DEL', KEYS[3])
local rev = redis.call('INCR', KEYS[4]) * tonumber(ARGV[3]) + tonumber(ARGV[4])
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

// On a cluster the policies are spread over 16 shards by uid; each shard is a whole store (documents, uid
// list, index sets, revision) under its own hash tag, because one script intersects index sets that many
// of its policies share. Lookups ask every shard; lists merge the shards' uid lists.
const CLUSTER_SHARDS = 16;

interface Shard {
  index: number;
  prefix: string;
}

export class RedisPolicyStore implements PolicyStore, PolicyChangeFeed, PolicyMigrations {
  readonly backend = 'redis' as const;
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #shards: readonly Shard[];
  readonly #subscriber: RedisClient | undefined;
  readonly #logger: Logger;
  readonly #parsed = new ParsedPolicyCache();

  constructor(options: RedisPolicyStoreOptions) {
    if (!options?.client) throw new TypeError('RedisPolicyStore: options.client is required');
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'portcullis:policies:';
    // One server keeps the key names of earlier versions. A prefix with its own hash tag puts the whole
    // store in that one slot.
    const prefixes =
      isCluster(options.client) && !hasHashTag(this.#prefix)
        ? Array.from({ length: CLUSTER_SHARDS }, (_, index) => `{${this.#prefix}${index}}:`)
        : [this.#prefix];
    this.#shards = prefixes.map((prefix, index) => ({ index, prefix }));
    this.#subscriber = options.subscriber;
    this.#logger = options.logger ?? silentLogger;
  }

  // Keys of the store as a whole (one key each, any slot) and the change channel.
  #key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  get #channel(): string {
    return this.#key('changes');
  }

  #shardOf(uid: string): Shard {
    return this.#shards[shardOf(uid, this.#shards.length)]!;
  }

  #keys(shard: Shard, uid: string): string[] {
    const at = (name: string) => `${shard.prefix}${name}`;
    return [at('docs'), at('uids'), at(`member:${uid}`), at('revision'), at('raw')];
  }

  #setName(shard: Shard, mode: string, field: string, key: string): string {
    return `${shard.prefix}ix:${mode}:${field}:${key}`;
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
    for (const shard of this.#shards) {
      const [, uidsKey] = this.#keys(shard, '');
      const uids = await redisCall(() => this.#client.zrange(uidsKey!, '0', '-1'));
      for (const uid of uids) {
        const member = this.#keys(shard, uid)[2]!;
        const sets = await redisCall(() => this.#client.smembers(member));
        for (const set of sets) await redisCall(() => this.#client.srem(set, uid));
        await redisCall(() => this.#client.del(member));
      }
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

  /** One script per batch of a shard's policies, a few batches in flight; one `reset` published at the end. */
  async addMany(input: Iterable<unknown>, options: AddManyOptions = {}): Promise<number> {
    const policies = validateList(input);
    const byShard = new Map<Shard, Policy[]>();
    for (const policy of policies) {
      const shard = this.#shardOf(policy.uid);
      const list = byShard.get(shard);
      if (list) list.push(policy);
      else byShard.set(shard, [policy]);
    }
    const existing: string[] = [];
    let done = 0;
    let revision = 0;
    const tasks = [...byShard].flatMap(([shard, list]) =>
      Array.from({ length: Math.ceil(list.length / ADD_MANY_BATCH) }, (_, n) => async () => {
        const batch = list.slice(n * ADD_MANY_BATCH, (n + 1) * ADD_MANY_BATCH);
        const args: (string | number)[] = [shard.prefix, this.#shards.length, shard.index];
        for (const policy of batch) {
          const sets = this.#setsOf(shard, policy);
          args.push(policy.uid, serializePolicy(policy), JSON.stringify(rawStringsOf(policy)), sets.length, ...sets);
        }
        const [docs, uids, , rev, raw] = this.#keys(shard, '');
        const [written, skipped] = (await redisCall(() =>
          this.#client.eval(ADD_MANY, 4, docs!, uids!, rev!, raw!, ...args),
        )) as [number, string[]];
        revision = Math.max(revision, written);
        existing.push(...skipped);
        done += batch.length;
        options.onProgress?.(done, policies.length);
      }),
    );
    try {
      await runLimited(tasks, ADD_MANY_IN_FLIGHT);
    } finally {
      // Also after a failure part-way: subscribers must reload what was written before it.
      if (revision > 0) {
        const reset: PolicyChange = { kind: 'reset', revision };
        await redisCall(() => this.#client.publish(this.#channel, JSON.stringify(reset)));
      }
    }
    if (existing.length > 0) throw alreadyStored(existing, policies.length - existing.length);
    return policies.length;
  }

  /** The index sets a policy belongs to, its type set first. */
  #setsOf(shard: Shard, policy: Policy): string[] {
    const sets = [`${shard.prefix}type:${policy.type}`];
    for (const [indexMode, fields] of Object.entries(indexKeysOf(policy))) {
      for (const field of POLICY_FIELDS)
        for (const key of fields[field]) sets.push(this.#setName(shard, indexMode, field, key));
    }
    return sets;
  }

  async #put(policy: Policy, mode: 'add' | 'update' | 'put', publish: boolean): Promise<void> {
    const shard = this.#shardOf(policy.uid);
    const sets = this.#setsOf(shard, policy);
    const channel = publish ? this.#channel : this.#key('changes:silent');
    const result = await redisCall(() =>
      this.#client.eval(
        PUT,
        5,
        ...this.#keys(shard, policy.uid),
        policy.uid,
        serializePolicy(policy),
        mode,
        channel,
        JSON.stringify(rawStringsOf(policy)),
        this.#shards.length,
        shard.index,
        ...sets,
      ),
    );
    if (result === -1) throw new ConflictError(`A policy with uid "${policy.uid}" already exists.`);
    if (result === -2) throw new NotFoundError(`No policy with uid "${policy.uid}".`);
  }

  async get(uid: string): Promise<Policy | undefined> {
    if (typeof uid !== 'string') return undefined;
    const json = await redisCall(() => this.#client.hget(this.#keys(this.#shardOf(uid), uid)[0]!, uid));
    return json === null ? undefined : this.#parsed.parse(json);
  }

  async getAll(limit: number, offset = 0): Promise<Policy[]> {
    const page = validatePage(limit, offset);
    const uids: string[] = [];
    let skipped = 0;
    for await (const uid of this.#uidsInOrder(Math.min(1000, page.offset + page.limit))) {
      if (skipped < page.offset) skipped += 1;
      else uids.push(uid);
      if (uids.length === page.limit) break;
    }
    return this.#load(uids);
  }

  /**
   * The documents of up to `RETRIEVE_AHEAD` batches are requested while the caller handles the current one:
   * a mirror's cold start was one round trip after another (100 000 policies: 200, most of its time).
   */
  async *retrieveAll(batchSize = 1000): AsyncIterable<Policy[]> {
    const size = validateBatch(batchSize);
    const ahead: Promise<Policy[]>[] = [];
    const request = (uids: string[]) => {
      const loading = this.#load(uids, false);
      // Awaited in turn below; a failure of one further ahead must not count as unhandled meanwhile.
      loading.catch(() => undefined);
      ahead.push(loading);
    };
    let batch: string[] = [];
    for await (const uid of this.#uidsInOrder(Math.max(size, UID_CHUNK))) {
      batch.push(uid);
      if (batch.length < size) continue;
      request(batch);
      batch = [];
      if (ahead.length >= RETRIEVE_AHEAD) yield await ahead.shift()!;
    }
    if (batch.length > 0) request(batch);
    while (ahead.length > 0) yield await ahead.shift()!;
  }

  /** Every uid in order, merged from the shards' uid lists (read `chunk` at a time each, by keyset). */
  async *#uidsInOrder(chunk: number): AsyncGenerator<string> {
    const readers = this.#shards.map((shard) => ({
      key: this.#keys(shard, '')[1]!,
      after: '-',
      buffer: [] as string[],
      done: false,
    }));
    for (;;) {
      await Promise.all(
        readers.map(async (reader) => {
          if (reader.buffer.length > 0 || reader.done) return;
          const uids = await redisCall(() =>
            this.#client.zrangebylex(reader.key, reader.after, '+', 'LIMIT', '0', String(chunk)),
          );
          reader.buffer = uids;
          if (uids.length < chunk) reader.done = true;
          else reader.after = `(${uids.at(-1)}`;
        }),
      );
      let next: (typeof readers)[number] | undefined;
      for (const reader of readers) {
        // UTF-16 order, which is Redis' byte order except between surrogate pairs and U+E000-U+FFFF: there
        // the merged order may differ, never the set of uids (each shard is read by its own keyset).
        if (reader.buffer.length > 0 && (!next || reader.buffer[0]! < next.buffer[0]!)) next = reader;
      }
      if (!next) return;
      yield next.buffer.shift()!;
    }
  }

  async #load(uids: string[], remember = true): Promise<Policy[]> {
    if (uids.length === 0) return [];
    const byShard = new Map<Shard, string[]>();
    for (const uid of uids) {
      const shard = this.#shardOf(uid);
      const list = byShard.get(shard);
      if (list) list.push(uid);
      else byShard.set(shard, [uid]);
    }
    const found = new Map<string, string>();
    await Promise.all(
      [...byShard].map(async ([shard, list]) => {
        const docs = await redisCall(() => this.#client.hmget(this.#keys(shard, '')[0]!, ...list));
        list.forEach((uid, index) => {
          if (docs[index] !== null && docs[index] !== undefined) found.set(uid, docs[index]!);
        });
      }),
    );
    return uids.flatMap((uid) => (found.has(uid) ? [this.#parsed.parse(found.get(uid)!, remember)] : []));
  }

  async delete(uid: string): Promise<boolean> {
    if (typeof uid !== 'string') return false;
    const shard = this.#shardOf(uid);
    const result = await redisCall(() =>
      this.#client.eval(DELETE, 5, ...this.#keys(shard, uid), uid, this.#channel, this.#shards.length, shard.index),
    );
    return result === 1;
  }

  async findForInquiry(inquiry: Inquiry, checker: CheckerName = 'rules'): Promise<Policy[]> {
    const lookup = lookupFor(inquiry, checker);
    if (lookup.impossible) return [];
    const found = await Promise.all(
      this.#shards.map(async (shard) => {
        const args: string[] = [];
        for (const field of POLICY_FIELDS) {
          const keys = lookup.keys[field];
          if (!keys || !lookup.mode) continue;
          args.push(String(keys.length), ...keys.map((key) => this.#setName(shard, lookup.mode!, field, key)));
        }
        const [docs] = this.#keys(shard, '');
        return (await redisCall(() =>
          this.#client.eval(FIND, 2, docs!, `${shard.prefix}type:${lookup.type}`, ...args),
        )) as string[];
      }),
    );
    let policies = found.flat().map((doc) => this.#parsed.parse(doc));
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
