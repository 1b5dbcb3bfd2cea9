// `portcullis audit verify` against real MongoDB and Redis: a cut tail, a deleted digest and a deleted
// stream are reported; a running or cleanly stopped pipeline verifies ok.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventHash } from '../../src/audit/canonical.js';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { createAuditPipeline, type AuditPipeline } from '../../src/audit/pipeline.js';
import { runCli } from '../../src/cli/run.js';
import type { AuditStore } from '../../src/contracts/audit.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { RedisAuditStore } from '../../stores/redis/audit.js';
import type { RedisClient } from '../../stores/redis/client.js';
import {
  deleteKeys,
  redisClusterNodes,
  requireEnv,
  sharedMongo,
  sharedRedis,
  sharedRedisCluster,
  uniqueName,
} from '../support/connections.js';

const KEY = 'truncation-test-signing-key-0123456789';
const INTERVAL = 100;
const GRACE = 400;

interface Backend {
  store: AuditStore;
  source: string[];
  deleteEvents(ids: string[]): Promise<void>;
  deleteDigests(ids: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

async function mongoBackend(): Promise<Backend> {
  const connection = await sharedMongo();
  const collection = uniqueName('audit_cut');
  const store = new MongoAuditStore({ connection, collection });
  await store.init();
  return {
    store,
    source: ['--mongodb', requireEnv('MONGODB_URI'), '--collection', collection],
    async deleteEvents(ids) {
      await connection.collection<{ _id: string }>(collection).deleteMany({ _id: { $in: ids } });
    },
    async deleteDigests(ids) {
      await connection.collection<{ _id: string }>(`${collection}_digests`).deleteMany({ _id: { $in: ids } });
    },
    async cleanup() {
      await connection.dropCollection(collection).catch(() => undefined);
      await connection.dropCollection(`${collection}_digests`).catch(() => undefined);
    },
  };
}

/** A Redis audit store on one server or on the cluster, reached by the CLI through `source`. */
async function redisBackend(client: RedisClient, source: string[]): Promise<Backend> {
  const prefix = `${uniqueName('cut')}:`;
  const store = new RedisAuditStore({ client, prefix });
  // An event's id key and the digests live beside its shard's stream (one shard on a single server).
  const beside = (stream: string, name: string) => stream.replace(/stream$/, name);
  return {
    store,
    source: [...source, '--prefix', prefix],
    async deleteEvents(ids) {
      for (const id of ids) {
        for (const stream of store.streamKeys) {
          const entry = await client.get(beside(stream, `id:${id}`));
          if (entry) await client.xdel(stream, entry);
          await client.del(beside(stream, `id:${id}`));
        }
      }
    },
    async deleteDigests(ids) {
      if (ids.length === 0) return;
      for (const stream of store.streamKeys) await client.hdel(beside(stream, 'digests'), ...ids);
    },
    async cleanup() {
      await deleteKeys(client, `*${prefix}*`);
    },
  };
}

const backends: [string, () => Promise<Backend>][] = [
  ['MongoDB', mongoBackend],
  ['Redis', async () => redisBackend(await sharedRedis(), ['--redis', requireEnv('REDIS_URL')])],
  [
    'Redis Cluster',
    async () => redisBackend(await sharedRedisCluster(), ['--redis-cluster', redisClusterNodes().join(',')]),
  ],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [name, open] of backends) {
  describe(`portcullis audit verify: truncation (${name})`, function () {
    let backend: Backend;
    let dir: string;
    let pinFile: string;

    async function verify(...extra: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const status = await runCli(['audit', 'verify', ...backend.source, ...extra], {
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        readFile: (path) => readFile(path, 'utf8'),
        env: { AUDIT_SIGNING_KEY: KEY, AUDIT_DIGEST_INTERVAL: String(INTERVAL), AUDIT_DIGEST_GRACE: String(GRACE) },
      });
      return { status, report: out[0] ? JSON.parse(out[0]) : undefined, err };
    }

    async function start(): Promise<AuditPipeline> {
      return createAuditPipeline({
        store: backend.store,
        signingKey: KEY,
        digestInterval: INTERVAL,
        flushInterval: 0,
        pinFile,
      });
    }

    /** Two bursts of events with digests between them, then a clean stop. */
    async function runAndStop(): Promise<string> {
      const pipeline = await start();
      for (let index = 0; index < 20; index++) {
        await pipeline.publish({ action: 'UPDATE', resource: 'accounts', resourceId: String(index) });
        if (index === 9) await sleep(INTERVAL * 3);
      }
      await sleep(INTERVAL * 3);
      await pipeline.close();
      return `${pipeline.streamPrefix}.w`;
    }

    async function streamState(stream: string): Promise<{ events: AuditEvent[]; digests: AuditDigest[] }> {
      const events: AuditEvent[] = [];
      for await (const event of backend.store.scan({ stream })) events.push(event);
      events.sort((a, b) => a.seq - b.seq);
      const digests = (await backend.store.digests({ stream })).sort((a, b) => (a.time < b.time ? -1 : 1));
      return { events, digests };
    }

    beforeEach(async function () {
      backend = await open();
      dir = await mkdtemp(join(tmpdir(), 'portcullis-pin-'));
      pinFile = join(dir, 'audit.pin');
    });
    afterEach(async function () {
      await backend.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('verifies a cleanly stopped pipeline long after it stopped, and a running idle one', async function () {
      const stream = await runAndStop();
      await sleep(INTERVAL + GRACE + 100);
      const stopped = await verify('--pin', pinFile);
      expect(stopped.status, JSON.stringify(stopped.report)).to.equal(0);
      expect(stopped.report).to.include({ ok: true, events: 20, unsigned: 0, closed: 1 });
      expect(JSON.parse(await readFile(pinFile, 'utf8')).pins[0]).to.include({ stream, toSeq: 20, final: true });

      const running = await start();
      await running.publish({ action: 'UPDATE', resourceId: 'live' });
      // Idle for longer than interval plus grace: heartbeats keep the live stream verifiable.
      await sleep(INTERVAL + GRACE + 300);
      const live = await verify('--stream', `${running.streamPrefix}.w`);
      await running.close();
      expect(live.status, JSON.stringify(live.report)).to.equal(0);
      expect(live.report).to.include({ ok: true, events: 1, closed: 0 });
    });

    it('fails on a rewritten, re-hashed tail whose newest digests were deleted', async function () {
      const stream = await runAndStop();
      const { events, digests } = await streamState(stream);
      // Keep the digests up to the first one signing event 10 or later; the forger rewrites what follows.
      const kept = digests.findIndex((digest) => digest.toSeq >= 10 && digest.fromSeq <= digest.toSeq);
      const cut = digests[kept]!;
      const forged: AuditEvent[] = [];
      let prevHash = events.find((event) => event.seq === cut.toSeq)!.hash;
      for (const event of events.filter((e) => e.seq > cut.toSeq)) {
        const copy: AuditEvent = { ...event, resourceId: `forged-${event.seq}`, prevHash };
        copy.hash = eventHash(copy as unknown as Record<string, unknown>);
        prevHash = copy.hash;
        forged.push(copy);
      }
      await backend.deleteEvents(forged.map((event) => event.id));
      await backend.store.write(forged);
      await backend.deleteDigests(digests.slice(kept + 1).map((digest) => digest.id));
      await sleep(INTERVAL + GRACE + 100);

      const { status, report } = await verify();
      expect(status).to.equal(1);
      expect(report.ok).to.equal(false);
      expect(report.unsigned).to.equal(20 - cut.toSeq);
      expect(report.first).to.include({ kind: 'truncated', stream, seq: cut.toSeq + 1 });
      expect(report.first.message).to.match(/no close record/);
      // The pin names the deleted close record as well.
      const pinned = await verify('--pin', pinFile);
      expect(pinned.report.problems.map((p: { kind: string }) => p.kind)).to.include('truncated');
      expect(pinned.report.problems.some((p: { message: string }) => /pinned digest/.test(p.message))).to.equal(true);
    });

    it('fails when a digest in the middle of the digest chain is deleted', async function () {
      const stream = await runAndStop();
      const { digests } = await streamState(stream);
      expect(digests.length).to.be.at.least(3);
      const middle = digests[Math.floor(digests.length / 2)]!;
      await backend.deleteDigests([middle.id]);
      const { status, report } = await verify('--pin', pinFile);
      expect(status).to.equal(1);
      expect(report.problems.map((p: { kind: string }) => p.kind)).to.deep.equal(['deleted-digest']);
    });

    it('fails, given the pin file, when the whole stream is deleted with its digests', async function () {
      const stream = await runAndStop();
      const { events, digests } = await streamState(stream);
      await backend.deleteEvents(events.map((event) => event.id));
      await backend.deleteDigests(digests.map((digest) => digest.id));
      // Nothing is left in the store to contradict: only the copy outside it can tell.
      expect((await verify()).status).to.equal(0);
      const { status, report } = await verify('--pin', pinFile);
      expect(status).to.equal(1);
      expect(report.first).to.include({ kind: 'truncated', stream, seq: 20 });
    });
  });
}
