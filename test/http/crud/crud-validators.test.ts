// crudRouter validators on both backends: they judge the record as it will be stored, not the body alone.
import { expect } from 'chai';
import request from 'supertest';
import { accountValidators } from '../../../examples/demo/accounts.js';
import type { FieldValidator } from '../../../middleware/crud-router.js';
import { backends, buildApp, permissions, type TestApp } from './app.js';

const account = { name: 'Ada', email: 'ada@example.com', age: 40, status: 'active', country: 'DE', balance: 120 };

interface Call {
  value: unknown;
  record: Record<string, unknown>;
  previous: Record<string, unknown> | undefined;
}

for (const backend of backends) {
  describe(`crudRouter validators see the record as stored (${backend})`, function () {
    let t: TestApp;
    let calls: Call[];
    /** Runs once inside the next balance validation, to play a concurrent writer. */
    let interleave: (() => Promise<void>) | undefined;

    beforeEach(async function () {
      calls = [];
      interleave = undefined;
      const balance: FieldValidator = async (value, record, previous) => {
        calls.push({ value, record, previous });
        const during = interleave;
        interleave = undefined;
        await during?.();
        return accountValidators.balance(value, record);
      };
      t = await buildApp(backend, { allowReplace: true, validators: { ...accountValidators, balance } });
    });
    afterEach(async function () {
      await t.cleanup();
    });

    async function create(fields: Record<string, unknown> = {}): Promise<string> {
      const res = await request(t.app)
        .post('/people')
        .send({ ...account, ...fields })
        .expect(201);
      return res.body.id as string;
    }

    it('refuses closing an account with a balance by a PATCH of status alone, and stores nothing', async function () {
      const id = await create();
      const res = await request(t.app).patch(`/people/${id}`).send({ status: 'closed' }).expect(400);
      expect(res.headers['content-type']).to.match(/application\/problem\+json/);
      expect(res.body.code).to.equal('validation.fields');
      expect(res.body.errors).to.deep.equal([
        { field: 'balance', code: 'validation.field', message: 'a closed account must have a zero balance' },
      ]);
      const stored = await request(t.app).get(`/people/${id}`).expect(200);
      expect(stored.body).to.include({ status: 'active', balance: 120 });
    });

    it('accepts PATCHes that keep the rule: closing with a zero balance, or changing other fields', async function () {
      const id = await create();
      await request(t.app).patch(`/people/${id}`).send({ name: 'Ada L.' }).expect(200);
      const closed = await request(t.app).patch(`/people/${id}`).send({ status: 'closed', balance: 0 }).expect(200);
      expect(closed.body).to.include({ status: 'closed', balance: 0, name: 'Ada L.' });
      // Putting money back on a closed account is the same rule reached from the other field.
      const refill = await request(t.app).patch(`/people/${id}`).send({ balance: 5 }).expect(400);
      expect(refill.body.errors[0].field).to.equal('balance');
    });

    it('gives validators the merged record and the stored one', async function () {
      const id = await create();
      calls = [];
      await request(t.app).patch(`/people/${id}`).send({ name: 'Ada L.' }).expect(200);
      expect(calls).to.have.length(1);
      expect(calls[0]!.value).to.equal(120);
      expect(calls[0]!.record).to.include({ name: 'Ada L.', status: 'active', balance: 120, email: account.email });
      expect(calls[0]!.previous).to.include({ name: 'Ada', balance: 120 });
      calls = [];
      await create();
      expect(calls[0]!.previous).to.equal(undefined);
    });

    it('reports every failure of the merged record in one 400, schema rules included', async function () {
      const id = await create();
      const res = await request(t.app).patch(`/people/${id}`).send({ status: 'closed', age: 12, name: '' }).expect(400);
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect(fields).to.include.members(['age', 'balance']);
      expect(res.body.errors.find((e: { field: string }) => e.field === 'age').message).to.equal(
        'account holders must be adults (18+)',
      );
    });

    it('names the real problem of an age: not a whole number, under 18, or above the declared maximum', async function () {
      const id = await create();
      const messageFor = async (age: unknown) =>
        (await request(t.app).patch(`/people/${id}`).send({ age }).expect(400)).body.errors.find(
          (e: { field: string }) => e.field === 'age',
        ).message;
      expect(await messageFor(150.5)).to.equal('"age" must be a whole number of years.');
      expect(await messageFor(40.5)).to.equal('"age" must be a whole number of years.');
      expect(await messageFor('40')).to.equal('"age" must be a number.');
      expect(await messageFor(12)).to.equal('account holders must be adults (18+)');
      expect(await messageFor(151)).to.equal('"age" must be at most 150.');
    });

    it('keeps POST and PUT as before: the body is the whole record, validated fields are required', async function () {
      const bad = await request(t.app)
        .post('/people')
        .send({ ...account, status: 'closed' })
        .expect(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['balance']);
      const { balance: _balance, ...withoutBalance } = account;
      const missing = await request(t.app).post('/people').send(withoutBalance).expect(400);
      expect(missing.body.errors).to.deep.equal([
        { field: 'balance', code: 'validation.required', message: '"balance" is required.' },
      ]);
      const id = await create();
      const put = await request(t.app)
        .put(`/people/${id}`)
        .send({ ...account, status: 'closed' })
        .expect(400);
      expect(put.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['balance']);
      await request(t.app).put(`/people/${id}`).send(withoutBalance).expect(400);
      const replaced = await request(t.app)
        .put(`/people/${id}`)
        .send({ ...account, status: 'closed', balance: 0 })
        .expect(200);
      expect(replaced.body).to.include({ status: 'closed', balance: 0 });
    });

    it('validates the version it stores: a concurrent write during validation is validated again', async function () {
      const id = await create({ balance: 0 });
      calls = [];
      // While the PATCH {status: closed} is validated against balance 0, another writer puts money on it.
      interleave = async () => {
        const stored = await t.router.store.get(id);
        const { id: _id, _version, ...fields } = stored!;
        expect(await t.router.store.replace(id, _version, { ...fields, balance: 50 })).to.not.equal(undefined);
      };
      const res = await request(t.app).patch(`/people/${id}`).send({ status: 'closed' }).expect(400);
      expect(res.body.errors[0]).to.include({ field: 'balance' });
      expect(calls.map((call) => call.value)).to.deep.equal([0, 50]);
      const stored = await request(t.app).get(`/people/${id}`).expect(200);
      expect(stored.body).to.include({ status: 'active', balance: 50 });
    });

    it('does not name a hidden field whose rule the update would break', async function () {
      const id = await create();
      t.as(permissions({ excludeFields: ['balance'] }));
      const res = await request(t.app).patch(`/people/${id}`).send({ status: 'closed' }).expect(400);
      expect(res.body.errors).to.deep.equal([
        {
          field: '(record)',
          code: 'validation.hidden_field',
          message: 'The record would break a rule on a field you cannot see.',
        },
      ]);
      expect(JSON.stringify(res.body)).to.not.match(/balance/);
      await request(t.app).patch(`/people/${id}`).send({ name: 'Ada L.' }).expect(200);
    });

    it('does not name a hidden field that a create leaves out, one record or a batch', async function () {
      t.as(permissions({ excludeFields: ['balance'] }));
      const { balance: _balance, ...withoutBalance } = account;
      const one = await request(t.app).post('/people').send(withoutBalance).expect(400);
      const batch = await request(t.app)
        .post('/people/batch')
        .send({ records: [withoutBalance] })
        .expect(400);
      for (const res of [one, batch]) {
        expect(res.body.errors.map((e: { code: string }) => e.code)).to.deep.equal(['validation.hidden_field']);
        expect(JSON.stringify(res.body)).to.not.match(/balance/);
      }
    });
  });
}
