// Canonical JSON: key order never matters, and what is hashed is exactly what comes back from a store.
import { expect } from 'chai';
import { canonicalJson, eventHash } from '../../../src/audit/canonical.js';
import { HashChain } from '../../../src/audit/chain.js';

describe('canonicalJson()', function () {
  it('sorts keys at every level and survives a JSON round trip byte for byte', function () {
    const value = {
      b: [3, undefined, NaN, { z: 1, a: new Date('2026-01-01T00:00:00Z') }, () => 1],
      a: { y: undefined, x: -0, w: Infinity, v: 10n, u: 'é"\n' },
      c: { toJSON: () => ({ q: 2, p: 1 }) },
    };
    const text = canonicalJson(value);
    expect(text).to.equal(
      '{"a":{"u":"é\\"\\n","v":"10","w":null,"x":0},"b":[3,null,null,{"a":"2026-01-01T00:00:00.000Z","z":1},null],"c":{"p":1,"q":2}}',
    );
    expect(canonicalJson(JSON.parse(text))).to.equal(text);
    expect(canonicalJson({ b: 1, a: 2 })).to.equal(canonicalJson({ a: 2, b: 1 }));
  });

  it('refuses values nested deeper than 64 levels instead of overflowing the stack', function () {
    let deep: unknown = 1;
    for (let index = 0; index < 100; index++) deep = [deep];
    expect(() => canonicalJson(deep)).to.throw(TypeError, /nests too deeply/);
  });

  it('seals events whose hash verifies after the stored JSON is parsed back', function () {
    const chain = new HashChain('unit');
    const event = chain.seal({ id: 'e1', time: '2026-01-01T00:00:00.000Z', action: 'CREATE', body: { b: 1, a: 2 } });
    expect(eventHash(event as unknown as Record<string, unknown>)).to.equal(event.hash);
    const second = chain.seal({ id: 'e2', time: '2026-01-01T00:00:01.000Z', action: 'UPDATE' });
    expect(second.prevHash).to.equal(event.hash);
    expect(second.seq).to.equal(2);
    const read = chain.seal({ id: 'e3', time: '2026-01-01T00:00:01.000Z', action: 'GET' });
    expect(read.stream).to.not.equal(second.stream);
    expect(read.seq).to.equal(1);
  });
});
