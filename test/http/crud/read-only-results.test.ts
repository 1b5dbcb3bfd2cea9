// crudRouter treats what a store returns as read-only: a store may hand out frozen records.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { RecordQuery, StoredRecord } from '../../../src/contracts/records.js';
import type { FilterNode } from '../../../src/filter/ast.js';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createMasker } from '../../../src/pii/engine.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A memory store whose results are frozen, as a caching store might share them between callers. */
class FrozenResultsStore extends MemoryRecordStore {
  override async find(query: RecordQuery): Promise<StoredRecord[]> {
    return deepFreeze(await super.find(query));
  }

  override async get(id: string, where?: FilterNode): Promise<StoredRecord | undefined> {
    return deepFreeze(await super.get(id, where));
  }
}

describe('crudRouter and read-only store results', function () {
  const store = new FrozenResultsStore({ schema: { name: 'string', email: 'string', 'address.city': 'string' } });
  const app = express();
  app.use(
    '/people',
    crudRouter({ resource: 'people', store, masker: createMasker({ paths: ['email'] }), softDelete: true }),
  );
  app.use(errorHandler());

  before(async function () {
    await store.insert('p1', { name: 'Ann', email: 'ann@example.com', address: { city: 'Oslo' } });
  });

  it('lists, projects and gets frozen records, masked, without changing them', async function () {
    const list = await request(app).get('/people').expect(200);
    expect(list.body.items).to.deep.equal([
      { id: 'p1', name: 'Ann', email: 'XXXXXXXXXXXXXXX', address: { city: 'Oslo' } },
    ]);
    const projected = await request(app).get('/people?fields=email').expect(200);
    expect(projected.body.items).to.deep.equal([{ id: 'p1', email: 'XXXXXXXXXXXXXXX' }]);
    const one = await request(app).get('/people/p1').expect(200);
    expect(one.body).to.deep.equal({ id: 'p1', name: 'Ann', email: 'XXXXXXXXXXXXXXX', address: { city: 'Oslo' } });
    const stored = await MemoryRecordStore.prototype.get.call(store, 'p1');
    expect(stored).to.include({ email: 'ann@example.com', _version: 1 });
  });
});
