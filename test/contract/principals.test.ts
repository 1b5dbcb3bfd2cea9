// The principal store contract, run against memory, MongoDB, and MongoDB behind the shared Redis cache.
import { expect } from 'chai';
import type {
  ApiKeyRecord,
  PrincipalRecord,
  PrincipalStore,
  SecondFactorRecord,
} from '../../src/contracts/principals.js';
import { ConflictError, ValidationError } from '../../src/errors.js';
import { MemoryPrincipalStore } from '../../stores/memory/principals.js';
import { MongoPrincipalStore } from '../../stores/mongodb/principals.js';
import { RedisPrincipalCache } from '../../stores/redis/principal-cache.js';
import { deleteKeys } from '../support/connections.js';
import { contractSuite, onEachRedis, type Implementation, type BackendContext } from './harness.js';

async function mongoStore(context: BackendContext) {
  const connection = await context.mongo();
  const prefix = `${context.name}_`;
  const store = new MongoPrincipalStore({ connection, prefix });
  await store.init();
  const cleanup = async () => {
    for (const suffix of ['principals', 'groups', 'api_keys', 'second_factors', 'second_factor_claims']) {
      await connection.dropCollection(prefix + suffix).catch(() => false);
    }
  };
  return { store, cleanup };
}

const implementations: Implementation<PrincipalStore>[] = [
  { name: 'memory', create: async () => ({ store: new MemoryPrincipalStore() }) },
  { name: 'mongodb', create: mongoStore },
  ...onEachRedis({
    name: 'mongodb + redis cache',
    async create(context) {
      const inner = await mongoStore(context);
      const client = await context.redis();
      const prefix = `${context.name}:`;
      return {
        store: new RedisPrincipalCache({ store: inner.store, client, prefix }),
        async cleanup() {
          await inner.cleanup();
          await deleteKeys(client, `*${prefix}*`);
        },
      };
    },
  }),
];

const alice: PrincipalRecord = {
  id: 'alice',
  type: 'user',
  name: 'Alice',
  email: 'alice@example.com',
  groups: ['read-only'],
  attributes: { department: 'sales' },
  excludeFields: ['ssn'],
};

function key(id: string, principalId = 'alice'): ApiKeyRecord {
  return {
    id,
    principalId,
    secretHash: 'hmac-sha256$abc',
    scopes: ['records:read'],
    createdAt: new Date('2026-01-01T00:00:00Z'),
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  };
}

function secondFactor(principalId = 'alice'): SecondFactorRecord {
  return {
    principalId,
    secret: 'pc1:1:s:c2VjcmV0LWNpcGhlcnRleHQtb2YtdGhlLXRlc3Q',
    confirmed: false,
    recoveryCodes: ['hash-of-recovery-code-1', 'hash-of-recovery-code-2'],
    createdAt: new Date('2026-01-01T00:00:00Z'),
  };
}

contractSuite('principals', implementations, (store) => {
  it('saves, reads, replaces and deletes a principal', async function () {
    await store().savePrincipal(alice);
    expect(await store().getPrincipal('alice')).to.deep.equal(alice);
    await store().savePrincipal({ ...alice, name: 'Alice B.' });
    expect((await store().getPrincipal('alice'))?.name).to.equal('Alice B.');
    expect(await store().deletePrincipal('alice')).to.equal(true);
    expect(await store().getPrincipal('alice')).to.equal(undefined);
    expect(await store().deletePrincipal('alice')).to.equal(false);
  });

  it('lists principals by type', async function () {
    await store().savePrincipal(alice);
    await store().savePrincipal({ id: 'admins', type: 'oidcGroup', groups: [], attributes: {} });
    expect((await store().listPrincipals()).map((p) => p.id)).to.deep.equal(['admins', 'alice']);
    expect((await store().listPrincipals({ type: 'oidcGroup' })).map((p) => p.id)).to.deep.equal(['admins']);
  });

  it('reads groups in the order asked, skipping unknown ones', async function () {
    await store().saveGroup({ id: 'b', permittedEndpoints: [{ method: 'GET', path: '^/b$' }] });
    await store().saveGroup({ id: 'a', filterFields: [{ field: 'team', value: ['x', 'y'] }] });
    expect((await store().getGroups(['b', 'missing', 'a'])).map((g) => g.id)).to.deep.equal(['b', 'a']);
    expect((await store().listGroups()).map((g) => g.id)).to.deep.equal(['a', 'b']);
    expect(await store().deleteGroup('a')).to.equal(true);
    expect(await store().getGroups(['a'])).to.deep.equal([]);
  });

  it('rejects invalid principals and groups naming each field', async function () {
    let caught: unknown;
    await store()
      .savePrincipal({
        id: 'bad id!',
        type: 'robot',
        groups: ['ok', 'no spaces'],
        attributes: { __proto__: 1, constructor: 2 },
        permittedEndpoints: [{ method: 'GET', path: '^(a)\\1$' }], // a backreference: no linear-time engine runs it
        excludeFields: ['$where'],
      } as unknown as PrincipalRecord)
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ValidationError);
    expect((caught as ValidationError).errors?.map((e) => e.field)).to.include.members([
      'id',
      'type',
      'groups.1',
      'attributes.constructor',
      'permittedEndpoints.0',
      'excludeFields.0',
    ]);
    caught = undefined;
    await store()
      .saveGroup({ id: 'g', filterFields: [{ field: '__proto__', value: [] }] })
      .catch((error) => (caught = error));
    expect((caught as ValidationError).errors?.map((e) => e.field)).to.deep.equal([
      'filterFields.0.field',
      'filterFields.0.value',
    ]);
  });

  it('creates API keys once, lists, touches and revokes them', async function () {
    await store().savePrincipal(alice);
    await store().createApiKey(key('pc_0000000000000001'));
    let caught: unknown;
    await store()
      .createApiKey(key('pc_0000000000000001'))
      .catch((error) => (caught = error));
    expect(caught).to.be.instanceOf(ConflictError);
    const read = await store().getApiKey('pc_0000000000000001');
    expect(read?.expiresAt?.getTime()).to.equal(Date.parse('2030-01-01T00:00:00Z'));
    expect(read?.scopes).to.deep.equal(['records:read']);
    await store().touchApiKey('pc_0000000000000001', new Date('2026-02-01T00:00:00Z'));
    const listed = await store().listApiKeys('alice');
    expect(listed.map((k) => k.id)).to.deep.equal(['pc_0000000000000001']);
    expect(listed[0]!.lastUsedAt?.toISOString()).to.equal('2026-02-01T00:00:00.000Z');
    expect(await store().revokeApiKey('pc_0000000000000001', new Date())).to.equal(true);
    expect(await store().revokeApiKey('pc_0000000000000001', new Date())).to.equal(false);
    expect((await store().getApiKey('pc_0000000000000001'))?.revokedAt).to.be.instanceOf(Date);
  });

  it('deleting a principal deletes its API keys', async function () {
    await store().savePrincipal(alice);
    await store().createApiKey(key('pc_0000000000000002'));
    expect(await store().getApiKey('pc_0000000000000002')).to.not.equal(undefined);
    await store().deletePrincipal('alice');
    expect(await store().getApiKey('pc_0000000000000002')).to.equal(undefined);
  });

  it('an unknown key id then created is found (no stale negative cache)', async function () {
    expect(await store().getApiKey('pc_0000000000000003')).to.equal(undefined);
    await store().createApiKey(key('pc_0000000000000003'));
    expect((await store().getApiKey('pc_0000000000000003'))?.principalId).to.equal('alice');
  });

  it('treats non-string ids from untrusted input as unknown', async function () {
    const weird = { $ne: null } as unknown as string;
    expect(await store().getPrincipal(weird)).to.equal(undefined);
    expect(await store().getApiKey(weird)).to.equal(undefined);
  });

  it('saves, reads, changes and deletes a second factor', async function () {
    await store().savePrincipal(alice);
    expect(await store().getSecondFactor('alice')).to.equal(undefined);
    await store().saveSecondFactor(secondFactor());
    expect(await store().getSecondFactor('alice')).to.deep.equal(secondFactor());
    const until = new Date('2026-01-02T00:00:00Z');
    expect(
      await store().updateSecondFactor('alice', { confirmed: true, bypassUntil: until, bypassGrantedBy: 'admin' }),
    ).to.equal(true);
    expect(await store().getSecondFactor('alice')).to.deep.equal({
      ...secondFactor(),
      confirmed: true,
      bypassUntil: until,
      bypassGrantedBy: 'admin',
    });
    expect(await store().updateSecondFactor('alice', { bypassUntil: null, bypassGrantedBy: null })).to.equal(true);
    expect(await store().getSecondFactor('alice')).to.deep.equal({ ...secondFactor(), confirmed: true });
    expect(await store().updateSecondFactor('bob', { confirmed: true })).to.equal(false);
    expect(await store().deleteSecondFactor('alice')).to.equal(true);
    expect(await store().deleteSecondFactor('alice')).to.equal(false);
    expect(await store().getSecondFactor('alice')).to.equal(undefined);
  });

  it('accepts each TOTP step once and never an earlier one, also under concurrent claims', async function () {
    await store().saveSecondFactor(secondFactor());
    expect(await store().claimTotpStep('alice', 100)).to.equal(true);
    expect(await store().claimTotpStep('alice', 100), 'the same step again').to.equal(false);
    expect(await store().claimTotpStep('alice', 99), 'an earlier step').to.equal(false);
    const results = await Promise.all(Array.from({ length: 8 }, () => store().claimTotpStep('alice', 101)));
    expect(results.filter(Boolean)).to.have.length(1);
    expect((await store().getSecondFactor('alice'))?.lastStep).to.equal(101);
    // A new enrolment's changes leave the step alone: only replacing the record resets it.
    await store().updateSecondFactor('alice', { confirmed: true, recoveryCodes: [] });
    expect(await store().claimTotpStep('alice', 101)).to.equal(false);
    expect(await store().claimTotpStep('bob', 1), 'no second factor').to.equal(false);
    expect(await store().claimTotpStep('alice', -1)).to.equal(false);
    expect(await store().claimTotpStep('alice', { $gt: 0 } as unknown as number)).to.equal(false);
  });

  it('uses each recovery code once, also under concurrent use', async function () {
    await store().saveSecondFactor(secondFactor());
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store().useRecoveryCode('alice', 'hash-of-recovery-code-1')),
    );
    expect(results.filter(Boolean)).to.have.length(1);
    expect(await store().useRecoveryCode('alice', 'hash-of-recovery-code-1')).to.equal(false);
    expect(await store().useRecoveryCode('alice', { $exists: true } as unknown as string)).to.equal(false);
    expect((await store().getSecondFactor('alice'))?.recoveryCodes).to.deep.equal(['hash-of-recovery-code-2']);
    expect(await store().useRecoveryCode('alice', 'hash-of-recovery-code-2')).to.equal(true);
    expect((await store().getSecondFactor('alice'))?.recoveryCodes).to.deep.equal([]);
  });

  it('refuses a second factor whose secret is not ciphertext, and deletes it with its principal', async function () {
    let caught: unknown;
    await store()
      .saveSecondFactor({ ...secondFactor(), secret: 'JBSWY3DPEHPK3PXP' })
      .catch((error) => (caught = error));
    expect((caught as ValidationError).errors?.map((e) => e.field)).to.deep.equal(['secret']);
    await store().savePrincipal(alice);
    await store().saveSecondFactor(secondFactor());
    caught = undefined;
    await store()
      .updateSecondFactor('alice', { secret: 'JBSWY3DPEHPK3PXP' })
      .catch((error) => (caught = error));
    expect((caught as ValidationError).errors?.map((e) => e.field)).to.deep.equal(['secret']);
    expect(await store().updateSecondFactor('alice', { secret: 'pc1:2:s:bmV3LWNpcGhlcnRleHQ' })).to.equal(true);
    expect((await store().getSecondFactor('alice'))?.secret).to.equal('pc1:2:s:bmV3LWNpcGhlcnRleHQ');
    await store().deletePrincipal('alice');
    expect(await store().getSecondFactor('alice')).to.equal(undefined);
  });

  it('changes a second factor only while it still holds the secret the caller read (ifSecret)', async function () {
    await store().saveSecondFactor(secondFactor());
    const read = (await store().getSecondFactor('alice'))!.secret;
    const rotated = 'pc1:2:s:cm90YXRlZC1jaXBoZXJ0ZXh0';
    // A new enrolment lands between the read and the write: the write must not undo it.
    const enrolledAgain = 'pc1:2:s:bmV3LWVucm9sbWVudA';
    await store().saveSecondFactor({ ...secondFactor(), secret: enrolledAgain });
    expect(await store().updateSecondFactor('alice', { secret: rotated }, { ifSecret: read })).to.equal(false);
    expect((await store().getSecondFactor('alice'))?.secret).to.equal(enrolledAgain);
    expect(await store().updateSecondFactor('alice', { secret: rotated }, { ifSecret: enrolledAgain })).to.equal(true);
    expect((await store().getSecondFactor('alice'))?.secret).to.equal(rotated);
    expect(await store().updateSecondFactor('bob', { secret: rotated }, { ifSecret: rotated })).to.equal(false);
  });

  it('lists second factors in principal id order, page by page', async function () {
    const ids = ['carol', 'alice', 'dave', 'bob', 'erin'];
    for (const id of ids) await store().saveSecondFactor(secondFactor(id));
    const first = await store().listSecondFactors({ limit: 2 });
    expect(first.map((record) => record.principalId)).to.deep.equal(['alice', 'bob']);
    expect(first[0]).to.deep.equal(secondFactor('alice'));
    const next = await store().listSecondFactors({ after: 'bob', limit: 10 });
    expect(next.map((record) => record.principalId)).to.deep.equal(['carol', 'dave', 'erin']);
    expect(await store().listSecondFactors({ after: 'erin', limit: 10 })).to.deep.equal([]);
    for (const bad of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { after: 7 as unknown as string, limit: 1 }]) {
      let caught: unknown;
      await store()
        .listSecondFactors(bad)
        .catch((error) => (caught = error));
      expect(caught, JSON.stringify(bad)).to.be.instanceOf(ValidationError);
    }
  });
});
