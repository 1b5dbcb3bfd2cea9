// The session store contract, run against memory, MongoDB and Redis.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionStore } from '../../src/contracts/sessions.js';
import { ConflictError, ValidationError } from '../../src/errors.js';
import { MemorySessionStore } from '../../stores/memory/sessions.js';
import { MongoSessionStore } from '../../stores/mongodb/sessions.js';
import { RedisSessionStore } from '../../stores/redis/sessions.js';
import { deleteKeys } from '../support/connections.js';
import { contractSuite, onEachRedis, type Implementation } from './harness.js';

const implementations: Implementation<SessionStore>[] = [
  { name: 'memory', create: async () => ({ store: new MemorySessionStore() }) },
  {
    name: 'mongodb',
    async create(context) {
      const connection = await context.mongo();
      const store = new MongoSessionStore({ connection, collection: context.name });
      await store.init();
      return { store, cleanup: async () => void (await connection.dropCollection(context.name).catch(() => false)) };
    },
  },
  ...onEachRedis({
    name: 'redis',
    async create(context) {
      const client = await context.redis();
      const prefix = `${context.name}:`;
      return {
        store: new RedisSessionStore({ client, prefix }),
        async cleanup() {
          await deleteKeys(client, `*${prefix}*`);
        },
      };
    },
  }),
];

contractSuite('sessions', implementations, (store) => {
  it('creates a session and reads it back', async function () {
    const created = await store().create({ id: 'session-0001', userId: 'alice', ttlMs: 60_000, meta: { ip: '::1' } });
    expect(created.userId).to.equal('alice');
    const read = await store().get('session-0001');
    expect(read?.userId).to.equal('alice');
    expect(read?.meta).to.deep.equal({ ip: '::1' });
    expect(read!.expiresAt.getTime() - read!.createdAt.getTime()).to.equal(60_000);
  });

  it('rejects a duplicate id with ConflictError', async function () {
    await store().create({ id: 'session-dup1', userId: 'alice', ttlMs: 60_000 });
    let caught: unknown;
    await store()
      .create({ id: 'session-dup1', userId: 'bob', ttlMs: 60_000 })
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ConflictError);
    expect((await store().get('session-dup1'))?.userId).to.equal('alice');
  });

  it("a duplicate id refused for another user leaves that user's revoke-all and list without it", async function () {
    await store().create({ id: 'session-dup1', userId: 'alice', ttlMs: 60_000 });
    let caught: unknown;
    try {
      await store().create({ id: 'session-dup1', userId: 'mallory', ttlMs: 60_000 });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ConflictError);
    expect(await store().listByUser('mallory')).to.deep.equal([]);
    expect(await store().revokeAllForUser('mallory')).to.equal(0);
    expect(await store().get('session-dup1')).to.include({ userId: 'alice' });
  });

  it('rejects invalid input with ValidationError naming each field', async function () {
    let caught: unknown;
    await store()
      .create({ id: 'x', userId: '', ttlMs: -1 })
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ValidationError);
    expect((caught as ValidationError).errors?.map((e) => e.field)).to.deep.equal(['id', 'userId', 'ttlMs']);
  });

  it('forgets a session once its TTL has passed', async function () {
    await store().create({ id: 'session-short', userId: 'alice', ttlMs: 300 });
    expect(await store().get('session-short')).to.not.equal(undefined);
    await sleep(450);
    expect(await store().get('session-short')).to.equal(undefined);
    expect(await store().touch('session-short')).to.equal(false);
    expect(await store().listByUser('alice')).to.deep.equal([]);
  });

  it('touch updates lastSeenAt of a live session only', async function () {
    await store().create({ id: 'session-touch', userId: 'alice', ttlMs: 60_000 });
    const before = (await store().get('session-touch'))!.lastSeenAt.getTime();
    await sleep(15);
    expect(await store().touch('session-touch')).to.equal(true);
    expect((await store().get('session-touch'))!.lastSeenAt.getTime()).to.be.greaterThan(before);
    expect(await store().touch('session-missing')).to.equal(false);
  });

  it('revokes one session at once', async function () {
    await store().create({ id: 'session-rev1', userId: 'alice', ttlMs: 60_000 });
    await store().create({ id: 'session-rev2', userId: 'alice', ttlMs: 60_000 });
    expect(await store().revoke('session-rev1')).to.equal(true);
    expect(await store().revoke('session-rev1')).to.equal(false);
    expect(await store().get('session-rev1')).to.equal(undefined);
    expect((await store().listByUser('alice')).map((s) => s.id)).to.deep.equal(['session-rev2']);
  });

  it('of concurrent revokes of one session, exactly one returns true', async function () {
    // A pending TOTP login gives one session because only the completion whose revoke returned true goes on.
    for (let round = 0; round < 5; round++) {
      const id = `session-race${round}`;
      await store().create({ id, userId: 'alice', ttlMs: 60_000 });
      const results = await Promise.all(Array.from({ length: 16 }, () => store().revoke(id)));
      expect(results.filter(Boolean), `round ${round}`).to.have.length(1);
      expect(await store().get(id)).to.equal(undefined);
    }
  });

  it("lists a user's sessions newest first and revokes them all", async function () {
    await store().create({ id: 'session-old1', userId: 'alice', ttlMs: 60_000 });
    await sleep(5);
    await store().create({ id: 'session-new1', userId: 'alice', ttlMs: 60_000 });
    await store().create({ id: 'session-bob1', userId: 'bob', ttlMs: 60_000 });
    expect((await store().listByUser('alice')).map((s) => s.id)).to.deep.equal(['session-new1', 'session-old1']);
    expect(await store().revokeAllForUser('alice')).to.equal(2);
    expect(await store().listByUser('alice')).to.deep.equal([]);
    expect((await store().get('session-bob1'))?.userId).to.equal('bob');
  });

  it('treats non-string ids from untrusted input as unknown', async function () {
    const hostile = { $ne: null } as unknown as string;
    await store().create({ id: 'session-inj1', userId: 'alice', ttlMs: 60_000 });
    expect(await store().get(hostile)).to.equal(undefined);
    expect(await store().revoke(hostile)).to.equal(false);
    expect(await store().listByUser(hostile)).to.deep.equal([]);
  });
});
