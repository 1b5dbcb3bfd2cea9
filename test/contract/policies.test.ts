// The policy store contract, run against memory, MongoDB and Redis (real servers).
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PolicyChange, PolicyChangeFeed, PolicyStore } from '../../src/contracts/policies.js';
import { allow, deny } from '../../src/abac/policy.js';
import {
  ConfigError,
  ConflictError,
  Guard,
  NotFoundError,
  PolicyMirror,
  PolicyFileError,
  PolicyValidationError,
  rules,
  ValidationError,
  type Policy,
} from 'portcullis';
import { exactKey } from '../../src/abac/index-keys.js';
import { MemoryPolicyStore } from '../../stores/memory/policies.js';
import { MongoPolicyStore } from '../../stores/mongodb/policies.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';
import { deleteKeys, sharedMongo, uniqueName } from '../support/connections.js';
import { contractSuite, onEachRedis, type Implementation } from './harness.js';

const { Eq, Any, In, StartsWith, CIDR, Greater } = rules;

type FullStore = PolicyStore & PolicyChangeFeed;

const implementations: Implementation<FullStore>[] = [
  { name: 'memory', create: async () => ({ store: new MemoryPolicyStore() }) },
  {
    name: 'mongodb',
    async create(context) {
      const connection = await context.mongo();
      const store = new MongoPolicyStore({ connection, collection: context.name, pollIntervalMs: 50 });
      await store.init();
      return {
        store,
        async cleanup() {
          for (const suffix of ['', '_meta', '_changes', '_migrations', '_snapshot']) {
            await connection.dropCollection(`${context.name}${suffix}`).catch(() => false);
          }
        },
      };
    },
  },
  ...onEachRedis({
    name: 'redis',
    async create(context) {
      const client = await context.redis();
      const prefix = `${context.name}:`;
      const store = new RedisPolicyStore({ client, prefix });
      await store.init();
      return {
        store,
        async cleanup() {
          await deleteKeys(client, `*${prefix}*`);
        },
      };
    },
  }),
];

function numbered(count: number): Policy[] {
  return Array.from({ length: count }, (_, i) =>
    allow({
      uid: `p${String(i).padStart(3, '0')}`,
      subjects: [Any()],
      actions: [Eq('read')],
      resources: [Eq(`doc${i}`)],
    }),
  );
}

async function collect(iterable: AsyncIterable<Policy[]>): Promise<Policy[][]> {
  const batches: Policy[][] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
}

contractSuite('policies', implementations, (store) => {
  it('adds a policy and reads it back unchanged', async function () {
    const original = allow({
      uid: 'repo-fork',
      description: 'fork Google repos',
      subjects: [{ name: Any(), stars: Greater(50) }],
      actions: [In('fork', 'clone')],
      resources: [StartsWith('repos/Google', { ci: true })],
      context: { ip: CIDR('10.0.0.0/8') },
    });
    await store().add(original);
    const read = await store().get('repo-fork');
    expect(read).to.not.equal(undefined);
    expect(JSON.parse(JSON.stringify(read))).to.deep.equal(JSON.parse(JSON.stringify(original)));
    expect(await store().get('missing')).to.equal(undefined);
    expect(await store().get({ $ne: null } as never)).to.equal(undefined);
  });

  it('accepts policy JSON (Portcullis or vakt form) and rejects invalid policies', async function () {
    await store().add({ uid: 'j', effect: 'allow', actions: [{ type: 'Eq', value: 'get' }] } as never);
    expect((await store().get('j'))?.effect).to.equal('allow');
    await store().add({ uid: 'v', actions: [{ 'py/object': 'vakt.rules.operator.Eq', val: 'get' }] } as never);
    expect((await store().get('v'))?.actions[0]).to.have.property('type', 'Eq');
    let caught: unknown;
    await store()
      .add({ uid: 'bad', actions: [{ type: 'Nope' }] } as never)
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(PolicyValidationError);
  });

  it('rejects a duplicate uid with ConflictError and an unknown update with NotFoundError', async function () {
    await store().add(numbered(1)[0]!);
    let conflict: unknown;
    await store()
      .add(numbered(1)[0]!)
      .catch((error) => (conflict = error));
    expect(conflict).to.be.instanceOf(ConflictError);
    let missing: unknown;
    await store()
      .update(allow({ uid: 'nobody', subjects: [Any()], actions: [Any()], resources: [Any()] }))
      .catch((error) => (missing = error));
    expect(missing).to.be.instanceOf(NotFoundError);
  });

  it('pages with getAll(limit, offset) in uid order and validates the page', async function () {
    for (const policy of numbered(7).reverse()) await store().add(policy);
    expect((await store().getAll(3, 0)).map((p) => p.uid)).to.deep.equal(['p000', 'p001', 'p002']);
    expect((await store().getAll(3, 5)).map((p) => p.uid)).to.deep.equal(['p005', 'p006']);
    expect(await store().getAll(3, 10)).to.deep.equal([]);
    let caught: unknown;
    await store()
      .getAll(0, -1)
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ValidationError);
  });

  it('retrieves everything in batches', async function () {
    for (const policy of numbered(7)) await store().add(policy);
    const batches = await collect(store().retrieveAll(3));
    expect(batches.map((batch) => batch.length)).to.deep.equal([3, 3, 1]);
    expect(batches.flat().map((p) => p.uid)).to.deep.equal(numbered(7).map((p) => p.uid));
  });

  it('updates and deletes', async function () {
    await store().add(numbered(1)[0]!);
    await store().update(deny({ uid: 'p000', subjects: [Any()], actions: [Eq('write')], resources: [Any()] }));
    expect((await store().get('p000'))?.effect).to.equal('deny');
    expect(await store().findForInquiry({ subject: 'x', action: 'read', resource: 'doc0' })).to.deep.equal([]);
    expect(
      (await store().findForInquiry({ subject: 'x', action: 'write', resource: 'doc0' })).map((p) => p.uid),
    ).to.deep.equal(['p000']);
    expect(await store().delete('p000')).to.be.true;
    expect(await store().delete('p000')).to.be.false;
    expect(await store().get('p000')).to.equal(undefined);
    expect(await store().findForInquiry({ subject: 'x', action: 'write', resource: 'doc0' })).to.deep.equal([]);
  });

  it('findForInquiry narrows rule-based candidates on exact values, prefixes, attributes and wildcards', async function () {
    for (const policy of numbered(20)) await store().add(policy);
    await store().add(allow({ uid: 'prefix', subjects: [Any()], actions: [Any()], resources: [StartsWith('repos/')] }));
    await store().add(allow({ uid: 'attr', subjects: [{ role: Eq('admin') }], actions: [Any()], resources: [Any()] }));
    // A superset of the matching policies, without the numbered policies the inquiry cannot reach.
    const numberedUids = async (inquiry: object) =>
      (await store().findForInquiry(inquiry)).map((p) => p.uid).filter((uid) => /^p\d+$/.test(uid));
    const uids = async (inquiry: object) => (await store().findForInquiry(inquiry)).map((p) => p.uid);
    expect(await numberedUids({ subject: 'x', action: 'read', resource: 'doc7' })).to.deep.equal(['p007']);
    expect(await uids({ subject: 'x', action: 'read', resource: 'repos/a/b' })).to.include('prefix');
    expect(await numberedUids({ subject: 'x', action: 'read', resource: 'repos/a/b' })).to.deep.equal([]);
    expect(await uids({ subject: { role: 'admin' }, action: 'read', resource: 'doc3' })).to.include.members([
      'attr',
      'p003',
    ]);
    expect(await numberedUids({ subject: { role: 'user' }, action: 'read', resource: 'nothing' })).to.deep.equal([]);
    expect(await uids({ subject: 'x', action: 'read', resource: 'docs/1' })).to.not.include('prefix');
    // A number is not the string "7".
    expect(await numberedUids({ subject: 'x', action: 'read', resource: 7 })).to.deep.equal([]);
  });

  it('findForInquiry serves the regex, exact and fuzzy checkers from string-based policies only', async function () {
    await store().add(
      allow({
        uid: 'lib',
        subjects: ['<[a-zA-Z]+ M[a-z]+>'],
        actions: ['<read|get>'],
        resources: ['library:books:<.+>'],
      }),
    );
    await store().add(allow({ uid: 'plain', subjects: ['sunny'], actions: ['get'], resources: ['weather'] }));
    await store().add(numbered(1)[0]!);
    const uids = async (inquiry: object, checker: 'regex' | 'exact' | 'fuzzy') =>
      (await store().findForInquiry(inquiry, checker)).map((p) => p.uid).sort();
    expect(
      await uids({ subject: 'Jim Morrison', action: 'read', resource: 'library:books:Hobbit' }, 'regex'),
    ).to.deep.equal(['lib']);
    expect(await uids({ subject: 'Jim Morrison', action: 'read', resource: 'office:x' }, 'regex')).to.deep.equal([]);
    expect(await uids({ subject: 'sunny', action: 'get', resource: 'weather' }, 'exact')).to.deep.equal(['plain']);
    expect(await uids({ subject: 'sun', action: 'get', resource: 'weather' }, 'exact')).to.deep.equal([]);
    expect(await uids({ subject: 'sun', action: 'ge', resource: 'eat' }, 'fuzzy')).to.include('plain');
    expect(await uids({ subject: 'sun', action: 'ge', resource: 'eat' }, 'fuzzy')).to.not.include('p000');
    expect(await uids({ subject: 'sun', action: 'read', resource: 'doc0' }, 'rules' as never)).to.deep.equal(['p000']);
  });

  it('a Guard deciding through the store gives the same answers as in memory', async function () {
    await store().add(allow({ uid: 'a', subjects: [Any()], actions: [Eq('read')], resources: [StartsWith('docs/')] }));
    await store().add(deny({ uid: 'd', subjects: [Eq('mallory')], actions: [Any()], resources: [Any()] }));
    const guard = new Guard({ policies: store() });
    expect((await guard.decide({ subject: 'bob', action: 'read', resource: 'docs/1' })).deciders).to.deep.equal(['a']);
    const denied = await guard.decide({ subject: 'mallory', action: 'read', resource: 'docs/1' });
    expect(denied).to.deep.include({ allowed: false, deciders: ['d'] });
  });

  it('tells subscribers about every add, update and delete', async function () {
    const changes: PolicyChange[] = [];
    const stop = await store().subscribe((change) => changes.push(change));
    try {
      await store().add(numbered(1)[0]!);
      await store().update(numbered(1)[0]!);
      await store().delete('p000');
      const deadline = Date.now() + 3000;
      while (changes.length < 3 && Date.now() < deadline) await sleep(20);
    } finally {
      await stop();
    }
    expect(changes.map((change) => [change.kind, 'uid' in change ? change.uid : undefined])).to.deep.equal([
      ['add', 'p000'],
      ['update', 'p000'],
      ['delete', 'p000'],
    ]);
  });

  it('takes 40 concurrent writes without a failure and reports each once, with revisions that never collide', async function () {
    this.timeout(60_000);
    const changes: PolicyChange[] = [];
    const stop = await store().subscribe((change) => changes.push(change));
    const policies = numbered(40);
    try {
      const results = await Promise.allSettled(policies.map((policy) => store().add(policy)));
      expect(results.filter((result) => result.status === 'rejected')).to.deep.equal([]);
      const updates = await Promise.allSettled(policies.slice(0, 16).map((policy) => store().update(policy)));
      expect(updates.filter((result) => result.status === 'rejected')).to.deep.equal([]);
      const deadline = Date.now() + 10_000;
      while (changes.length < 56 && Date.now() < deadline) await sleep(50);
    } finally {
      await stop();
    }
    const revisions = changes.map((change) => change.revision).filter((revision) => revision !== undefined);
    expect(new Set(revisions).size, 'distinct revisions').to.equal(revisions.length);
    const added = changes.flatMap((change) => (change.kind === 'add' ? [change.uid] : []));
    expect(added.sort()).to.deep.equal(policies.map((policy) => policy.uid));
    expect(changes.filter((change) => change.kind === 'update')).to.have.length(16);
  });

  it('addMany validates every entry first, names each bad one by its index and writes nothing then', async function () {
    const good = numbered(3);
    let caught: unknown;
    await store()
      .addMany([good[0], { uid: 'bad', actions: [{ type: 'Nope' }] }, good[1], { effect: 'maybe' }, good[0]])
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(PolicyFileError);
    const fields = (caught as PolicyFileError).errors!.map((problem) => problem.field);
    expect(fields.some((field) => field.startsWith('[1] policy "bad"'))).to.equal(true, fields.join(' | '));
    expect(fields.some((field) => field.startsWith('[3]'))).to.equal(true, fields.join(' | '));
    expect((caught as PolicyFileError).errors!.find((problem) => problem.field === '[4]')?.message).to.match(
      /duplicate uid "p000"/,
    );
    expect(await store().getAll(10)).to.deep.equal([]);
    let notAList: unknown;
    await store()
      .addMany(7 as never)
      .catch((error) => (notAList = error));
    expect(notAList).to.be.instanceOf(ValidationError);
  });

  it('addMany stores 1 200 policies in batches with progress, JSON and vakt forms included', async function () {
    this.timeout(60_000);
    const policies: unknown[] = numbered(1200);
    policies.push({ uid: 'json', effect: 'allow', actions: [{ type: 'Eq', value: 'get' }] });
    policies.push({ uid: 'vakt', actions: [{ 'py/object': 'vakt.rules.operator.Eq', val: 'get' }] });
    const progress: number[] = [];
    expect(await store().addMany(policies, { onProgress: (done, total) => progress.push(done / total) })).to.equal(
      1202,
    );
    expect(progress.at(-1)).to.equal(1);
    expect(progress).to.deep.equal([...progress].sort((a, b) => a - b));
    const stored = (await collect(store().retrieveAll(500))).flat();
    expect(stored).to.have.length(1202);
    expect((await store().get('vakt'))?.actions[0]).to.have.property('type', 'Eq');
    const found = await store().findForInquiry({ subject: 'x', action: 'read', resource: 'doc1111' });
    expect(found.map((p) => p.uid)).to.deep.equal(['p1111']);
    expect(
      await new Guard({ policies: store() }).decide({ subject: 'x', action: 'read', resource: 'doc7' }),
    ).to.include({ allowed: true });
  });

  it('addMany keeps stored uids as they are, adds the others and then names the stored ones (ConflictError)', async function () {
    await store().add(deny({ uid: 'p001', subjects: [Any()], actions: [Any()], resources: [Any()] }));
    let caught: unknown;
    await store()
      .addMany(numbered(4))
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ConflictError);
    expect((caught as ConflictError).message).to.match(/"p001"/);
    expect((caught as ConflictError).errors?.map((problem) => problem.field)).to.deep.equal(['p001']);
    expect((await store().getAll(10)).map((p) => [p.uid, p.effect])).to.deep.equal([
      ['p000', 'allow'],
      ['p001', 'deny'],
      ['p002', 'allow'],
      ['p003', 'allow'],
    ]);
  });

  it('addMany is one reset for subscribers, and a mirror following the store then has every policy', async function () {
    this.timeout(30_000);
    const mirror = new PolicyMirror({ store: store() });
    await mirror.init();
    const changes: PolicyChange[] = [];
    const stop = await store().subscribe((change) => changes.push(change));
    try {
      await store().addMany(numbered(600));
      const deadline = Date.now() + 5000;
      while ((changes.length === 0 || mirror.policySet.size < 600) && Date.now() < deadline) await sleep(20);
      await sleep(300);
      expect(changes.map((change) => change.kind)).to.deep.equal(['reset']);
      await mirror.settled();
      expect(mirror.policySet.size).to.equal(600);
      const guard = new Guard({ policies: mirror });
      expect(guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc599' })).to.be.true;
      // Through the mirror: visible to its guard as soon as the call returns.
      await mirror.addMany([deny({ uid: 'zz', subjects: [Any()], actions: [Any()], resources: [Eq('doc599')] })]);
      expect(guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc599' })).to.be.false;
    } finally {
      await stop();
      await mirror.close();
    }
  });

  it('a mirror loads every policy, decides synchronously and follows changes made through the store', async function () {
    for (const policy of numbered(5)) await store().add(policy);
    const mirror = new PolicyMirror({ store: store() });
    await mirror.init();
    try {
      const guard = new Guard({ policies: mirror, cache: true });
      expect(guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc4' })).to.be.true;
      await store().add(deny({ uid: 'block', subjects: [Any()], actions: [Any()], resources: [Eq('doc4')] }));
      const deadline = Date.now() + 3000;
      while (guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc4' }) && Date.now() < deadline)
        await sleep(20);
      expect(guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc4' })).to.be.false;
      expect(guard.cacheStats().invalidations).to.be.greaterThan(0);
      await mirror.delete('block');
      expect(guard.isAllowed({ subject: 'x', action: 'read', resource: 'doc4' })).to.be.true;
    } finally {
      await mirror.close();
    }
  });
});

describe('MongoDB policy change feed', function () {
  // The test run's servers (FerretDB, or a standalone mongod) have no change streams: here this covers
  // detection and the polling path only; the change-stream path needs a replica set, which it does not start.
  it('follows the change log (polling without change streams) and validates changeFeed', async function () {
    const connection = await sharedMongo();
    const name = uniqueName('policy_feed');
    const store = new MongoPolicyStore({ connection, collection: name, pollIntervalMs: 50 });
    try {
      await store.init();
      // On a replica set (MONGODB_URI naming one) the same test covers the change stream instead.
      const hello = await connection.db!.admin().command({ hello: 1 });
      const streams = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
      expect(await store.changeFeedKind()).to.equal(streams ? 'changeStream' : 'poll');
      expect(await new MongoPolicyStore({ connection, changeFeed: 'poll' }).changeFeedKind()).to.equal('poll');
      const changes: PolicyChange[] = [];
      const stop = await store.subscribe((change) => changes.push(change));
      try {
        await store.addMany(numbered(3));
        await store.delete('p001');
        const deadline = Date.now() + 5000;
        while (changes.length < 2 && Date.now() < deadline) await sleep(20);
      } finally {
        await stop();
      }
      expect(changes.map((change) => change.kind)).to.deep.equal(['reset', 'delete']);
      expect(() => new MongoPolicyStore({ connection, changeFeed: 'stream' as never }))
        .to.throw(ConfigError)
        .with.property('option', 'changeFeed');
    } finally {
      for (const suffix of ['', '_changes', '_migrations']) {
        await connection.dropCollection(`${name}${suffix}`).catch(() => false);
      }
    }
  });
});

describe('policy store migrations', function () {
  it('MongoDB migrations create and drop their indexes, versioned and reversible', async function () {
    const { sharedMongo, uniqueName } = await import('../support/connections.js');
    const connection = await sharedMongo();
    const name = uniqueName('policies_migrations');
    const store = new MongoPolicyStore({ connection, collection: name });
    try {
      expect(await store.migrateUp(1)).to.deep.equal([1]);
      expect(await store.appliedMigrations()).to.deep.equal([1]);
      expect(await store.migrateUp()).to.deep.equal([2, 3]);
      const names = (await connection.collection(name).indexes()).map((index) => index.name);
      expect(names).to.include.members(['ix_rule_actions', 'ix_regex_resources', 'type']);
      expect(await store.migrateDown(1)).to.deep.equal([3, 2]);
      const after = (await connection.collection(name).indexes()).map((index) => index.name);
      expect(after).to.include('ix_rule_actions').and.not.include('ix_regex_resources');
      expect(await store.migrateDown()).to.deep.equal([1]);
      expect(await store.appliedMigrations()).to.deep.equal([]);
    } finally {
      for (const suffix of ['', '_meta', '_changes', '_migrations', '_snapshot']) {
        await connection.dropCollection(`${name}${suffix}`).catch(() => false);
      }
    }
  });

  it("MongoDB migration 3 recomputes stored index keys for vakt's equality (a deny on 1 catches true)", async function () {
    const { sharedMongo, uniqueName } = await import('../support/connections.js');
    const connection = await sharedMongo();
    const name = uniqueName('policies_reindex');
    const store = new MongoPolicyStore({ connection, collection: name });
    try {
      await store.init();
      await store.add(deny({ uid: 'd', subjects: [Any()], actions: [Any()], resources: [Eq(1)] }));
      const inquiry = { subject: 's', action: 'a', resource: true };
      expect((await store.findForInquiry(inquiry)).map((p) => p.uid)).to.deep.equal(['d']);
      // Keys as written before vakt's equality: under 1 only, not under true.
      expect(await store.migrateDown(2)).to.deep.equal([3]);
      await connection.collection(name).updateMany({}, { $pull: { 'ix.rule.resources': exactKey('', true) } } as never);
      expect(await store.findForInquiry(inquiry)).to.deep.equal([]);
      expect(await store.migrateUp()).to.deep.equal([3]);
      expect((await store.findForInquiry(inquiry)).map((p) => p.uid)).to.deep.equal(['d']);
    } finally {
      for (const suffix of ['', '_meta', '_changes', '_migrations', '_snapshot']) {
        await connection.dropCollection(`${name}${suffix}`).catch(() => false);
      }
    }
  });

  it('Redis migration 1 rebuilds and removes the index sets', async function () {
    const { sharedRedis, uniqueName } = await import('../support/connections.js');
    const client = await sharedRedis();
    const prefix = `${uniqueName('policies_migrations')}:`;
    const store = new RedisPolicyStore({ client, prefix });
    try {
      await store.init();
      await store.add(numbered(1)[0]!);
      expect((await store.findForInquiry({ subject: 'x', action: 'read', resource: 'doc0' })).length).to.equal(1);
      expect(await store.migrateDown()).to.deep.equal([2, 1]);
      expect(await store.findForInquiry({ subject: 'x', action: 'read', resource: 'doc0' })).to.deep.equal([]);
      expect(await store.migrateUp()).to.deep.equal([1, 2]);
      expect((await store.findForInquiry({ subject: 'x', action: 'read', resource: 'doc0' })).length).to.equal(1);
    } finally {
      await deleteKeys(client, `*${prefix}*`);
    }
  });
});
