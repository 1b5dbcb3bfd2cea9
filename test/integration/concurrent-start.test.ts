// Two processes starting at once on a fresh database both run a store's pending migrations: neither may fail.
import { expect } from 'chai';
import { MigrationLog, type Migration } from '../../stores/mongodb/migrations.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

describe('MigrationLog.up from two processes at once (MongoDB)', function () {
  it('records each migration once and fails neither caller', async function () {
    const connection = await sharedMongo();
    const collection = uniqueName('migrations');
    let runs = 0;
    // Idempotent like every store migration: both callers may run it before either records it.
    const migrations: Migration<null>[] = [1, 2, 3].map((version) => ({
      version,
      description: `step ${version}`,
      up: async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      down: async () => undefined,
    }));
    try {
      const logs = Array.from({ length: 4 }, () => new MigrationLog(connection, collection, migrations));
      await Promise.all(logs.map((log) => log.up(null)));
      expect(await logs[0]!.applied()).to.deep.equal([1, 2, 3]);
      expect(runs).to.be.at.least(3);
    } finally {
      await connection.dropCollection(collection).catch(() => undefined);
    }
  });
});
