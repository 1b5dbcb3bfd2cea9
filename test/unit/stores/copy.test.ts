// copyData: the deep copy memory stores use, against what structuredClone would give.
import { expect } from 'chai';
import { copyData } from '../../../stores/memory/copy.js';

describe('memory stores: copyData', () => {
  it('copies nested objects, arrays and dates so that no part is shared', () => {
    const original = {
      name: 'Ada',
      tags: ['a', 'b'],
      address: { city: 'London', lines: [{ n: 1 }] },
      createdAt: new Date('2026-01-02T03:04:05.006Z'),
      nothing: null,
      count: 3,
    };
    const copy = copyData(original);
    expect(copy).to.deep.equal(structuredClone(original));
    copy.tags.push('c');
    copy.address.lines[0]!.n = 2;
    copy.createdAt.setFullYear(2000);
    expect(original.tags).to.deep.equal(['a', 'b']);
    expect(original.address.lines[0]!.n).to.equal(1);
    expect(original.createdAt.getUTCFullYear()).to.equal(2026);
  });

  it('keeps an own __proto__ key as data and never changes the prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyData(hostile);
    expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).to.equal(true);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(copy.a).to.equal(1);
  });

  it('hands other kinds of values to structuredClone', () => {
    const original = { bytes: new Uint8Array([1, 2]), map: new Map([['k', 'v']]) };
    const copy = copyData(original);
    expect(copy.bytes).to.not.equal(original.bytes);
    expect([...copy.bytes]).to.deep.equal([1, 2]);
    expect(copy.map.get('k')).to.equal('v');
  });
});

describe('memory record store: a query that omits fields', () => {
  it('leaves omitted top-level fields out of the copies and keeps them stored', async () => {
    const { MemoryRecordStore } = await import('../../../stores/memory/records.js');
    const { matchAll } = await import('../../../src/filter/ast.js');
    const store = new MemoryRecordStore({
      schema: { name: 'string', email: 'string', 'address.city': 'string', 'address.zip': 'string' },
      idPrefix: 'r_',
    });
    await store.insert('r_1', { name: 'Ada', email: 'ada@example.com', address: { city: 'London', zip: 'N1' } });
    const query = { where: matchAll, sort: [{ field: 'id', direction: 1 as const }], limit: 10 };
    const [omitted] = await store.find({ ...query, omit: ['email', 'address.zip', 'id', '_version'] });
    expect(omitted).to.include({ id: 'r_1', name: 'Ada', _version: 1 });
    expect(omitted).not.to.have.property('email');
    // Dotted paths, the id and the version are the caller's to remove: the store copies them.
    expect(omitted!.address).to.deep.equal({ city: 'London', zip: 'N1' });
    const [full] = await store.find(query);
    expect(full).to.include({ email: 'ada@example.com' });
  });
});
