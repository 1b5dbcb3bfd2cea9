// `portcullis policies import FILE` end to end, through the configuration, against the run's real servers.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { defaultIO } from '../../src/cli/run.js';
import type { CliIO } from '../../src/cli/command.js';
import { MongoPolicyStore } from '../../stores/mongodb/policies.js';
import { RedisPolicyStore } from '../../stores/redis/policies.js';
import { deleteKeys, mongoUriFor, redisClusterNodes, sharedRedisCluster, uniqueName } from '../support/connections.js';

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = { ...defaultIO(), stdout: (line) => out.push(line), stderr: (line) => err.push(line), env };
  return { io: value, out, err };
}

const policy = (i: number) => ({
  uid: `imp-${String(i).padStart(5, '0')}`,
  effect: 'allow',
  subjects: [{ type: 'Any' }],
  actions: [{ type: 'Eq', value: 'read' }],
  resources: [{ type: 'Eq', value: `doc${i}` }],
});

describe('portcullis policies import (integration)', function () {
  this.timeout(120_000);
  let dir: string;
  const database = uniqueName('pc_import');
  const env = () => ({ MONGODB_URI: mongoUriFor(database), POLICIES_BACKEND: 'mongodb' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pc-import-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    const connection = await mongoose.createConnection(mongoUriFor(database)).asPromise();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  });

  async function stored(): Promise<string[]> {
    const connection = await mongoose.createConnection(mongoUriFor(database)).asPromise();
    try {
      const uids: string[] = [];
      for await (const batch of new MongoPolicyStore({ connection }).retrieveAll())
        uids.push(...batch.map((p) => p.uid));
      return uids;
    } finally {
      await connection.close();
    }
  }

  it('names every bad entry by index, exits 2 and stores nothing', async () => {
    const file = join(dir, 'bad.json');
    const entries = [
      policy(0),
      { uid: 'nope', actions: [{ type: 'Nope' }] },
      policy(2),
      { effect: 'sometimes' },
      policy(0),
    ];
    await writeFile(file, JSON.stringify(entries));
    const run = io(env());
    expect(await runCli(['policies', 'import', file], run.io)).to.equal(2);
    const text = run.err.join('\n');
    expect(text).to.match(/\[1\] policy "nope"/);
    expect(text).to.match(/\[3\]/);
    expect(text).to.match(/\[4\]: duplicate uid "imp-00000"/);
    expect(text).to.match(/nothing was imported/);
    expect(run.out).to.deep.equal([]);
    expect(await stored()).to.deep.equal([]);
  });

  it('imports NDJSON (vakt lines too) with progress, then reports uids already stored with exit 1', async () => {
    const file = join(dir, 'policies.ndjson');
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify(policy(i)));
    lines.push(JSON.stringify({ uid: 'vakt-1', actions: [{ 'py/object': 'vakt.rules.operator.Eq', val: 'get' }] }));
    await writeFile(file, `${lines.join('\n')}\n`);
    const first = io(env());
    expect(await runCli(['policies', 'import', file], first.io)).to.equal(0, first.err.join('\n'));
    expect(JSON.parse(first.out.at(-1)!)).to.deep.equal({ added: 2501, existing: 0, total: 2501 });
    expect(first.err.some((line) => /^imported \d+\/2501$/.test(line))).to.equal(true);
    expect(first.err.at(-1)).to.equal('imported 2501/2501');
    expect(await stored()).to.have.length(2501);

    // Again, with one new policy: the others are left as stored and named.
    const again = join(dir, 'again.json');
    await writeFile(again, JSON.stringify([policy(1), policy(9999)]));
    const second = io(env());
    expect(await runCli(['policies', 'import', again], second.io)).to.equal(1);
    expect(JSON.parse(second.out.at(-1)!)).to.deep.equal({ added: 1, existing: 1, total: 2 });
    expect(second.err.join('\n')).to.match(/already stored.*imp-00001/);
    const skip = io(env());
    expect(await runCli(['policies', 'import', again, '--skip-existing'], skip.io)).to.equal(0);
    expect(await stored()).to.have.length(2502);
  });

  it('imports into a Redis Cluster named by REDIS_CLUSTER_NODES', async () => {
    const file = join(dir, 'cluster.json');
    await writeFile(file, JSON.stringify({ policies: Array.from({ length: 300 }, (_, i) => policy(i)) }));
    const run = io({ REDIS_CLUSTER_NODES: redisClusterNodes().join(','), POLICIES_BACKEND: 'redis' });
    const client = await sharedRedisCluster();
    try {
      expect(await runCli(['policies', 'import', file], run.io)).to.equal(0, run.err.join('\n'));
      const store = new RedisPolicyStore({ client });
      expect(await store.getAll(1000)).to.have.length(300);
      expect(
        (await store.findForInquiry({ subject: 'x', action: 'read', resource: 'doc299' })).map((p) => p.uid),
      ).to.deep.equal(['imp-00299']);
    } finally {
      await deleteKeys(client, '*portcullis:policies:*');
    }
  });

  it('refuses usage errors in one line with status 2', async () => {
    const run = io({});
    expect(await runCli(['policies', 'import'], run.io)).to.equal(2);
    expect(run.err[0]).to.match(/missing FILE/);
    const noStore = io({});
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify([policy(1)]));
    expect(await runCli(['policies', 'import', file], noStore.io)).to.equal(2);
    expect(noStore.err[0]).to.match(/no policy store configured/);
    const format = io(env());
    expect(await runCli(['policies', 'import', file, '--format', 'xml'], format.io)).to.equal(2);
    expect(format.err[0]).to.match(/--format must be one of json, jsonl, yaml/);
    const missing = io(env());
    expect(await runCli(['policies', 'import', join(dir, 'missing.json')], missing.io)).to.equal(2);
    expect(missing.err[0]).to.match(/cannot read .*ENOENT/);
  });
});
