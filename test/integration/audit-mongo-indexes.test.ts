// MongoDB audit store indexes: which ones init() builds, and that the store's queries are served by them.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { sharedMongo, uniqueName } from '../support/connections.js';
import { indexesUsed, isFerretDb } from '../support/mongo-plan.js';
import { sealedEvents } from '../unit/audit/events.js';

const SECONDARY = ['time_id', 'user_time', 'action_time', 'resource_time', 'stream_seq'];

interface Explained {
  filterPushdown?: boolean;
  queryPlanner?: { winningPlan?: unknown };
}

describe('MongoAuditStore indexes (real server)', function () {
  let connection: Connection;
  let ferretdb: boolean;
  const names: string[] = [];

  before(async function () {
    connection = await sharedMongo();
    ferretdb = await isFerretDb(connection);
  });
  after(async function () {
    for (const name of names) {
      await connection.dropCollection(name).catch(() => undefined);
      await connection.dropCollection(`${name}_digests`).catch(() => undefined);
    }
  });

  async function store(indexes?: 'auto' | 'all'): Promise<MongoAuditStore> {
    const name = uniqueName('audit_indexes');
    names.push(name);
    const created = new MongoAuditStore({ connection, collection: name, ...(indexes && { indexes }) });
    await created.init();
    await created.write(sealedEvents(30));
    return created;
  }

  async function indexNames(created: MongoAuditStore): Promise<string[]> {
    return (await created.collection().indexes()).map((index) => index.name!).sort();
  }

  // The filters and sorts list(), history(), get() and scan() send.
  const queries = (created: MongoAuditStore) => {
    const events = created.collection();
    const live = { expireAt: { $gt: new Date() } };
    return {
      latest: events.find(live).sort({ time: -1, _id: -1 }).limit(10),
      byUser: events
        .find({ $and: [live, { 'user.id': 'u1' }] })
        .sort({ time: -1, _id: -1 })
        .limit(10),
      byAction: events
        .find({ $and: [live, { action: 'UPDATE' }] })
        .sort({ time: -1, _id: -1 })
        .limit(10),
      history: events
        .find({ $and: [live, { resource: 'accounts' }, { resourceId: '1' }] })
        .sort({ time: 1, _id: 1 })
        .limit(10),
      stream: events.find({ ...live, stream: 's' }),
    };
  };

  it("'all' builds every secondary index and 'auto' builds them exactly where the server can use them", async function () {
    const all = await store('all');
    expect(all.secondaryIndexes).to.equal(true);
    expect(await indexNames(all)).to.include.members(SECONDARY);
    const auto = await store();
    if (ferretdb) {
      // FerretDB v1 on SQLite pushes only `_id` equality down: no other query could use an index.
      const plan = (await auto.collection().find({ action: 'UPDATE' }).explain()) as Explained;
      expect(plan.filterPushdown).to.equal(false);
      expect(auto.secondaryIndexes).to.equal(false);
      expect(await indexNames(auto)).to.deep.equal(['_id_']);
    } else {
      expect(auto.secondaryIndexes).to.equal(true);
      expect(await indexNames(auto)).to.include.members(SECONDARY);
    }
  });

  it('serves every query of list, history and scan from an index where the server uses indexes', async function () {
    const created = await store('all');
    for (const [name, cursor] of Object.entries(queries(created))) {
      const plan = (await cursor.explain()) as Explained;
      if (ferretdb) {
        // Evidence for 'auto': even with the indexes built, FerretDB filters and sorts these in memory.
        expect(plan.filterPushdown, name).to.equal(false);
      } else {
        expect(indexesUsed(plan.queryPlanner?.winningPlan), name).to.not.deep.equal([]);
      }
    }
  });

  it('looks an event up by _id alone (FerretDB pushes that down) and still hides expired events', async function () {
    const name = uniqueName('audit_get');
    names.push(name);
    let now = Date.parse('2026-01-01T00:00:00.500Z');
    const created = new MongoAuditStore({ connection, collection: name, retention: 1000, now: () => now });
    await created.init();
    const [event] = sealedEvents(1);
    await created.write([event!]);
    expect((await created.get(event!.id))?.hash).to.equal(event!.hash);
    if (ferretdb) {
      const plan = (await created.collection().find({ _id: event!.id }).explain()) as Explained;
      expect(plan.filterPushdown).to.equal(true);
    }
    now = Date.parse(event!.time) + 1000;
    expect(await created.get(event!.id)).to.equal(undefined);
  });

  it('expires events with a TTL index where the server has them, else sweeps them on write (FerretDB v1)', async function () {
    const name = uniqueName('audit_expiry');
    names.push(name);
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const created = new MongoAuditStore({
      connection,
      collection: name,
      retention: 60_000,
      indexes: 'all',
      now: () => now,
    });
    await created.init();
    const expiry = (await created.collection().indexes()).find((index) => index.key.expireAt === 1);
    const digestExpiry = (await connection.db!.collection(`${name}_digests`).indexes()).find(
      (index) => index.key.expireAt === 1,
    );
    if (ferretdb) {
      // FerretDB v1 answers expireAfterSeconds with "not implemented" (238): a plain index, and sweeps.
      expect(expiry).to.deep.include({ name: 'expireAt_expiry' });
      expect(expiry).to.not.have.property('expireAfterSeconds');
      expect(digestExpiry).to.deep.include({ name: 'expireAt_expiry' });
    } else {
      expect(expiry).to.deep.include({ name: 'expireAt_ttl', expireAfterSeconds: 0 });
      expect(digestExpiry).to.deep.include({ name: 'expireAt_ttl', expireAfterSeconds: 0 });
    }
    const old = sealedEvents(3, () => ({}), undefined, now - 120_000);
    await created.write(old);
    expect(await created.collection().countDocuments({})).to.equal(3);
    // A write a sweep period (60 s) after the last: on a server without TTL indexes it deletes the expired.
    now += 61_000;
    await created.write(sealedEvents(1, () => ({}), undefined, now));
    const left = await created.collection().countDocuments({});
    if (ferretdb) expect(left).to.equal(1);
    // MongoDB's TTL monitor runs once a minute: the expired events may still be there, but are never read.
    else expect(left).to.be.within(1, 4);
    expect((await created.list({ limit: 10 })).events).to.have.length(1);
  });
});
