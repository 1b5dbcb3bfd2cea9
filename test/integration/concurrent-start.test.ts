// Processes starting at once on a fresh database run the same migrations and seed the same records: none may fail.
import { expect } from 'chai';
import { MigrationLog, type Migration } from '../../stores/mongodb/migrations.js';
import { MongoPrincipalStore } from '../../stores/mongodb/principals.js';
import { sharedMongo, uniqueName } from '../support/connections.js';

describe('stores written by processes starting at once (MongoDB)', function () {
  it('MigrationLog.up records each migration once and fails no caller', async function () {
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

  it('saving the same new principal and group from several stores at once fails none (upsert races)', async function () {
    const connection = await sharedMongo();
    const prefix = `${uniqueName('seed')}_`;
    const stores = Array.from({ length: 4 }, () => new MongoPrincipalStore({ connection, prefix }));
    try {
      await stores[0]!.init?.();
      await Promise.all(stores.map((store) => store.saveGroup({ id: 'analysts', name: 'Analysts' })));
      await Promise.all(
        stores.map((store, n) =>
          store.savePrincipal({ id: 'ana', type: 'user', name: `Ana ${n}`, groups: ['analysts'], attributes: {} }),
        ),
      );
      expect((await stores[0]!.getPrincipal('ana'))?.name).to.match(/^Ana \d$/);
    } finally {
      for (const name of ['principals', 'groups', 'api_keys', 'second_factors', 'second_factor_claims'])
        await connection.dropCollection(`${prefix}${name}`).catch(() => undefined);
    }
  });
});
