// `portcullis audit verify` on real MongoDB: a stream's oldest events and digests deleted while their
// retention still runs are reported (only expiry may shorten a stream from its old end), and so is a
// stored event document that gained a field or an earlier expiry.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import type { AuditDigest, AuditEvent } from '../../src/audit/event.js';
import { createAuditPipeline } from '../../src/audit/pipeline.js';
import { verifyEvents } from '../../src/audit/verify.js';
import { runCli } from '../../src/cli/run.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import type { AuditDocument } from '../../stores/mongodb/audit-document.js';
import { requireEnv, sharedMongo, uniqueName } from '../support/connections.js';

const KEY = 'head-test-signing-key-0123456789';
const INTERVAL = 100;

interface Problem {
  kind: string;
  seq: number;
  eventId?: string;
  message: string;
}

describe('portcullis audit verify: the head of a stream and stored documents (MongoDB)', function () {
  this.timeout(20_000);
  let connection: Connection;
  let collection: string;
  let store: MongoAuditStore;
  let dir: string;
  let pinFile: string;
  let stream: string;
  /** Event ids by seq. */
  let ids: string[];
  /** The digests, by toSeq, as stored. */
  let digests: AuditDigest[];

  async function verify(env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runCli(
      ['audit', 'verify', '--mongodb', requireEnv('MONGODB_URI'), '--collection', collection, '--pin', pinFile],
      {
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        readFile: (path) => readFile(path, 'utf8'),
        env: { AUDIT_SIGNING_KEY: KEY, AUDIT_DIGEST_INTERVAL: `${INTERVAL}ms`, ...env },
      },
    );
    expect(err, err.join('\n')).to.deep.equal([]);
    return { status, report: JSON.parse(out[0]!) as { ok: boolean; problems: Problem[]; first?: Problem } };
  }

  const events = () => connection.collection<AuditDocument>(collection);
  const digestDocs = () => connection.collection<{ stream: string; toSeq: number }>(`${collection}_digests`);

  /** What the attacker ran: the oldest events and the digests covering only them, deleted in the database. */
  async function cutHead(seq: number) {
    await events().deleteMany({ stream, seq: { $lte: seq } });
    await digestDocs().deleteMany({ stream, toSeq: { $lte: seq } });
  }

  before(async function () {
    connection = await sharedMongo();
  });

  beforeEach(async function () {
    collection = uniqueName('audit_head');
    dir = await mkdtemp(join(tmpdir(), 'audit-head-'));
    pinFile = join(dir, 'audit.pin');
    store = new MongoAuditStore({ connection, collection });
    await store.init();
    const pipeline = await createAuditPipeline({
      store,
      signingKey: KEY,
      digestInterval: INTERVAL,
      pinFile,
      flushInterval: 0,
    });
    ids = [''];
    // Several rounds of events, each signed by its own digest.
    for (let round = 0; round < 6; round++) {
      for (let index = 0; index < 4; index++) {
        const event = await pipeline.publish({
          action: 'UPDATE',
          resource: 'accounts',
          resourceId: `${round}-${index}`,
        });
        ids.push(event!.id);
      }
      await pipeline.flush();
      await sleep(INTERVAL * 2.5);
    }
    await pipeline.close();
    digests = (await store.digests()).sort((a, b) => a.toSeq - b.toSeq || a.time.localeCompare(b.time));
    stream = digests[0]!.stream;
  });

  afterEach(async function () {
    await connection.dropCollection(collection).catch(() => undefined);
    await connection.dropCollection(`${collection}_digests`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the untouched log; every digest signs the time before its range', async function () {
    const { status, report } = await verify();
    expect(status, JSON.stringify(report)).to.equal(0);
    const covering = digests.filter((digest) => digest.fromSeq <= digest.toSeq);
    expect(covering.length).to.be.at.least(3);
    for (const digest of digests) expect(digest.sinceTime).to.be.a('string');
  });

  it('reports the oldest events and their digests deleted while their retention runs, pins given', async function () {
    // Cut at a digest boundary, as the attacker did: the first remaining digest follows a deleted one.
    const boundary = digests.filter((digest) => digest.fromSeq <= digest.toSeq)[2]!.toSeq;
    await cutHead(boundary);
    const { status, report } = await verify();
    expect(status, JSON.stringify(report)).to.equal(1);
    expect(report.ok).to.equal(false);
    const kinds = report.problems.map((problem) => problem.kind);
    expect(kinds).to.include.members(['deleted', 'deleted-digest']);
    const deleted = report.problems.find((problem) => problem.kind === 'deleted')!;
    expect(deleted).to.include({ seq: boundary, eventId: ids[boundary + 1] });
    expect(deleted.message).to.match(/head of the stream was deleted/);
  });

  it('reports a cut inside a digest range, and oldest events deleted with their digests kept', async function () {
    const covering = digests.filter((digest) => digest.fromSeq <= digest.toSeq);
    await cutHead(covering[1]!.toSeq + 2);
    const inside = await verify();
    expect(inside.status, JSON.stringify(inside.report)).to.equal(1);
    const cut = inside.report.problems.find((problem) => problem.kind === 'deleted');
    expect(cut, JSON.stringify(inside.report)).to.include({ seq: covering[1]!.toSeq + 2 });

    await events().deleteMany({ stream, seq: { $lte: covering[2]!.toSeq } });
    const kept = await verify();
    expect(kept.status).to.equal(1);
    expect(kept.report.problems.some((problem) => problem.kind === 'deleted')).to.equal(true);
  });

  it('accepts the same missing head once its retention has run out', async function () {
    await cutHead(digests.filter((digest) => digest.fromSeq <= digest.toSeq)[2]!.toSeq);
    const remaining: AuditEvent[] = [];
    for await (const event of store.scan()) remaining.push(event);
    const left = await store.digests();
    const retention = 600_000;
    const options = { key: KEY, digestInterval: INTERVAL, retention };
    const expired = verifyEvents(remaining, left, { ...options, now: () => Date.now() + retention + 61_000 });
    expect(expired.problems).to.deep.equal([]);
    const live = verifyEvents(remaining, left, { ...options, now: () => Date.now() });
    expect(live.ok).to.equal(false);
  });

  it('reports a field added to a stored event document', async function () {
    await events().updateOne({ _id: ids[6]! }, { $set: { approvedBy: 'mallory' } });
    const { status, report } = await verify();
    expect(status).to.equal(1);
    expect(report.first).to.include({ kind: 'modified', eventId: ids[6], seq: 6 });
    expect(report.first!.message).to.match(/stored record was changed \(approvedBy\)/);
  });

  it('reports an expireAt earlier than the event time plus retention, and accepts a later one', async function () {
    const document = (await events().findOne({ _id: ids[9]! }))!;
    await events().updateOne({ _id: ids[9]! }, { $set: { expireAt: new Date(Date.now() + 3_600_000) } });
    const early = await verify();
    expect(early.status).to.equal(1);
    expect(early.report.first).to.include({ kind: 'modified', eventId: ids[9], seq: 9 });
    expect(early.report.first!.message).to.match(/\(expireAt\)/);

    // The retention verify is told is the store's: a shorter AUDIT_RETENTION makes that expiry due.
    const shorter = await verify({ AUDIT_RETENTION: '1h' });
    expect(shorter.status, JSON.stringify(shorter.report)).to.equal(0);

    const later = new Date(document.expireAt.getTime() + 86_400_000);
    await events().updateOne({ _id: ids[9]! }, { $set: { expireAt: later } });
    expect((await verify()).status).to.equal(0);
  });
});
