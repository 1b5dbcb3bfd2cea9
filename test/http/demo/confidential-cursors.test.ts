// The demo keeps PII out of cursors, audit events and logs: opaque caller-bound cursors, masked trails and logs.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createStores, type Stores } from 'portcullis/stores';
import { loadConfig, type AuditEvent } from 'portcullis';
import { seedAccounts } from '../../../examples/demo/accounts.js';
import { assembleDemo, createDemoLogger } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';

const ADMIN_KEY = `cursors.${randomBytes(24).toString('base64url')}`;
const SECRET = 'a-cursor-secret-shared-by-every-process';
const ANA = { username: 'ana', password: 'analyst-demo-password' };
const SAM = { username: 'sam', password: 'support-demo-password' };

interface Demo {
  app: ReturnType<typeof buildDemoApp>;
  parts: Awaited<ReturnType<typeof assembleDemo>>;
  stores: Stores;
  lines: string[];
  close(): Promise<void>;
}

/** One demo instance (one "process") on its own memory stores, its log lines kept. */
async function demo(env: Record<string, string> = {}): Promise<Demo> {
  const config = loadConfig({
    LOG_LEVEL: 'info',
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_LOGIN_MAX: '1000000',
    ...env,
  });
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const stores = await createStores(config);
  const logger = createDemoLogger(config, destination);
  const parts = await assembleDemo({ config, stores, logger, randomKey: () => randomBytes(32).toString('base64') });
  return {
    app: buildDemoApp(parts),
    parts,
    stores,
    lines,
    async close() {
      await parts.close();
      await stores.close();
    },
  };
}

async function login(app: Demo['app'], user: { username: string; password: string }): Promise<string> {
  const response = await request(app).post('/auth/login').send(user).expect(201);
  return `Bearer ${response.body.token as string}`;
}

async function auditEvents(instance: Demo): Promise<AuditEvent[]> {
  await instance.parts.pipeline.flush();
  return (await instance.stores.audit.list({ limit: 1000, order: 'asc' })).events;
}

function expectInvalidCursor(response: request.Response): void {
  expect(response.status, response.text).to.equal(400);
  expect(response.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(response.body.code).to.equal('filter.invalid_cursor');
}

describe('demo: opaque cursors, masked audit events and logs', function () {
  this.timeout(120_000);
  let one: Demo;

  before(async function () {
    one = await demo({ CURSOR_SECRET: SECRET });
  });
  after(async function () {
    await one?.close();
  });

  it('cursors followed to the end carry no sort value, id or PII of any record', async function () {
    const accounts = seedAccounts();
    const clear = accounts.flatMap((account) => [account.email, account.phone, account.nationalId, account.id]);
    for (const sort of ['email', '-phone', 'name']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await request(one.app)
          .get(`/accounts?sort=${sort}&limit=1&fields=id,email,phone${cursor ? `&cursor=${cursor}` : ''}`)
          .set('X-API-Key', ADMIN_KEY)
          .expect(200);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor as string | null;
        if (cursor) {
          const bytes = Buffer.from(cursor, 'base64url');
          const readable = [cursor, bytes.toString('latin1'), bytes.toString('utf8')].join('\n');
          for (const value of clear) expect(readable, `${sort}: ${value}`).to.not.include(value);
        }
      } while (cursor);
      expect(seen, sort).to.have.length(accounts.length);
      expect(new Set(seen).size, sort).to.equal(accounts.length);
    }
  });

  it("refuses ana's cursor to sam and to anyone with another query, and a tampered cursor (400 problem)", async function () {
    const ana = await login(one.app, ANA);
    const sam = await login(one.app, SAM);
    const first = await request(one.app).get('/accounts?sort=country&limit=2').set('Authorization', ana).expect(200);
    const cursor = first.body.nextCursor as string;
    expect(cursor).to.be.a('string');
    await request(one.app).get(`/accounts?sort=country&limit=2&cursor=${cursor}`).set('Authorization', ana).expect(200);
    expectInvalidCursor(
      await request(one.app).get(`/accounts?sort=country&limit=2&cursor=${cursor}`).set('Authorization', sam),
    );
    expectInvalidCursor(
      await request(one.app).get(`/accounts?sort=country&limit=2&cursor=${cursor}`).set('X-API-Key', ADMIN_KEY),
    );
    expectInvalidCursor(
      await request(one.app).get(`/accounts?sort=country&status=active&cursor=${cursor}`).set('Authorization', ana),
    );
    const bytes = Buffer.from(cursor, 'base64url');
    for (const index of [0, 5, 20, bytes.length - 20, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[index] = tampered[index]! ^ 0x40;
      expectInvalidCursor(
        await request(one.app)
          .get(`/accounts?sort=country&limit=2&cursor=${tampered.toString('base64url')}`)
          .set('Authorization', ana),
      );
    }
  });

  it('reads a cursor in another instance with the same CURSOR_SECRET, and refuses it with another or none', async function () {
    const same = await demo({ CURSOR_SECRET: SECRET });
    const other = await demo({ CURSOR_SECRET: 'another-cursor-secret-of-32-characters' });
    const none = await demo();
    try {
      const first = await request(one.app).get('/accounts?sort=-age&limit=3').set('X-API-Key', ADMIN_KEY).expect(200);
      const cursor = first.body.nextCursor as string;
      const here = await request(one.app)
        .get(`/accounts?sort=-age&limit=3&cursor=${cursor}`)
        .set('X-API-Key', ADMIN_KEY)
        .expect(200);
      const there = await request(same.app)
        .get(`/accounts?sort=-age&limit=3&cursor=${cursor}`)
        .set('X-API-Key', ADMIN_KEY)
        .expect(200);
      expect(there.body.items.map((item: { id: string }) => item.id)).to.deep.equal(
        here.body.items.map((item: { id: string }) => item.id),
      );
      for (const instance of [other, none]) {
        expectInvalidCursor(
          await request(instance.app).get(`/accounts?sort=-age&limit=3&cursor=${cursor}`).set('X-API-Key', ADMIN_KEY),
        );
      }
      expect(none.lines.join('')).to.include('demo.ephemeral_cursor_secret');
      expect(same.lines.join('')).to.not.include('demo.ephemeral_cursor_secret');
    } finally {
      await Promise.all([same.close(), other.close(), none.close()]);
    }
  });

  it('records a list cursor in the audit trail as a marker, never its value', async function () {
    const first = await request(one.app).get('/accounts?sort=email&limit=1').set('X-API-Key', ADMIN_KEY).expect(200);
    const cursor = first.body.nextCursor as string;
    await request(one.app).get(`/accounts?sort=email&limit=1&cursor=${cursor}`).set('X-API-Key', ADMIN_KEY).expect(200);
    await request(one.app)
      .get(`/accounts?sort=email&cursor=${cursor.slice(0, -3)}`)
      .set('X-API-Key', ADMIN_KEY);
    const events = await auditEvents(one);
    const withCursor = events.filter((event) => event.queryParams?.cursor !== undefined);
    expect(withCursor).to.have.length.of.at.least(2);
    for (const event of withCursor) expect(event.queryParams!.cursor).to.equal('[cursor]');
    expect(JSON.stringify(events)).to.not.include(cursor.slice(0, 24));
  });

  it('masks login passwords in audit events to one fixed length, whatever their length', async function () {
    const passwords = [ANA.password, 'pw', 'p'.repeat(64)];
    for (const password of passwords) await request(one.app).post('/auth/login').send({ username: 'ana', password });
    const logins = (await auditEvents(one)).filter((event) => event.path === '/auth/login');
    const masks = logins.slice(-passwords.length).map((event) => (event.body as { password?: unknown }).password);
    expect(masks).to.deep.equal(['XXXXXXXX', 'XXXXXXXX', 'XXXXXXXX']);
    const text = JSON.stringify(logins);
    for (const password of passwords) expect(text).to.not.include(password);
  });

  it("masks PII in the demo logger's output of a request", async function () {
    const email = 'ada.haddad10@example.com';
    const before = one.lines.length;
    await request(one.app).get(`/accounts/by-email/${email}`).set('X-API-Key', 'forged.key-of-someone').expect(401);
    const written = one.lines.slice(before).join('');
    expect(written).to.include('credential rejected');
    expect(written).to.include(`/accounts/by-email/${'X'.repeat(email.length)}`);
    expect(written).to.not.include(email);
  });
});
