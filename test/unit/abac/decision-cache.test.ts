// The decision cache: LRU eviction, statistics, uncacheable inquiries, stale results after a change.
import { expect } from 'chai';
import { ConfigError, DecisionCache } from 'portcullis';

const decision = (allowed: boolean) => ({ allowed, deciders: [], candidates: [], reason: 'x' });

describe('abac decision cache', function () {
  it('evicts the least recently used entry and counts hits and misses', function () {
    const cache = new DecisionCache({ maxSize: 2 });
    cache.set('a', decision(true), cache.generation);
    cache.set('b', decision(false), cache.generation);
    expect(cache.get('a')?.allowed).to.equal(true);
    cache.set('c', decision(true), cache.generation);
    expect(cache.get('b')).to.equal(undefined);
    expect(cache.get('a')?.allowed).to.equal(true);
    expect(cache.get('c')?.allowed).to.equal(true);
    expect(cache.stats()).to.deep.equal({ hits: 3, misses: 1, size: 2, maxSize: 2, invalidations: 0 });
  });

  it('does not store a decision computed before the cache was cleared', function () {
    const cache = new DecisionCache();
    const generation = cache.generation;
    cache.clear();
    cache.set('a', decision(true), generation);
    expect(cache.get('a')).to.equal(undefined);
  });

  it('keys inquiries canonically and refuses what it cannot key', function () {
    const cache = new DecisionCache({ maxKeyLength: 200 });
    expect(cache.keyOf({ subject: { a: 1, b: 2 } })).to.equal(cache.keyOf({ subject: { b: 2, a: 1 } }));
    expect(cache.keyOf({ subject: [1] })).to.not.equal(cache.keyOf({ subject: ['1'] }));
    expect(cache.keyOf({ subject: { a: Number.NaN } })).to.not.equal(cache.keyOf({ subject: { a: null } }));
    expect(cache.keyOf({ subject: { a: undefined } })).to.not.equal(cache.keyOf({ subject: { a: null } }));
    expect(cache.keyOf({ subject: 'x'.repeat(500) })).to.equal(undefined);
    expect(cache.keyOf({ subject: new Date() })).to.equal(undefined);
    expect(cache.keyOf({ subject: () => 1 })).to.equal(undefined);
    expect(() => new DecisionCache({ maxSize: 0 })).to.throw(ConfigError, 'maxSize: must be an integer ≥ 1');
  });
});
