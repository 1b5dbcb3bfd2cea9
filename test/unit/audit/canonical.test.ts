// Canonical JSON: key order never matters, and what is hashed is exactly what comes back from a store.
import { expect } from 'chai';
import { canonicalJson, eventHash } from '../../../src/audit/canonical.js';
import { uuidV7Generator } from '../../../src/audit/enrichers.js';
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

describe('canonicalJson() and JSON', function () {
  // Values where JSON's rules bite: toJSON, dates, undefined, functions, non-finite numbers, -0, bigints,
  // an own "__proto__" key, escapes and lone surrogates, sparse arrays, toJSON giving nothing.
  const odd = (): Record<string, unknown> => {
    const withProto = JSON.parse('{"__proto__":{"polluted":true},"k":1}') as Record<string, unknown>;
    const sparse: unknown[] = [1];
    sparse[3] = 'x';
    return {
      z: [3, undefined, NaN, { z: 1, a: new Date('2026-01-01T00:00:00Z') }, () => 1, Symbol('s'), sparse],
      a: { y: undefined, x: -0, w: Infinity, v: 10n, u: 'é"\n\u2028\ud800', t: -Infinity, s: 1e21, r: 5e-7 },
      c: { toJSON: () => ({ q: 2, p: [new Date(0)] }) },
      gone: { toJSON: () => undefined },
      f: () => 1,
      proto: withProto,
      nested: { deeper: { list: [{ b: true, a: null }], empty: {}, none: [] } },
      map: new Map([['a', 1]]),
    };
  };

  it("follows JSON.stringify's rules for values and survives a parse, __proto__ kept as data", function () {
    const text = canonicalJson(odd());
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(canonicalJson(parsed)).to.equal(text);
    const { v: _bigint, ...rest } = odd().a as Record<string, unknown>;
    expect(parsed.a).to.deep.equal({ ...JSON.parse(JSON.stringify(rest)), v: '10' });
    expect(parsed.gone).to.equal(null);
    expect(Object.keys(parsed.proto as object)).to.deep.equal(['__proto__', 'k']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('orders keys like sort() in small and large objects (mixed case, digits, symbols, non-ASCII)', function () {
    const alphabet = ['a', 'B', 'b', 'Z', '_', '-', 'é', 'Ä', '中', '😀', '$', 'x1', 'a0', '1', '10', '2'];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (const size of [0, 1, 2, 5, 16, 31, 32, 33, 70]) {
      const object: Record<string, number> = {};
      while (Object.keys(object).length < size) {
        const length = 1 + Math.floor(random() * 4);
        let key = '';
        for (let i = 0; i < length; i++) key += alphabet[Math.floor(random() * alphabet.length)];
        object[key] = Object.keys(object).length;
      }
      const expected = `{${Object.keys(object)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${object[key]}`)
        .join(',')}}`;
      expect(canonicalJson(object)).to.equal(expected);
    }
    // Array-index keys too, which V8 lists first: lexicographic, not numeric.
    expect(canonicalJson({ a: { 10: 'x', 2: 'y', k: 1 } })).to.equal('{"a":{"10":"x","2":"y","k":1}}');
  });
});

describe('uuidV7Generator()', function () {
  it('makes well-formed, unique, time-ordered ids across refills of its random pool', function () {
    let ms = Date.UTC(2026, 0, 1);
    const next = uuidV7Generator(() => ms);
    const ids: string[] = [];
    for (let index = 0; index < 3000; index++) {
      if (index % 700 === 0) ms += 1;
      ids.push(next());
    }
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...ids].sort()).to.deep.equal(ids);
    // The random parts differ between ids (the pool is not reused).
    expect(new Set(ids.map((id) => id.slice(-12))).size).to.equal(ids.length);
  });
});
