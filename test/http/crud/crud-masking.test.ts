// crudRouter with a masker: the caller's unmask grant applies to every item, asked for once per request.
import { expect } from 'chai';
import express, { type Request } from 'express';
import request from 'supertest';
import { crudRouter } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createMasker } from '../../../src/pii/engine.js';
import type { UnmaskGrant } from '../../../src/pii/masker.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';

describe('crudRouter masking', function () {
  const store = new MemoryRecordStore({ schema: { name: 'string', email: 'string' } });
  const masker = createMasker({ paths: ['email'] });
  const asked: string[] = [];
  const unmask = (req: Request): UnmaskGrant | undefined => {
    const caller = String(req.headers['x-caller']);
    asked.push(caller);
    return caller === 'trusted' ? { fields: ['email'] } : undefined;
  };
  const app = express();
  app.use('/people', crudRouter({ resource: 'people', store, masker, unmask }));
  app.use(errorHandler());

  before(async function () {
    for (let n = 0; n < 5; n++) await store.insert(`p${n}`, { name: `P${n}`, email: `p${n}@example.com` });
  });
  beforeEach(() => (asked.length = 0));

  it('asks for the grant once per list request, not once per item', async function () {
    const list = await request(app).get('/people?limit=5').set('x-caller', 'trusted').expect(200);
    expect(list.body.items.map((item: { email: string }) => item.email)).to.deep.equal(
      ['p0', 'p1', 'p2', 'p3', 'p4'].map((id) => `${id}@example.com`),
    );
    expect(asked).to.deep.equal(['trusted']);
  });

  it('never carries one request grant over to the next request', async function () {
    await request(app).get('/people?limit=5').set('x-caller', 'trusted').expect(200);
    const other = await request(app).get('/people?limit=5').set('x-caller', 'someone').expect(200);
    expect(other.body.items).to.have.length(5);
    for (const item of other.body.items) expect(item.email).to.not.include('@example.com');
    expect(asked).to.deep.equal(['trusted', 'someone']);
  });

  it('refuses a sort or filter on a masked field exactly like an unknown field; a trusted caller keeps it', async function () {
    for (const query of ['sort=-email', 'email=p1@example.com', 'email__startswith=p1', 'email__exists=true']) {
      const masked = await request(app).get(`/people?${query}`).set('x-caller', 'someone').expect(400);
      const unknown = await request(app)
        .get(`/people?${query.replace('email', 'nosuch')}`)
        .set('x-caller', 'someone')
        .expect(400);
      expect(masked.body.code, query).to.equal('filter.unknown_field');
      expect(JSON.stringify({ ...masked.body, requestId: 0 }).replaceAll('email', 'nosuch')).to.equal(
        JSON.stringify({ ...unknown.body, requestId: 0 }),
      );
    }
    await request(app).get('/people/unique/email').set('x-caller', 'someone').expect(400);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(app)
        .get(`/people?limit=2&sort=-email${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        .set('x-caller', 'trusted')
        .expect(200);
      for (const item of page.body.items as { id: string; email: string }[]) seen.push(item.id);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).to.deep.equal(['p4', 'p3', 'p2', 'p1', 'p0']);
    // The masked caller may still ask for the field in `fields`: it comes masked.
    const projected = await request(app).get('/people?fields=email&limit=1').set('x-caller', 'someone').expect(200);
    expect(projected.body.items[0].email).to.not.include('@example.com');
    expect((await store.get('p4'))?.email).to.equal('p4@example.com');
  });
});
