// The demo's account rules over HTTP: support cannot close an account that still holds money.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';
import { DEMO_USERS } from '../../../examples/demo/principals.js';

describe('demo: account rules hold whichever field a PATCH changes', function () {
  let stores: Stores;
  let app: ReturnType<typeof buildDemoApp>;
  let close: () => Promise<void>;
  let asSam: { Authorization: string };

  before(async function () {
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    stores = await createStores(config);
    const parts = await assembleDemo({
      config,
      stores,
      logger: createLogger({ level: 'silent' }),
      randomKey: () => randomBytes(32).toString('base64'),
    });
    close = parts.close;
    app = buildDemoApp(parts);
    const login = await request(app)
      .post('/auth/login')
      .send({ username: 'sam', password: DEMO_USERS.sam.password })
      .expect(201);
    asSam = { Authorization: `Bearer ${login.body.token as string}` };
  });

  after(async function () {
    await close?.();
    await stores?.close();
  });

  it('answers 400 to support closing an account with a balance, and 200 to changes that keep the rule', async function () {
    const page = await request(app).get('/accounts?status=active&balance__gt=0&limit=1').set(asSam).expect(200);
    const account = page.body.items[0] as { id: string; balance: number };
    expect(account.balance).to.be.greaterThan(0);

    const refused = await request(app)
      .patch(`/accounts/${account.id}`)
      .set(asSam)
      .send({ status: 'closed' })
      .expect(400);
    expect(refused.body.errors).to.deep.equal([
      { field: 'balance', code: 'validation.field', message: 'a closed account must have a zero balance' },
    ]);
    const after = await request(app).get(`/accounts/${account.id}`).set(asSam).expect(200);
    expect(after.body.status).to.equal('active');

    // Changes that keep the rule go through: suspending it, or editing a closed account that holds nothing.
    await request(app).patch(`/accounts/${account.id}`).set(asSam).send({ status: 'suspended' }).expect(200);
    const closable = await request(app).get('/accounts?status=closed&limit=1').set(asSam).expect(200);
    const closed = closable.body.items[0] as { id: string; balance: number };
    expect(closed.balance).to.equal(0);
    await request(app).patch(`/accounts/${closed.id}`).set(asSam).send({ notes: 'Closed, paid out.' }).expect(200);
  });
});
