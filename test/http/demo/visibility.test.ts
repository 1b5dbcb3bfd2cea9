// One visibility model on both backends: masked and hidden fields are refused like unknown ones in filters,
// sorts, unique values, search and the blind index; history shows past states through the caller's view.
import { expect } from 'chai';
import request from 'supertest';
import { accountFields } from '../../../examples/demo/accounts.js';
import { startDemoApp, type DemoApp, type DemoBackend, type DemoRole } from '../../support/demo-app.js';

/** A problem body with the field's name replaced, and the request id left out: comparable to another. */
function shapeOf(body: Record<string, unknown>, field: string): string {
  const { requestId: _requestId, ...rest } = body;
  return JSON.stringify(rest).replaceAll(field, '<field>');
}

/** What each demo role reads of each field (DESIGN: clear, masked or hidden). */
const VIEWS: Record<DemoRole, Record<string, 'clear' | 'masked' | 'hidden'>> = {
  admin: {},
  analyst: { email: 'masked', phone: 'masked', notes: 'masked', nationalId: 'hidden' },
  support: { notes: 'masked', nationalId: 'masked' },
};
const FIELDS = Object.keys(accountFields);
const ROLES: DemoRole[] = ['admin', 'analyst', 'support'];
const CAPABILITIES = ['filter', 'sort', 'unique', 'search', 'fields'] as const;
type Capability = (typeof CAPABILITIES)[number];

/** A value of the field's type. */
function sample(field: string): string | number {
  const type =
    (accountFields[field as keyof typeof accountFields] as { type?: string }).type ??
    accountFields[field as keyof typeof accountFields];
  return type === 'number' ? 1 : type === 'date' ? '2020-01-01T00:00:00.000Z' : 'x';
}

/** A request exercising one capability on one field. */
function probe(capability: Capability, field: string): { method: 'get' | 'post'; path: string; body?: unknown } {
  switch (capability) {
    case 'filter':
      return { method: 'get', path: `/accounts?${field}=${encodeURIComponent(sample(field))}&limit=1` };
    case 'sort':
      return { method: 'get', path: `/accounts?sort=${field}&limit=1` };
    case 'unique':
      return { method: 'get', path: `/accounts/unique/${field}` };
    case 'search':
      return { method: 'post', path: `/accounts/search/${field}`, body: [sample(field)] };
    case 'fields':
      return { method: 'get', path: `/accounts?fields=${field}&limit=1` };
  }
}

for (const backend of ['memory', 'mongodb'] as DemoBackend[]) {
  describe(`demo visibility (${backend})`, function () {
    this.timeout(60_000);
    let demo: DemoApp;

    before(async function () {
      demo = await startDemoApp(backend);
    });
    after(async function () {
      await demo?.close();
    });

    const get = (role: DemoRole, path: string) => request(demo.app).get(path).set(demo.headers[role]);

    it('refuses the analyst’s filters on masked fields exactly like an unknown field (no oracle)', async function () {
      for (const [query, field] of [
        ['email__startswith=ada.k', 'email'],
        ['notes__contains=jana@mail', 'notes'],
        ['phone__ne=12', 'phone'],
        ['nationalId__exists=true', 'nationalId'],
        ['sort=email', 'email'],
      ] as const) {
        const refused = await get('analyst', `/accounts?${query}`).expect(400);
        const unknown = await get('analyst', `/accounts?${query.replace(field, 'nosuchfield')}`).expect(400);
        expect(refused.body.code, query).to.equal('filter.unknown_field');
        expect(shapeOf(refused.body, field), query).to.equal(shapeOf(unknown.body, 'nosuchfield'));
      }
    });

    it('masks internationalised addresses and phone numbers in the notes the support agent reads', async function () {
      // acc_0017's seeded note names chloé@mail.example.org; support reads the email field in clear, not notes.
      const admin = await get('admin', '/accounts/acc_0017').expect(200);
      expect(admin.body.notes).to.include('chloé@mail.example.org');
      const seeded = await get('support', '/accounts/acc_0017').expect(200);
      expect(seeded.body.notes).to.match(/^Called from X{14}; asked to send statements to X{22}\.$/);
      await request(demo.app)
        .patch('/accounts/acc_0017')
        .set(demo.headers.admin)
        .send({ notes: 'Moved: user@bücher.de, +49 (0)30 1234567, +4930 7654321, iban de89 3704 0044 0532 0130 00.' })
        .expect(200);
      const support = await get('support', '/accounts/acc_0017').expect(200);
      expect(support.body.notes).to.equal(
        `Moved: ${'X'.repeat(14)}, ${'X'.repeat(17)}, ${'X'.repeat(13)}, iban ${'X'.repeat(27)}.`,
      );
      const list = await get('support', '/accounts?limit=100').expect(200);
      const notes = (list.body.items as { notes: string }[]).map((item) => item.notes).join('\n');
      expect(notes).to.not.match(/@|\+\d/);
    });

    it('refuses the support agent’s blind-index probe of the masked national id like an unknown field', async function () {
      const admin = await get('admin', '/accounts/acc_0002').expect(200);
      const nationalId = admin.body.nationalId as string;
      const candidates = [nationalId, '123-45-6789', '987-65-4321'];
      const query = `id=acc_0002&nationalId__in=${encodeURIComponent(JSON.stringify(candidates))}`;
      const refused = await get('support', `/accounts?${query}`).expect(400);
      const unknown = await get('support', `/accounts?${query.replace('nationalId', 'nosuchfield')}`).expect(400);
      expect(shapeOf(refused.body, 'nationalId')).to.equal(shapeOf(unknown.body, 'nosuchfield'));
      const equality = await get('support', `/accounts?nationalId=${encodeURIComponent(nationalId)}`).expect(400);
      expect(equality.body.code).to.equal('filter.unknown_field');
      // The administrator reads it in clear and keeps the blind-index search.
      const found = await get('admin', `/accounts?nationalId=${encodeURIComponent(nationalId)}`).expect(200);
      expect(found.body.items.map((item: { id: string }) => item.id)).to.include('acc_0002');
      const listed = await get(
        'admin',
        `/accounts?id=acc_0002&nationalId__in=${encodeURIComponent(JSON.stringify(candidates))}`,
      ).expect(200);
      expect(listed.body.items).to.have.length(1);
    });

    it('applies the same permission matrix (role × field × capability) as the field declaration says', async function () {
      const matrix: string[] = [];
      for (const role of ROLES) {
        for (const field of FIELDS) {
          for (const capability of CAPABILITIES) {
            const { method, path, body } = probe(capability, field);
            const call = request(demo.app)[method](path).set(demo.headers[role]);
            const response = body === undefined ? await call : await call.send(body as object);
            const view = VIEWS[role][field] ?? 'clear';
            const spec = accountFields[field as keyof typeof accountFields] as {
              filterable?: boolean;
              sortable?: boolean;
            };
            const declared =
              capability === 'sort'
                ? spec.sortable !== false && field !== 'tags'
                : capability === 'fields' || spec.filterable !== false;
            // The analyst may not call the search route on any field (an endpoint permission).
            const endpoint = !(role === 'support' && capability === 'search');
            const encrypted = field === 'nationalId' && ['unique', 'sort'].includes(capability);
            let expected: number;
            if (!endpoint) expected = 403;
            else if (view === 'hidden' || (view === 'masked' && capability !== 'fields') || !declared) expected = 400;
            else if (encrypted) expected = 400;
            else expected = 200;
            matrix.push(`${role} ${field} ${capability} ${response.status}`);
            expect(response.status, `${role} ${capability} ${field}: ${response.text.slice(0, 200)}`).to.equal(
              expected,
            );
            if (expected === 400 && !encrypted)
              expect(response.body.code, `${role} ${capability} ${field}`).to.equal('filter.unknown_field');
          }
        }
      }
      expect(matrix).to.have.length(ROLES.length * FIELDS.length * CAPABILITIES.length);
    });

    it('leaves out of history a change only to fields the caller reads masked, even the first of a seeded record', async function () {
      // acc_0002 was seeded, not created through the router: its trail starts with these updates.
      const record = await get('admin', '/accounts/acc_0002').expect(200);
      const email = record.body.email as string;
      // The masked form shows the first character and the domain: change a character it hides.
      const sameShape = email.replace(/.(?=@)/, (last: string) => (last === 'a' ? 'b' : 'a'));
      await request(demo.app)
        .patch('/accounts/acc_0002')
        .set(demo.headers.admin)
        .send({ email: sameShape })
        .expect(200);
      await request(demo.app)
        .patch('/accounts/acc_0002')
        .set(demo.headers.admin)
        .send({ notes: 'Called back; no answer.' })
        .expect(200);
      await demo.parts.pipeline.flush();
      expect((await get('admin', '/accounts/acc_0002/history').expect(200)).body.items).to.have.length(2);
      const analyst = await get('analyst', '/accounts/acc_0002/history').expect(200);
      expect(analyst.body.items, JSON.stringify(analyst.body.items)).to.deep.equal([]);
      await request(demo.app)
        .patch('/accounts/acc_0002')
        .set(demo.headers.admin)
        .send({ status: 'closed', balance: 0 });
      await demo.parts.pipeline.flush();
      const after = await get('analyst', '/accounts/acc_0002/history').expect(200);
      expect(after.body.items.map((item: { state: { status?: string } }) => item.state.status)).to.deep.equal([
        'closed',
      ]);
    });

    it('stores no national id in the audit trail, even one no recognizer knows', async function () {
      await request(demo.app)
        .patch('/accounts/acc_0010')
        .set(demo.headers.admin)
        .send({ nationalId: '999-99-9999', status: 'suspended' })
        .expect(200);
      await get('admin', '/accounts?nationalId=999-99-9999').expect(200);
      await demo.parts.pipeline.flush();
      const { events } = await demo.parts.pipeline.store.list({ limit: 1000 });
      const text = JSON.stringify(events);
      expect(text).to.include('XXXXXXX9999');
      expect(text).to.not.include('999-99-9999');
    });

    it('shows history through the caller’s view: no hidden field, masked ones masked, no staff metadata', async function () {
      const before = await get('admin', '/accounts/acc_0001').expect(200);
      await request(demo.app)
        .patch('/accounts/acc_0001')
        .set(demo.headers.admin)
        .set('User-Agent', 'admin-console/1.0')
        .send({ nationalId: '555-44-3333' })
        .expect(200);
      await request(demo.app)
        .patch('/accounts/acc_0001')
        .set(demo.headers.admin)
        .send({ status: 'suspended', email: 'new.address@example.com' })
        .expect(200);
      await demo.parts.pipeline.flush();
      expect(before.body.nationalId).to.not.equal('555-44-3333');

      const admin = await get('admin', '/accounts/acc_0001/history').expect(200);
      expect(admin.body.items).to.have.length(2);
      expect(admin.body.items[0].user, JSON.stringify(admin.body.items[0].user)).to.have.property('sourceIp');

      const analyst = await get('analyst', '/accounts/acc_0001/history').expect(200);
      const text = JSON.stringify(analyst.body);
      expect(text).to.not.include('nationalId');
      expect(text).to.not.include('3333');
      // The national-id change is not shown at all: the analyst cannot tell when it happened.
      expect(analyst.body.items).to.have.length(1);
      expect(analyst.body.items[0].state.status).to.equal('suspended');
      expect(analyst.body.items[0].state.email).to.match(/^[a-z]XXX@example\.com$/);
      expect(text).to.not.include('new.address');
      expect(Object.keys(analyst.body.items[0].user).sort()).to.deep.equal(
        ['id', 'kind', 'name'].filter((key) => key in analyst.body.items[0].user).sort(),
      );
      for (const key of ['apiKeyId', 'sourceIp', 'userAgent'])
        expect(analyst.body.items[0].user).to.not.have.property(key);

      const support = await get('support', '/accounts/acc_0001/history');
      if (support.status === 200) {
        for (const item of support.body.items as { state: { nationalId?: string }; user: object }[]) {
          expect(item.state.nationalId ?? 'X').to.match(/^X/);
          for (const key of ['apiKeyId', 'sourceIp', 'userAgent']) expect(item.user).to.not.have.property(key);
        }
      }
    });
  });
}
