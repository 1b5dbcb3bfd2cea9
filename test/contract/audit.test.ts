// The audit store contract, run against the memory, MongoDB and Redis Streams implementations.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventHash } from '../../src/audit/canonical.js';
import { HashChain } from '../../src/audit/chain.js';
import type { AuditEvent } from '../../src/audit/event.js';
import type { AuditStore } from '../../src/contracts/audit.js';
import { ValidationError } from '../../src/errors.js';
import { MemoryAuditStore } from '../../stores/memory/audit.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { RedisAuditStore } from '../../stores/redis/audit.js';
import { sealedEvents } from '../unit/audit/events.js';
import type { Connection } from 'mongoose';
import { deleteKeys } from '../support/connections.js';
import { contractSuite, onEachRedis } from './harness.js';

const NOW = Date.parse('2026-01-02T00:00:00.000Z');
const now = () => NOW;

function mongoImplementation(name: string, indexes: 'auto' | 'all') {
  return {
    name,
    async create({ mongo, name: collection }: { mongo: () => Promise<Connection>; name: string }) {
      const connection = await mongo();
      const store = new MongoAuditStore({ connection, collection, now, indexes });
      await store.init();
      return {
        store,
        cleanup: async () => {
          await connection.dropCollection(collection).catch(() => undefined);
          await connection.dropCollection(`${collection}_digests`).catch(() => undefined);
        },
      };
    },
  };
}

contractSuite<AuditStore>(
  'audit',
  [
    { name: 'memory', create: async () => ({ store: new MemoryAuditStore({ now }) }) },
    mongoImplementation('mongodb', 'auto'),
    // The full index set whatever the server: the same answers with and without secondary indexes.
    mongoImplementation('mongodb, indexes: all', 'all'),
    ...onEachRedis({
      name: 'redis',
      async create({ redis, name }) {
        const client = await redis();
        const prefix = `${name}:`;
        return {
          store: new RedisAuditStore({ client, prefix, now }),
          cleanup: async () => {
            await deleteKeys(client, `*${prefix}*`);
          },
        };
      },
    }),
  ],
  (store) => {
    it('stores events and gives them back unchanged, hash intact', async function () {
      const events = sealedEvents(3, (i) => ({ body: { n: i, nested: { b: 1, a: [1, 'x', null] } } }));
      await store().write(events);
      for (const event of events) {
        const stored = await store().get(event.id);
        expect(stored).to.deep.equal(event);
        expect(eventHash(stored as unknown as Record<string, unknown>)).to.equal(event.hash);
      }
      expect(await store().get('missing')).to.equal(undefined);
    });

    it('skips events whose id is already stored, so retried batches never duplicate', async function () {
      const events = sealedEvents(5);
      await store().write(events.slice(0, 3));
      await store().write(events);
      await store().write(events.slice(2));
      const page = await store().list({ limit: 100 });
      expect(page.events.map((event) => event.id)).to.deep.equal(events.map((event) => event.id).reverse());
    });

    it('lists newest first with cursor pagination, and oldest first on request', async function () {
      const events = sealedEvents(7);
      await store().write(events);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store().list({ limit: 3, cursor });
        seen.push(...page.events.map((event) => event.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).to.deep.equal(events.map((event) => event.id).reverse());
      const ascending = await store().list({ limit: 4, order: 'asc' });
      expect(ascending.events.map((event) => event.id)).to.deep.equal(events.slice(0, 4).map((event) => event.id));
      const next = await store().list({ limit: 4, order: 'asc', cursor: ascending.nextCursor });
      expect(next.events.map((event) => event.id)).to.deep.equal(events.slice(4).map((event) => event.id));
      expect(next.nextCursor).to.equal(undefined);
    });

    it('filters by equality on declared fields, lists of values and a time range', async function () {
      const events = sealedEvents(6, (i) => ({ action: i % 2 ? 'DELETE' : 'CREATE', status: 200 + i }));
      await store().write(events);
      const byActor = await store().list({ limit: 100, where: { 'user.id': 'u1' } });
      expect(byActor.events.map((e) => e.id)).to.deep.equal([events[5]!.id, events[3]!.id, events[1]!.id]);
      const byAction = await store().list({ limit: 100, where: { action: 'CREATE', resourceId: ['0', '1'] } });
      expect(byAction.events.map((e) => e.id)).to.deep.equal([events[4]!.id, events[0]!.id]);
      const byStatus = await store().list({ limit: 100, where: { status: 203 } });
      expect(byStatus.events.map((e) => e.id)).to.deep.equal([events[3]!.id]);
      const range = await store().list({
        limit: 100,
        from: new Date(events[1]!.time),
        to: new Date(events[3]!.time),
        order: 'asc',
      });
      expect(range.events.map((e) => e.id)).to.deep.equal([events[1]!.id, events[2]!.id]);
    });

    it('rejects undeclared fields, operator objects and forged cursors with a ValidationError', async function () {
      await store().write(sealedEvents(2));
      for (const query of [
        { limit: 10, where: { json: 'x' } },
        { limit: 10, where: JSON.parse('{"__proto__":"x"}') as object },
        { limit: 10, where: { action: { $ne: 'x' } } },
        { limit: 10, cursor: 'not a cursor!' },
        { limit: 10, cursor: Buffer.from('{"$gt":1}').toString('base64url') },
        { limit: 0 },
        { limit: 5000 },
      ]) {
        let caught: unknown;
        try {
          await store().list(query as never);
        } catch (error) {
          caught = error;
        }
        expect(caught, JSON.stringify(query)).to.be.instanceOf(ValidationError);
      }
    });

    it('lists, pages, gets and scans the events of many streams as one log', async function () {
      // Eight processes' streams, written one event at a time: on a cluster they go to different shards,
      // whose arrival order is known to the millisecond, hence the pause between writes.
      const chains = Array.from({ length: 8 }, (_, index) => new HashChain(`proc${index}`));
      const events = Array.from(
        { length: 24 },
        (_, index) => sealedEvents(1, () => ({}), chains[index % 8], Date.parse('2026-01-01') + index * 1000)[0]!,
      );
      for (const event of events) {
        await store().write([event]);
        await sleep(3);
      }
      for (const order of ['desc', 'asc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store().list({ limit: 5, order, cursor });
          seen.push(...page.events.map((event) => event.id));
          cursor = page.nextCursor;
        } while (cursor);
        const ids = events.map((event) => event.id);
        expect(seen, order).to.deep.equal(order === 'desc' ? ids.reverse() : ids);
      }
      for (const event of [events[0]!, events[13]!, events[23]!])
        expect(await store().get(event.id)).to.deep.equal(event);
      const scanned: string[] = [];
      for await (const event of store().scan({ stream: events[5]!.stream })) scanned.push(event.id);
      expect(scanned.sort()).to.deep.equal([events[5]!.id, events[13]!.id, events[21]!.id].sort());
      const digest = (event: AuditEvent) => ({
        id: `d-${event.stream}`,
        stream: event.stream,
        fromSeq: 1,
        toSeq: 1,
        lastHash: event.hash,
        lastTime: event.time,
        time: event.time,
        prevSignature: '',
        keyId: 'abcd1234',
        signature: 'f'.repeat(64),
      });
      for (const event of events.slice(0, 8)) await store().writeDigest(digest(event));
      expect(await store().digests()).to.have.length(8);
      expect(await store().digests({ stream: events[2]!.stream })).to.deep.equal([digest(events[2]!)]);
    });

    it('keeps signed digests and scans every event for verification', async function () {
      const events = sealedEvents(4);
      await store().write(events);
      const digest = {
        id: 'd1',
        stream: events[0]!.stream,
        fromSeq: 1,
        toSeq: 4,
        lastHash: events[3]!.hash,
        lastTime: events[3]!.time,
        time: events[3]!.time,
        prevSignature: '',
        keyId: 'abcd1234',
        signature: 'f'.repeat(64),
      };
      await store().writeDigest(digest);
      await store().writeDigest(digest);
      expect(await store().digests()).to.deep.equal([digest]);
      const scanned = [];
      for await (const event of store().scan()) scanned.push(event);
      expect(scanned.map((e) => e.seq).sort()).to.deep.equal([1, 2, 3, 4]);
      const after = [];
      for await (const event of store().scan({ stream: events[0]!.stream, afterSeq: 2 })) after.push(event.seq);
      expect(after.sort(), 'one stream past a seq').to.deep.equal([3, 4]);
    });
  },
);

describe('audit store retention', function () {
  it('expires read events sooner than changes when readRetention is shorter', async function () {
    let clock = NOW;
    const store = new MemoryAuditStore({ retention: 10 * 86_400_000, readRetention: 3_600_000, now: () => clock });
    const events = sealedEvents(2, (i) => ({ action: i ? 'GET' : 'UPDATE', time: new Date(NOW).toISOString() }));
    await store.write(events);
    clock = NOW + 2 * 3_600_000;
    const page = await store.list({ limit: 10 });
    expect(page.events.map((event) => event.action)).to.deep.equal(['UPDATE']);
  });
});

describe('Redis audit stream', function () {
  it('is bounded and readable by consumer groups', async function () {
    const { sharedRedis, uniqueName } = await import('../support/connections.js');
    const client = await sharedRedis();
    const prefix = `${uniqueName('audit_stream')}:`;
    const store = new RedisAuditStore({ client, prefix, maxLength: 1000, now });
    try {
      const events = sealedEvents(1500);
      for (let index = 0; index < events.length; index += 500) await store.write(events.slice(index, index + 500));
      expect(store.streamKeys).to.have.length(1);
      const streamKey = store.streamKeys[0]!;
      const length = await client.xlen(streamKey);
      expect(length).to.be.at.least(1000).and.below(1500);
      await client.xgroup('CREATE', streamKey, 'readers', '0');
      const read = (await client.xreadgroup('GROUP', 'readers', 'c1', 'COUNT', 10, 'STREAMS', streamKey, '>')) as [
        string,
        [string, string[]][],
      ][];
      const entries = read[0]![1];
      expect(entries).to.have.length(10);
      const first = JSON.parse(entries[0]![1][entries[0]![1].indexOf('e') + 1]!);
      expect(first.hash).to.be.a('string');
      expect(events.map((event) => event.id)).to.include(first.id);
    } finally {
      const keys = await client.keys(`${prefix}*`);
      for (let index = 0; index < keys.length; index += 500) await client.del(...keys.slice(index, index + 500));
    }
  });
});
