// Key rotation for TOTP secrets: migrateSecondFactorKeys on the memory store, and `portcullis keys migrate
// --second-factors` end to end against the real MongoDB-compatible server. After either, the old key can
// leave the ring and every principal's authenticator app still works.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TOTP } from 'otpauth';
import type { Connection } from 'mongoose';
import { createTotp, type Totp } from '../../src/auth/totp.js';
import { migrateSecondFactorKeys } from '../../src/auth/totp-rotation.js';
import { runCli } from '../../src/cli/run.js';
import type { PrincipalStore } from '../../src/contracts/principals.js';
import { keyVersionOf } from '../../src/pii/field-cipher.js';
import { parseKeyRing } from '../../src/pii/key-ring.js';
import { MemoryPrincipalStore } from '../../stores/memory/principals.js';
import { connectMongo } from '../../stores/mongodb/index.js';
import { MongoPrincipalStore } from '../../stores/mongodb/principals.js';
import { io } from '../support/cli-io.js';
import { mongoUriFor, uniqueName } from '../support/connections.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const k9 = randomBytes(32).toString('base64');
const NOW = Date.parse('2026-06-01T12:00:00Z');
const totpWith = (keys: string, current?: number) => createTotp({ keys: parseKeyRing(keys, current), now: () => NOW });

/** Enrols each id under `totp`'s current key; returns the base32 secrets an authenticator app would hold. */
async function enrolAll(store: PrincipalStore, totp: Totp, ids: string[]): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (const id of ids) {
    const enrolment = await totp.enrol(id, `${id}@example.com`);
    await store.saveSecondFactor({ ...enrolment.record, confirmed: true });
    secrets.set(id, enrolment.secret);
  }
  return secrets;
}

/** Each secret is under key 2 and a ring without key 1 still accepts the app's current code. */
async function expectAllOnKey2(store: PrincipalStore, secrets: Map<string, string>): Promise<void> {
  const onlyKey2 = totpWith(`2:${k2}`);
  for (const [id, base32] of secrets) {
    const record = (await store.getSecondFactor(id))!;
    expect(keyVersionOf(record.secret), id).to.equal(2);
    const code = new TOTP({ secret: base32 }).generate({ timestamp: NOW });
    expect(onlyKey2.stepOf(record, code), id).to.be.a('number');
  }
}

const ids = Array.from({ length: 7 }, (_, index) => `user-${index}`);

describe('migrateSecondFactorKeys (memory principal store)', function () {
  it('moves every secret onto the current key; undecryptable ones are listed and left', async function () {
    const store = new MemoryPrincipalStore();
    const secrets = await enrolAll(store, totpWith(`1:${k1}`), ids);
    // Already on the current key: untouched. Under a key the ring lacks: reported, not fatal.
    const current = await enrolAll(store, totpWith(`2:${k2}`), ['already-current']);
    await enrolAll(store, totpWith(`9:${k9}`), ['lost-key']);
    const before = (await store.getSecondFactor('already-current'))!.secret;
    const progress: number[] = [];
    const result = await migrateSecondFactorKeys(store, totpWith(`1:${k1},2:${k2}`), {
      batchSize: 3,
      onProgress: (p) => progress.push(p.migrated),
    });
    expect(result.migrated).to.equal(ids.length);
    expect(result.totalLeft).to.equal(1);
    expect(result.errors.map((problem) => problem.id)).to.deep.equal(['lost-key']);
    expect(JSON.stringify(result.errors)).to.not.include(k9);
    expect(progress.at(-1)).to.equal(ids.length);
    expect(progress.length).to.equal(3); // 9 records in pages of 3
    expect((await store.getSecondFactor('already-current'))!.secret).to.equal(before);
    await expectAllOnKey2(store, new Map([...secrets, ...current]));
  });

  it('stops at the limit with an exact count of what is left, and the next run finishes', async function () {
    const store = new MemoryPrincipalStore();
    const secrets = await enrolAll(store, totpWith(`1:${k1}`), ids);
    const ring = totpWith(`1:${k1},2:${k2}`);
    const first = await migrateSecondFactorKeys(store, ring, { batchSize: 2, limit: 3 });
    expect(first).to.deep.include({ migrated: 3, totalLeft: ids.length - 3 });
    const second = await migrateSecondFactorKeys(store, ring, { batchSize: 2 });
    expect(second).to.deep.include({ migrated: ids.length - 3, totalLeft: 0 });
    await expectAllOnKey2(store, secrets);
  });

  it('never undoes an enrolment made while it runs', async function () {
    const store = new MemoryPrincipalStore();
    await enrolAll(store, totpWith(`1:${k1}`), ids);
    const newer = await totpWith(`1:${k1},2:${k2}`).enrol('user-3', 'user-3@example.com');
    // user-3 enrols again between the page being read and its rotation being written.
    const racing = {
      listSecondFactors: store.listSecondFactors.bind(store),
      getSecondFactor: store.getSecondFactor.bind(store),
      async updateSecondFactor(...args: Parameters<PrincipalStore['updateSecondFactor']>) {
        if (args[0] === 'user-3') await store.saveSecondFactor(newer.record);
        return store.updateSecondFactor(...args);
      },
    };
    const result = await migrateSecondFactorKeys(racing, totpWith(`1:${k1},2:${k2}`));
    expect(result).to.deep.include({ migrated: ids.length - 1, totalLeft: 0 });
    expect((await store.getSecondFactor('user-3'))!.secret).to.equal(newer.record.secret);
  });

  it('counts an enrolment made while it runs under an older key as left, for the next run', async function () {
    const store = new MemoryPrincipalStore();
    await enrolAll(store, totpWith(`1:${k1}`), ids);
    // A process still configured with key 1 as current re-enrols user-5 meanwhile.
    const older = await totpWith(`1:${k1}`).enrol('user-5', 'user-5@example.com');
    const racing = {
      listSecondFactors: store.listSecondFactors.bind(store),
      getSecondFactor: store.getSecondFactor.bind(store),
      async updateSecondFactor(...args: Parameters<PrincipalStore['updateSecondFactor']>) {
        if (args[0] === 'user-5') await store.saveSecondFactor(older.record);
        return store.updateSecondFactor(...args);
      },
    };
    const ring = totpWith(`1:${k1},2:${k2}`);
    expect(await migrateSecondFactorKeys(racing, ring)).to.deep.include({ migrated: ids.length - 1, totalLeft: 1 });
    expect(await migrateSecondFactorKeys(store, ring)).to.deep.include({ migrated: 1, totalLeft: 0 });
  });

  it('validates its options naming them', async function () {
    const store = new MemoryPrincipalStore();
    const ring = totpWith(`1:${k1}`);
    for (const [options, name] of [
      [{ batchSize: 0 }, 'batchSize'],
      [{ limit: -1 }, 'limit'],
      [{ bacthSize: 5 }, 'bacthSize'],
    ] as const) {
      let caught: unknown;
      await migrateSecondFactorKeys(store, ring, options as never).catch((error) => (caught = error));
      expect(String(caught)).to.include(name);
    }
  });
});

describe('portcullis keys migrate --second-factors (MongoDB)', function () {
  this.timeout(60_000);
  let database: string;
  let connection: Connection;

  const cli = (env: Record<string, string>) => io({}, env);

  beforeEach(async function () {
    database = uniqueName('totp_keys');
    connection = await connectMongo(mongoUriFor(database), { reconnectAfterMs: 0 });
  });
  afterEach(async function () {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  });

  it('re-encrypts every stored secret under the current key, resumably, so key 1 can be removed', async function () {
    const store = new MongoPrincipalStore({ connection });
    await store.init();
    const secrets = await enrolAll(store, totpWith(`1:${k1}`), ids);
    const env = { MONGODB_URI: mongoUriFor(database), ENCRYPTION_KEYS: `1:${k1},2:${k2}` };
    const first = cli(env);
    expect(
      await runCli(['keys', 'migrate', '--second-factors', '--batch-size', '2', '--limit', '4'], first.io),
    ).to.equal(1);
    expect(JSON.parse(first.out.at(-1)!)).to.deep.equal({ migrated: 4, totalLeft: ids.length - 4 });
    expect(first.err.at(-1)).to.match(/^migrated 4 \(batches \d+, conflicts 0, failed 0\)$/);
    const second = cli(env);
    expect(await runCli(['keys', 'migrate', '--second-factors'], second.io)).to.equal(0);
    expect(JSON.parse(second.out.at(-1)!)).to.deep.equal({ migrated: ids.length - 4, totalLeft: 0 });
    await expectAllOnKey2(store, secrets);
  });

  it('refuses what it cannot do with exit 2 and a message naming the problem', async function () {
    const uri = mongoUriFor(database);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['--second-factors', '--collection', 'people'],
        { MONGODB_URI: uri, ENCRYPTION_KEYS: `1:${k1}` },
        /--collection/,
      ],
      [['--second-factors'], { MONGODB_URI: uri }, /ENCRYPTION_KEYS/],
      [['--second-factors'], { ENCRYPTION_KEYS: `1:${k1}` }, /MONGODB_URI/],
      [['--second-factors', '--batch-size', '0'], { MONGODB_URI: uri, ENCRYPTION_KEYS: `1:${k1}` }, /--batch-size/],
      [
        ['--second-factors', '--limit', '-1'],
        { MONGODB_URI: uri, ENCRYPTION_KEYS: `1:${k1}` },
        /--limit must be an integer from 1 to \d+, got "-1"/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const run = cli(env);
      expect(await runCli(['keys', 'migrate', ...args], run.io), args.join(' ')).to.equal(2);
      expect(run.err.join('\n'), args.join(' ')).to.match(message);
    }
  });
});
