// Rate-limit and quota counter contracts, run against memory and Redis.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QuotaStore, RateLimitStore } from '../../src/contracts/rate-limit.js';
import { MemoryQuotaStore, MemoryRateLimitStore } from '../../stores/memory/rate-limit.js';
import { RedisQuotaStore, RedisRateLimitStore } from '../../stores/redis/rate-limit.js';
import { deleteKeys } from '../support/connections.js';
import { contractSuite, onEachRedis, type Implementation } from './harness.js';

function redisCleanup(
  client: Awaited<ReturnType<Parameters<Implementation<unknown>['create']>[0]['redis']>>,
  prefix: string,
) {
  return async () => {
    await deleteKeys(client, `*${prefix}*`);
  };
}

const limiters: Implementation<RateLimitStore>[] = [
  { name: 'memory', create: async () => ({ store: new MemoryRateLimitStore() }) },
  ...onEachRedis({
    name: 'redis',
    async create(context) {
      const client = await context.redis();
      const prefix = `${context.name}:`;
      return { store: new RedisRateLimitStore({ client, prefix }), cleanup: redisCleanup(client, prefix) };
    },
  }),
];

contractSuite('rate-limit', limiters, (store) => {
  it('counts hits in the window init() gave it and resets after it', async function () {
    await store().init({ windowMs: 300 });
    const first = await store().increment('k');
    expect(first.totalHits).to.equal(1);
    expect(first.resetTime.getTime()).to.be.within(Date.now() + 100, Date.now() + 301);
    expect((await store().increment('k')).totalHits).to.equal(2);
    expect((await store().get('k'))?.totalHits).to.equal(2);
    await sleep(400);
    expect(await store().get('k')).to.equal(undefined);
    expect((await store().increment('k')).totalHits).to.equal(1);
  });

  it('decrement takes a hit back and never creates a counter', async function () {
    await store().increment('d');
    await store().increment('d');
    await store().decrement('d');
    expect((await store().get('d'))?.totalHits).to.equal(1);
    await store().decrement('never');
    expect(await store().get('never')).to.equal(undefined);
  });

  it('resetKey forgets a key', async function () {
    await store().increment('r');
    await store().resetKey('r');
    expect(await store().get('r')).to.equal(undefined);
  });

  it('counts concurrent hits exactly', async function () {
    const results = await Promise.all(Array.from({ length: 50 }, () => store().increment('c')));
    expect(results.map((r) => r.totalHits).sort((a, b) => a - b)).to.deep.equal(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('forLimiter: each limiter has its own window and counters, under its own prefix', async function () {
    const short = store().forLimiter('short');
    const long = store().forLimiter('long');
    await short.init({ windowMs: 300 });
    await long.init({ windowMs: 10_000 });
    expect(short.prefix).to.equal(`${store().prefix}short:`);
    expect(short.prefix).to.not.equal(long.prefix);
    expect((await short.increment('k')).totalHits).to.equal(1);
    expect((await short.increment('k')).totalHits).to.equal(2);
    const other = await long.increment('k');
    expect(other.totalHits).to.equal(1);
    expect(other.resetTime.getTime()).to.be.greaterThan(Date.now() + 5000);
    expect(await store().get('k')).to.equal(undefined);
    // A second view of the same name shares the counter (two processes, or a limiter built again).
    expect((await store().forLimiter('short').get('k'))?.totalHits).to.equal(2);
  });
});

const quotas: Implementation<QuotaStore>[] = [
  { name: 'memory', create: async () => ({ store: new MemoryQuotaStore() }) },
  ...onEachRedis({
    name: 'redis',
    async create(context) {
      const client = await context.redis();
      const prefix = `${context.name}:`;
      return { store: new RedisQuotaStore({ client, prefix }), cleanup: redisCleanup(client, prefix) };
    },
  }),
];

contractSuite('quotas', quotas, (store) => {
  it('allows N uses per period, refuses the next without counting it, renews after the period', async function () {
    for (let i = 1; i <= 3; i++) {
      const use = await store().consume('upload:alice', 3, 400);
      expect(use).to.include({ allowed: true, used: i, remaining: 3 - i, limit: 3 });
    }
    const refused = await store().consume('upload:alice', 3, 400);
    expect(refused).to.include({ allowed: false, used: 3, remaining: 0 });
    expect(refused.resetAt.getTime()).to.be.greaterThan(Date.now());
    expect((await store().peek('upload:alice', 3)).used).to.equal(3);
    await sleep(500);
    expect(await store().consume('upload:alice', 3, 400)).to.include({ allowed: true, used: 1 });
  });

  it('a cost larger than what is left is refused; a zero limit refuses everything', async function () {
    expect((await store().consume('q', 5, 10_000, 4)).allowed).to.equal(true);
    expect((await store().consume('q', 5, 10_000, 2)).allowed).to.equal(false);
    expect((await store().consume('q', 5, 10_000, 1)).allowed).to.equal(true);
    expect((await store().consume('zero', 0, 10_000)).allowed).to.equal(false);
  });

  it('never over-grants under concurrency', async function () {
    const uses = await Promise.all(Array.from({ length: 40 }, () => store().consume('race', 10, 10_000)));
    expect(uses.filter((use) => use.allowed)).to.have.length(10);
  });
});
