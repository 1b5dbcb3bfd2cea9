// `portcullis audit verify` on real MongoDB: passes an untouched log, names the first bad event after tampering.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { eventHash } from '../../src/audit/canonical.js';
import { createAuditPipeline } from '../../src/audit/pipeline.js';
import { runCli } from '../../src/cli/run.js';
import { MongoAuditStore } from '../../stores/mongodb/audit.js';
import { fromDocument, type AuditDocument } from '../../stores/mongodb/audit-document.js';
import { requireEnv, sharedMongo, uniqueName } from '../support/connections.js';

const KEY = 'integration-signing-key-0123456789';

describe('portcullis audit verify (MongoDB)', function () {
  let connection: Connection;
  let collection: string;
  let ids: string[];

  async function verify(...extra: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runCli(
      ['audit', 'verify', '--mongodb', requireEnv('MONGODB_URI'), '--collection', collection, ...extra],
      {
        stdout: (line) => out.push(line),
        stderr: (line) => err.push(line),
        readFile: async () => '',
        env: { AUDIT_SIGNING_KEY: KEY },
      },
    );
    return { status, report: out[0] ? JSON.parse(out[0]) : undefined, err };
  }

  function docs() {
    return connection.collection<AuditDocument>(collection);
  }

  beforeEach(async function () {
    connection = await sharedMongo();
    collection = uniqueName('audit_verify');
    const store = new MongoAuditStore({ connection, collection });
    await store.init();
    const pipeline = await createAuditPipeline({ store, signingKey: KEY, batchSize: 4, flushInterval: 0 });
    ids = [];
    for (let index = 0; index < 12; index++) {
      const event = await pipeline.publish({
        action: 'UPDATE',
        resource: 'accounts',
        resourceId: String(index),
        body: { seats: index },
      });
      ids.push(event!.id);
    }
    await pipeline.close();
  });
  afterEach(async function () {
    await connection.dropCollection(collection).catch(() => undefined);
    await connection.dropCollection(`${collection}_digests`).catch(() => undefined);
  });

  it('passes an untouched log, with every event signed', async function () {
    const { status, report } = await verify();
    expect(status).to.equal(0);
    expect(report).to.include({ ok: true, events: 12, streams: 1, unsigned: 0 });
    expect(report.digests).to.be.at.least(1);
  });

  it('names an event edited in the database (payload or queryable field)', async function () {
    await docs().updateOne({ _id: ids[4] }, { $set: { rest: JSON.stringify({ body: { seats: 40 } }) } });
    await docs().updateOne({ _id: ids[7] }, { $set: { action: 'DELETE' } });
    await docs().updateOne({ _id: ids[9] }, { $set: { 'user.id': 'someone-else' } });
    const { status, report } = await verify();
    expect(status).to.equal(1);
    expect(report.first, JSON.stringify(report)).to.include({ kind: 'modified', eventId: ids[4], seq: 5 });
    const named = report.problems.map((p: { eventId: string }) => p.eventId);
    expect(named).to.include.members([ids[7], ids[9]]);
  });

  it('names the gap left by a deleted event, and a deleted last event through the digest', async function () {
    await docs().deleteOne({ _id: ids[5] });
    const first = await verify();
    expect(first.status).to.equal(1);
    expect(first.report.first).to.include({ kind: 'deleted', seq: 6, eventId: ids[6] });
    await docs().deleteOne({ _id: ids[11] });
    const { report } = await verify();
    expect(report.problems.some((p: { kind: string; seq: number }) => p.kind === 'deleted' && p.seq === 12)).to.equal(
      true,
    );
  });

  it('names reordered events', async function () {
    await docs().updateOne({ _id: ids[2] }, { $set: { seq: 4 } });
    await docs().updateOne({ _id: ids[3] }, { $set: { seq: 3 } });
    const { status, report } = await verify();
    expect(status).to.equal(1);
    expect(report.first).to.include({ kind: 'reordered', eventId: ids[3], seq: 3 });
  });

  it('catches a forger who recomputes the hash chain, through the signed digest', async function () {
    const all = await docs().find().sort({ seq: 1 }).toArray();
    let prevHash = '';
    for (const [index, doc] of all.entries()) {
      const event = fromDocument(doc);
      if (index === 8) event.resourceId = 'forged';
      if (index > 8) event.prevHash = prevHash;
      if (index >= 8) {
        event.hash = eventHash(event as never);
        const fields = { hash: event.hash, prevHash: event.prevHash, resourceId: event.resourceId };
        await docs().updateOne({ _id: doc._id }, { $set: fields });
      }
      prevHash = event.hash;
    }
    const { status, report } = await verify();
    expect(status).to.equal(1);
    expect(report.first).to.include({ kind: 'modified', seq: 12 });
  });

  it('verifies a time range and reports bad input with exit status 2', async function () {
    const { report } = await verify('--from', '2000-01-01T00:00:00Z', '--to', '2000-01-02T00:00:00Z');
    expect(report).to.include({ ok: true, events: 0 });
    const bad = await verify('--from', 'yesterday');
    expect(bad.status).to.equal(2);
    expect(bad.err[0]).to.match(/--from needs an ISO 8601 time/);
    const unknown = await verify('--frm', 'x');
    expect(unknown.status).to.equal(2);
  });
});
