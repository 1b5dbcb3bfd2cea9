// The reliability queue contract, run against the memory, Redis and local-file implementations.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReliabilityQueue } from '../../src/contracts/queue.js';
import { FileReliabilityQueue } from '../../src/audit/file-queue.js';
import { MemoryReliabilityQueue } from '../../stores/memory/audit-queue.js';
import { RedisReliabilityQueue } from '../../stores/redis/audit-queue.js';
import { sealedEvents } from '../unit/audit/events.js';
import { contractSuite, onEachRedis } from './harness.js';

contractSuite<ReliabilityQueue>(
  'audit fallback queue',
  [
    { name: 'memory', create: async () => ({ store: new MemoryReliabilityQueue() }) },
    ...onEachRedis({
      name: 'redis',
      async create({ redis, name }) {
        const client = await redis();
        return { store: new RedisReliabilityQueue({ client, key: name }), cleanup: async () => void client.del(name) };
      },
    }),
    {
      name: 'file',
      async create({ name }) {
        const dir = mkdtempSync(join(tmpdir(), 'portcullis-queue-'));
        const store = new FileReliabilityQueue({ path: join(dir, `${name}.jsonl`) });
        await store.init?.();
        return {
          store,
          cleanup: async () => {
            await store.close?.();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ],
  (queue) => {
    it('is first in, first out, and ack removes only the named head', async function () {
      const events = sealedEvents(6);
      expect(await queue().peek()).to.equal(undefined);
      await queue().append({ id: 'a', events: events.slice(0, 2) });
      await queue().append({ id: 'b', events: events.slice(2, 4) });
      await queue().append({ id: 'c', events: events.slice(4) });
      expect(await queue().size()).to.equal(3);
      expect(await queue().peek()).to.deep.equal({ id: 'a', events: events.slice(0, 2) });
      await queue().ack('b');
      expect((await queue().peek())?.id).to.equal('a');
      await queue().ack('a');
      expect((await queue().peek())?.id).to.equal('b');
      await queue().ack('b');
      await queue().ack('c');
      expect(await queue().size()).to.equal(0);
      expect(await queue().peek()).to.equal(undefined);
      await queue().append({ id: 'd', events: events.slice(0, 1) });
      expect(await queue().peek()).to.deep.equal({ id: 'd', events: events.slice(0, 1) });
    });
  },
);

describe('file fallback queue', function () {
  it('survives a restart: replayed batches stay acknowledged and a torn last line is dropped', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-queue-'));
    const path = join(dir, 'audit.jsonl');
    try {
      const events = sealedEvents(3);
      const first = new FileReliabilityQueue({ path });
      await first.append({ id: 'a', events: events.slice(0, 1) });
      await first.append({ id: 'b', events: events.slice(1, 2) });
      await first.append({ id: 'c', events: events.slice(2) });
      await first.ack('a');
      await first.close();
      appendFileSync(path, '{"id":"torn","events":[');
      const second = new FileReliabilityQueue({ path });
      expect(await second.size()).to.equal(2);
      expect((await second.peek())?.id).to.equal('b');
      await second.ack('b');
      await second.ack('c');
      expect(await second.size()).to.equal(0);
      await second.close();
      writeFileSync(`${path}.offset`, '999999');
      const third = new FileReliabilityQueue({ path });
      expect(await third.size()).to.equal(0);
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
