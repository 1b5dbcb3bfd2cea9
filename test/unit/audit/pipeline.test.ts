// The audit pipeline: context, enrichers, masking, disabled publishing, backpressure, slow sinks and shutdown.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditContext } from '../../../src/audit/context.js';
import type { AuditEvent } from '../../../src/audit/event.js';
import { createAuditPipeline } from '../../../src/audit/pipeline.js';
import { verifyEvents } from '../../../src/audit/verify.js';
import type { AuditStore } from '../../../src/contracts/audit.js';
import { ConfigError, StoreUnavailableError } from '../../../src/errors.js';
import { MemoryAuditStore } from '../../../stores/memory/audit.js';
import { MemoryReliabilityQueue } from '../../../stores/memory/audit-queue.js';
import { countConcurrentWrites } from '../../support/write-counter.js';
import { createMasker } from '../../../src/pii/index.js';

/** A real memory store whose writes can be held back or made to fail. */
class ControlledStore extends MemoryAuditStore {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  writes = 0;
  override async write(events: readonly AuditEvent[]): Promise<void> {
    this.writes++;
    if (this.mode === 'fail') throw new Error('store down');
    if (this.mode === 'hang') await new Promise(() => undefined);
    return super.write(events);
  }
}

async function all(store: AuditStore): Promise<AuditEvent[]> {
  return (await store.list({ limit: 1000, order: 'asc' })).events;
}

describe('audit pipeline', function () {
  it('merges the request-scoped context and enricher fields; code can publish its own events', async function () {
    const store = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({
      store,
      enrichers: [() => ({ host: 'web-1', resource: 'fallback-resource', __proto__: { polluted: true } })],
    });
    await auditContext.run({ tenant: 'acme' }, async () => {
      auditContext.update({ location: 'Austria', constructor: 'x' });
      await pipeline.publish({ action: 'user.login', data: { method: 'password' } });
    });
    await pipeline.publish({ action: 'invite.created', resource: 'invites', id: 'custom-id-1' });
    await pipeline.close();
    const [login, invite] = await all(store);
    expect(login!.data).to.deep.equal({ tenant: 'acme', location: 'Austria', method: 'password', host: 'web-1' });
    expect(login!.resource).to.equal('fallback-resource');
    expect(login!.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(invite).to.include({ id: 'custom-id-1', resource: 'invites' });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('checks ids and times it did not make itself; enrichers see the event so far and fill only what it lacks', async function () {
    const store = new MemoryAuditStore();
    const seen: Record<string, unknown>[] = [];
    const pipeline = await createAuditPipeline({
      store,
      defaultEnricher: false,
      enrichers: [
        (event) => {
          seen.push({ ...event });
          return event.resource === 'bad' ? { id: 'not a safe id!', time: 'yesterday' } : { id: 'from-enricher' };
        },
        () => ({ id: 'second', action: 'ignored', resource: 'second', tenant: 't1' }),
      ],
    });
    const fromEnricher = await pipeline.publish({ action: 'custom', resource: 'people' });
    const replaced = await pipeline.publish({ action: 'custom', resource: 'bad' });
    const given = await pipeline.publish({ action: '', id: 'caller-id', time: '2026-01-02T03:04:05.006Z' });
    const badGiven = await pipeline.publish({ action: 'custom', id: 'x'.repeat(200), time: 'soon' });
    await pipeline.close();
    expect(seen[0]).to.deep.include({ action: 'custom', resource: 'people', id: undefined, time: undefined });
    expect(fromEnricher).to.include({ id: 'from-enricher', action: 'custom', resource: 'people' });
    expect(fromEnricher!.data).to.deep.equal({ tenant: 't1' });
    expect(Number.isNaN(Date.parse(fromEnricher!.time))).to.equal(false);
    expect(replaced!.id).to.match(/^[0-9a-f-]{36}$/);
    expect(replaced!.time).not.to.equal('yesterday');
    expect(Number.isNaN(Date.parse(replaced!.time))).to.equal(false);
    expect(given).to.include({ id: 'caller-id', time: '2026-01-02T03:04:05.006Z', action: 'UNKNOWN' });
    expect(badGiven!.id).to.match(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(badGiven!.time))).to.equal(false);
    expect(verifyEvents(await all(store), []).ok).to.equal(true);
  });

  it('never shows the masker the id, time or action; a masker that returns no object fails closed', async function () {
    const store = new MemoryAuditStore();
    const shown: unknown[] = [];
    let broken = false;
    const pipeline = await createAuditPipeline({
      store,
      masker: {
        mask<T>(value: T): T {
          shown.push({ ...(value as object) });
          return (broken ? 'nothing' : value) as T;
        },
      },
    });
    const masked = await pipeline.publish({ action: 'UPDATE', resource: 'people', body: { a: 1 } });
    const frozen = Object.freeze({ resource: 'frozen' });
    const withFrozen = await createAuditPipeline({ store, masker: { mask: <T>() => frozen as T } });
    const fromFrozen = await withFrozen.publish({ action: 'DELETE', resource: 'people' });
    await withFrozen.close();
    expect(frozen).to.deep.equal({ resource: 'frozen' });
    broken = true;
    const failed = await pipeline.publish({ action: 'UPDATE', resource: 'people', body: { a: 1 } });
    await pipeline.close();
    expect(shown[0]).to.deep.equal({ resource: 'people', body: { a: 1 } });
    // Two pipelines write to the store: events of one millisecond list by id, so they are read back by id.
    const [first, second, third] = await Promise.all([masked, fromFrozen, failed].map((event) => store.get(event!.id)));
    expect(first).to.deep.include({ action: 'UPDATE', body: { a: 1 } });
    expect(second).to.deep.include({ action: 'DELETE', resource: 'frozen' });
    expect(third).to.deep.include({ action: 'UPDATE', resource: 'people', data: { maskFailed: true } });
    expect(third!.body).to.equal(undefined);
  });

  it('publishes nothing when disabled (cased disable_publishing)', async function () {
    const store = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({ store, enabled: false });
    expect(await pipeline.publish({ action: 'x' })).to.equal(undefined);
    await pipeline.close();
    expect(await all(store)).to.deep.equal([]);
  });

  it('masks before storing and never stores a payload it could not mask', async function () {
    const store = new MemoryAuditStore();
    let calls = 0;
    const pipeline = await createAuditPipeline({
      store,
      masker: {
        mask<T>(value: T): T {
          if (++calls === 2) throw new Error('masker broke');
          return JSON.parse(JSON.stringify(value).replaceAll('secret@example.com', '***')) as T;
        },
      },
    });
    await pipeline.publish({ action: 'CREATE', body: { email: 'secret@example.com' } });
    await pipeline.publish({ action: 'CREATE', body: { email: 'secret@example.com' }, user: { id: 'u1', name: 'N' } });
    await pipeline.close();
    const stored = await all(store);
    expect(JSON.stringify(stored)).not.to.contain('secret@example.com');
    expect(stored[1]!.data).to.deep.equal({ maskFailed: true });
    expect(stored[1]!.user).to.deep.equal({ id: 'u1' });
  });

  it("keeps the event's id, time and action even when the masker rewrites them", async function () {
    const store = new MemoryAuditStore();
    const pipeline = await createAuditPipeline({
      store,
      masker: {
        mask<T>(value: T): T {
          const copy = { ...(value as Record<string, unknown>) };
          for (const key of Object.keys(copy)) if (typeof copy[key] === 'string') copy[key] = '***';
          return copy as T;
        },
      },
    });
    const event = await pipeline.publish({ action: 'UPDATE', resource: 'people', id: 'evt-1' });
    await pipeline.close();
    const [stored] = await all(store);
    expect(stored).to.include({ id: 'evt-1', action: 'UPDATE', time: event!.time, resource: '***' });
    expect(verifyEvents([stored!], []).ok).to.equal(true);
  });

  it('applies backpressure: publishers wait while the buffer is full, then fail with 503 after maxWait', async function () {
    const store = new ControlledStore();
    store.mode = 'hang';
    const pipeline = await createAuditPipeline({
      store,
      bufferLimit: 3,
      batchSize: 1,
      maxWait: 100,
      writeTimeout: 5000,
    });
    for (let index = 0; index < 4; index++) pipeline.record({ action: 'UPDATE' });
    expect(pipeline.saturated).to.equal(true);
    expect(pipeline.queueDepth()).to.equal(4);
    let caught: unknown;
    try {
      await pipeline.publish({ action: 'UPDATE' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(StoreUnavailableError);
  });

  it('sends batches to the fallback when the store is slow, then replays them in order without duplicates', async function () {
    const store = new ControlledStore();
    const fallback = new MemoryReliabilityQueue();
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [fallback],
      writeTimeout: 50,
      retryInterval: 50,
      batchSize: 5,
      flushInterval: 0,
    });
    store.mode = 'hang';
    for (let index = 0; index < 20; index++) pipeline.record({ action: 'UPDATE', resourceId: String(index) });
    await pipeline.flush();
    expect(await fallback.size()).to.be.greaterThan(0);
    store.mode = 'ok';
    for (let waited = 0; waited < 3000 && (await fallback.size()) > 0; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await pipeline.close();
    const stored = await all(store);
    expect(stored.map((event) => event.resourceId)).to.deep.equal([...Array(20).keys()].map(String));
    expect(verifyEvents(stored, []).ok).to.equal(true);
  });

  it('writes full batches concurrently (writeConcurrency) and still stores each event once, chain intact', async function () {
    // A store whose writes take a while and sometimes fail, counting how many run at once.
    class SlowFlakyStore extends MemoryAuditStore {
      writes = 0;
      override async write(events: readonly AuditEvent[]): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 5 + (this.writes % 3) * 7));
        if (++this.writes % 4 === 0) throw new Error('store hiccup');
        await super.write(events);
      }
    }
    const store = new SlowFlakyStore({ maxEvents: 10_000 });
    const writes = countConcurrentWrites(store);
    const fallback = new MemoryReliabilityQueue();
    const key = 'unit-test-signing-key-123';
    const pipeline = await createAuditPipeline({
      store,
      fallbacks: [fallback],
      batchSize: 50,
      writeConcurrency: 3,
      flushInterval: 5,
      retryInterval: 20,
      signingKey: key,
      digestInterval: 30,
    });
    const published: AuditEvent[] = [];
    for (let index = 0; index < 3000; index++) {
      published.push(pipeline.record({ action: index % 3 ? 'UPDATE' : 'GET', resourceId: String(index) })!);
      if (index % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    await pipeline.flush();
    for (let waited = 0; waited < 5000 && (await fallback.size()) > 0; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await pipeline.close();
    const stored = (await store.list({ limit: 1000, order: 'asc' })).events;
    const everything = [];
    for await (const event of store.scan()) everything.push(event);
    expect(writes.maxRunning, 'writes at once').to.be.within(2, 3);
    expect(everything.length).to.equal(published.length);
    expect(new Set(everything.map((event) => event.id)).size).to.equal(published.length);
    expect(stored.length).to.equal(1000);
    expect(await fallback.size()).to.equal(0);
    const report = verifyEvents(everything, await store.digests(), { key });
    expect(report.ok, JSON.stringify(report.first)).to.equal(true);
    expect(pipeline.stats()).to.include({ published: 3000 });
  });

  it('signs digests of what the store holds', async function () {
    const store = new MemoryAuditStore();
    const key = 'unit-test-signing-key-123';
    const pipeline = await createAuditPipeline({ store, signingKey: key, digestInterval: 20, flushInterval: 0 });
    for (let index = 0; index < 5; index++) await pipeline.publish({ action: 'DELETE' });
    await new Promise((resolve) => setTimeout(resolve, 80));
    await pipeline.publish({ action: 'DELETE' });
    await pipeline.close();
    const digests = await store.digests();
    expect(digests.length).to.be.at.least(2);
    const report = verifyEvents(await all(store), digests, { key });
    expect(report).to.include({ ok: true, unsigned: 0 });
    expect(pipeline.stats()).to.include({ published: 6, stored: 6 });
  });

  it('validates options once, naming the option', async function () {
    const store = new MemoryAuditStore();
    const attempts: [object, RegExp][] = [
      [{ store, batchsize: 5 }, /did you mean batchSize/],
      [{}, /store/],
      [{ store, batchSize: 0 }, /batchSize/],
      [{ store, signingKey: 'short' }, /signingKey/],
      [{ store, masker: {} }, /masker/],
    ];
    for (const [options, message] of attempts) {
      let caught: unknown;
      try {
        await createAuditPipeline(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught, String(message)).to.be.instanceOf(ConfigError);
      expect((caught as Error).message).to.match(message);
    }
  });

  it('loses no event on SIGTERM: the process flushes to the fallback file before exiting', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sigterm-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'sigterm-child.ts'), dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('published')) child.kill('SIGTERM');
      });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).to.equal(0);
      const published = Number(/published (\d+)/.exec(output)![1]);
      const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
      const ids = new Set(
        lines.flatMap((line) => (JSON.parse(line) as { events: AuditEvent[] }).events.map((e) => e.id)),
      );
      expect(published).to.equal(5000);
      expect(ids.size).to.equal(published);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never masks the request id: it matches a response to its event, and recognizers found numbers in UUIDs', async function () {
    const store = new MemoryAuditStore();
    const masker = createMasker({ recognizers: ['card', 'phone', 'ssn'] });
    const pipeline = await createAuditPipeline({ store, masker, flushInterval: 0 });
    // A UUID in which the card recognizer finds a number, and a phone number where no id may be.
    const requestId = '6ab20892-2825-4125-a034-9020a65919f2';
    expect(masker.mask({ requestId }).requestId).to.not.equal(requestId);
    await pipeline.publish({ action: 'UPDATE', requestId, body: { note: 'call +49 30 5550123' } });
    await pipeline.close();
    const [event] = (await store.list({ limit: 10 })).events;
    expect(event!.requestId).to.equal(requestId);
    expect(JSON.stringify(event!.body)).to.not.include('5550123');
  });

  it('writes a digest whose write timed out again, unchanged, so the digest chain never forks', async function () {
    class LandsThenFails extends MemoryAuditStore {
      calls = 0;
      override async writeDigest(digest: Parameters<MemoryAuditStore['writeDigest']>[0]): Promise<void> {
        await super.writeDigest(digest);
        // The first write lands but its answer is lost, as when a store times out after committing.
        if (++this.calls === 1) throw new Error('timed out');
      }
    }
    const store = new LandsThenFails();
    const pipeline = await createAuditPipeline({
      store,
      signingKey: 'a-signing-key-of-sixteen-chars',
      digestInterval: 30,
      flushInterval: 0,
    });
    await pipeline.publish({ action: 'UPDATE' });
    await pipeline.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await pipeline.close();
    const digests = await store.digests();
    expect(digests.length).to.be.at.least(3);
    const followers = digests.map((digest) => `${digest.stream}|${digest.prevSignature}`);
    expect(new Set(followers).size, 'two digests follow the same one').to.equal(followers.length);
  });
});
