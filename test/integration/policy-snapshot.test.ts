// The MongoDB policy store's snapshot for full loads: used when it and the change log tell the whole story,
// brought up to date from the log, and never used (the policies are read, and snapshotted anew) otherwise.
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { allow } from '../../src/abac/policy.js';
import { serializePolicy } from '../../stores/policy-documents.js';
import { MongoPolicyStore } from '../../stores/mongodb/policies.js';
import { PolicySnapshot } from '../../stores/mongodb/policy-snapshot.js';
import { ConfigError, type Policy } from 'portcullis';
import { sharedMongo, uniqueName } from '../support/connections.js';

const policy = (uid: string, resource = `r-${uid}`) =>
  allow({ uid, subjects: ['ana'], actions: ['read'], resources: [resource] });
const numbered = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => policy(`p${String(from + index).padStart(3, '0')}`));

async function loadAll(store: MongoPolicyStore, batchSize = 7): Promise<Policy[]> {
  const all: Policy[] = [];
  for await (const batch of store.retrieveAll(batchSize)) all.push(...batch);
  return all;
}

describe('MongoDB policy snapshot (full loads)', function () {
  this.timeout(30_000);
  let connection: Connection;
  let name: string;
  let store: MongoPolicyStore;
  const meta = () => connection.collection(`${name}_snapshot`).findOne({ _id: 'meta' as never });
  const chunkCount = () => connection.collection(`${name}_snapshot`).countDocuments({ chunk: { $gte: 0 } });

  beforeEach(async function () {
    connection = await sharedMongo();
    name = uniqueName('policy_snapshot');
    store = new MongoPolicyStore({ connection, collection: name });
    await store.init();
  });
  afterEach(async function () {
    for (const suffix of ['', '_changes', '_migrations', '_snapshot']) {
      await connection.dropCollection(`${name}${suffix}`).catch(() => false);
    }
  });

  it('a complete read saves a snapshot; the next load uses it, brought up to date from the change log', async function () {
    await store.addMany(numbered(30));
    expect(await meta()).to.equal(null);
    expect((await loadAll(store)).map((p) => p.uid)).to.deep.equal(numbered(30).map((p) => p.uid));
    const saved = await meta();
    expect(saved).to.deep.include({ revision: 1, count: 30 });

    await store.add(policy('p015a'));
    await store.update(policy('p003', 'first change'));
    await store.update(policy('p003', 'changed'));
    await store.delete('p005');
    await store.add(policy('a-first'));
    // Proof that the load comes from the snapshot: a document removed behind the stores' backs (no change
    // logged, which the docs forbid) is still listed, and the snapshot was not saved again.
    await connection.collection(name).deleteOne({ _id: 'p007' as never });
    const other = new MongoPolicyStore({ connection, collection: name });
    const loaded = await loadAll(other);
    const expected = [
      'a-first',
      ...numbered(30)
        .map((p) => p.uid)
        .filter((uid) => uid !== 'p005'),
      'p015a',
    ].sort();
    expect(loaded.map((p) => p.uid)).to.deep.equal(expected);
    expect(loaded.find((p) => p.uid === 'p003')!.resources).to.deep.equal(policy('p003', 'changed').resources);
    expect(await meta()).to.deep.equal(saved);
  });

  it('applies a policy changed once from its log entry, and re-reads one changed several times', async function () {
    await store.addMany(numbered(10));
    await loadAll(store);
    await store.update(policy('p001', 'logged'));
    await store.update(policy('p002', 'twice'));
    await store.update(policy('p002', 'twice again'));
    // Changed behind the store's back after the writes: only a policy that is re-read shows it.
    const tamper = (uid: string) =>
      connection
        .collection(name)
        .updateOne({ _id: uid as never }, { $set: { doc: JSON.stringify({ ...policy(uid, 'tampered'), uid }) } });
    await tamper('p001');
    await tamper('p002');
    const loaded = await loadAll(new MongoPolicyStore({ connection, collection: name }));
    const resources = (uid: string) => loaded.find((p) => p.uid === uid)!.resources;
    expect(resources('p001')).to.deep.equal(policy('p001', 'logged').resources);
    expect(resources('p002')).to.deep.equal(policy('p002', 'tampered').resources);
  });

  it('a policy deleted and then added again by addMany (a reset) before the snapshot stays', async function () {
    await store.addMany(numbered(5));
    await store.delete('p001');
    await store.addMany([policy('p001'), policy('p100')]);
    expect((await loadAll(store)).map((p) => p.uid)).to.include('p001');
    expect(await meta()).to.deep.include({ revision: 3, count: 6 });
    // From the snapshot now: the delete logged before the reset is not replayed.
    expect((await loadAll(store)).map((p) => p.uid)).to.deep.equal(['p000', 'p001', 'p002', 'p003', 'p004', 'p100']);
  });

  it('is not used after a reset, a trimmed log or a log of another history; the read then saves a new one', async function () {
    await store.addMany(numbered(10));
    await loadAll(store);
    const first = await meta();

    // addMany logs one reset: the snapshot cannot say what changed.
    await store.addMany(numbered(5, 10));
    await connection.collection(name).deleteOne({ _id: 'p002' as never });
    expect((await loadAll(store)).map((p) => p.uid)).to.not.include('p002');
    const second = await meta();
    expect(second).to.deep.include({ revision: 2, count: 14 });
    expect(second!.save).to.not.equal(first!.save);
    // The older save's chunks are gone.
    expect(await chunkCount()).to.equal(second!.chunks);

    // A change the log no longer holds (trimmed).
    await store.add(policy('q1'));
    await store.add(policy('q2'));
    await connection.collection(`${name}_changes`).deleteOne({ _id: 3 as never });
    await connection.collection(name).deleteOne({ _id: 'p003' as never });
    expect((await loadAll(store)).map((p) => p.uid)).to.not.include('p003');
    expect(await meta()).to.deep.include({ revision: 4, count: 15 });

    // The log entry the snapshot was taken at differs (a log dropped and written again up to there).
    await connection
      .collection(`${name}_changes`)
      .updateOne({ _id: 4 as never }, { $set: { at: new Date(Date.now() - 60_000) } });
    await connection.collection(name).deleteOne({ _id: 'p004' as never });
    expect((await loadAll(store)).map((p) => p.uid)).to.not.include('p004');
  });

  it('a load stopped part-way saves nothing; snapshot: false never saves and is validated', async function () {
    await store.addMany(numbered(20));
    for await (const batch of store.retrieveAll(5)) {
      expect(batch).to.have.length(5);
      break;
    }
    expect(await meta()).to.equal(null);
    const plain = new MongoPolicyStore({ connection, collection: name, snapshot: false });
    expect(await loadAll(plain)).to.have.length(20);
    expect(await meta()).to.equal(null);
    expect(() => new MongoPolicyStore({ connection, snapshot: 'yes' as never }))
      .to.throw(ConfigError)
      .with.property('option', 'snapshot');
  });

  it('splits a large store into chunks and reads them back in uid order', async function () {
    const snapshot = new PolicySnapshot(
      connection.collection(`${name}_snapshot`),
      connection.collection(`${name}_changes`),
      1000,
    );
    await store.addMany(numbered(100));
    const docs = numbered(100).map(serializePolicy);
    await snapshot.save(1, docs);
    expect((await meta())!.chunks).to.be.above(10);
    const loaded = await snapshot.load(async () => expect.fail('no change to replay'));
    expect(loaded!.map(serializePolicy)).to.deep.equal(docs);
  });
});
