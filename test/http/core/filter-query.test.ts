// filterQuery() for custom list handlers: the compiled query on the context, cursors bound to the caller.
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { contextOf, errorHandler, filterQuery, requestContext, type CompiledListQuery } from 'portcullis';

const people = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, name: `person ${i}` }));

function app() {
  const server = express();
  server.use(requestContext());
  server.use((req: Request, _res: Response, next: NextFunction) => {
    const user = req.header('x-user');
    if (user) contextOf(req).principal = { id: user, kind: 'user', groups: [], attributes: {} };
    next();
  });
  server.get(
    '/people',
    filterQuery({ schema: { name: 'string' }, cursorSecret: 'filter-query-test-cursor-secret!' }),
    (req: Request, res: Response) => {
      const query = contextOf(req).query as CompiledListQuery;
      const items = people.filter((person) => query.matches(person)).slice(0, query.limit);
      res.json({ items, nextCursor: items.length ? query.nextCursor(items.at(-1)!) : null });
    },
  );
  server.use(errorHandler());
  return server;
}

describe('filterQuery() over HTTP', function () {
  it("pages with a caller's cursor and refuses it to another caller (400 problem)", async function () {
    const server = app();
    const first = await request(server).get('/people?sort=name&limit=2').set('x-user', 'ana').expect(200);
    const cursor = first.body.nextCursor as string;
    const next = await request(server).get(`/people?sort=name&limit=2&cursor=${cursor}`).set('x-user', 'ana');
    expect(next.body.items.map((item: { id: string }) => item.id)).to.deep.equal(['p2', 'p3']);
    const other = await request(server).get(`/people?sort=name&limit=2&cursor=${cursor}`).set('x-user', 'sam');
    expect(other.status).to.equal(400);
    expect(other.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(other.body.code).to.equal('filter.invalid_cursor');
    await request(server).get(`/people?sort=name&cursor=${cursor}`).expect(400);
  });
});
