// Deep and oversized JSON across the demo: every route refuses it with a 4xx naming the bound, fast.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../../examples/demo/assemble.js';
import { buildDemoApp } from '../../../examples/demo/app.js';

const ADMIN_KEY = `deep.${randomBytes(24).toString('base64url')}`;

/** `{"a": … }` nested `levels` times around `leaf` (JSON text). */
function objects(levels: number, leaf = '1'): string {
  return `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;
}

function notChain(levels: number): string {
  return `${'{"type":"Not","rule":'.repeat(levels)}{"type":"Eq","value":1}${'}'.repeat(levels)}`;
}

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
  elapsed: number;
}

describe('demo: deep and oversized JSON bodies', function () {
  this.timeout(60_000);
  let stores: Stores;
  let server: Server;
  let base: string;
  let close: () => Promise<void>;

  async function start(env: Record<string, string>): Promise<void> {
    const config = loadConfig({ LOG_LEVEL: 'silent', ADMIN_API_KEY: ADMIN_KEY, ...env });
    stores = await createStores(config);
    const parts = await assembleDemo({
      config,
      stores,
      logger: createLogger({ level: 'silent' }),
      randomKey: () => randomBytes(32).toString('base64'),
    });
    close = parts.close;
    server = buildDemoApp(parts).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function stop(): Promise<void> {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await close?.();
    await stores?.close();
  }

  async function send(method: string, path: string, body?: string, started = performance.now()): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-API-Key': ADMIN_KEY, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      elapsed: performance.now() - started,
    };
  }

  function expectTooDeep(answer: Answer, bound = 64): void {
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).to.equal(400);
    expect(answer.type).to.match(/^application\/problem\+json/);
    expect(answer.body.code).to.equal('validation.too_deep');
    expect(answer.body.detail).to.contain(`${bound} levels`);
  }

  describe('with the default bounds', function () {
    before(async function () {
      await start({ RATE_LIMIT_MAX: '1000000', RATE_LIMIT_LOGIN_MAX: '1000000' });
    });
    after(stop);

    it('refuses principal attributes nested 8 000 deep with 400, not 500', async function () {
      expectTooDeep(await send('PUT', '/admin/principals/x', `{"attributes":{"a":${objects(8000)}}}`));
      expect((await send('GET', '/admin/principals/x')).status).to.equal(404);
    });

    it('accepts a principal body of exactly 64 levels and refuses 65', async function () {
      // The body is level 1; the 63 nested objects of `attributes` fill levels 2 to 64.
      const accepted = await send('PUT', '/admin/principals/edge', `{"attributes":${objects(63)}}`);
      expect(accepted.status, JSON.stringify(accepted.body).slice(0, 300)).to.equal(201);
      expectTooDeep(await send('PUT', '/admin/principals/edge', `{"attributes":${objects(64)}}`));
      const stored = await send('GET', '/admin/principals/edge');
      expect(JSON.stringify(stored.body.attributes)).to.equal(objects(63));
    });

    it('refuses a policy with Not nested 4 400 deep within 500 ms while /health answers', async function () {
      const body = `{"effect":"allow","subjects":[${notChain(4400)}],"actions":[{"type":"Any"}],"resources":[{"type":"Any"}]}`;
      const started = performance.now();
      const [policy, health] = await Promise.all([
        send('PUT', '/admin/policies/deep', body, started),
        send('GET', '/health', undefined, started),
      ]);
      expectTooDeep(policy);
      expect(policy.elapsed).to.be.below(500);
      expect(health.status).to.equal(200);
      expect(health.elapsed).to.be.below(500);
    });

    it('refuses deep bodies on the records, groups, API-key and auth routes', async function () {
      const deep = `[${objects(5000)}]`;
      const routes: [string, string, string][] = [
        ['POST', '/accounts', `{"name":"Deep","notes":${deep}}`],
        ['PATCH', '/accounts/acc_0001', `{"notes":${deep}}`],
        ['POST', '/accounts/search/country', deep],
        ['PUT', '/admin/groups/g1', `{"name":${deep}}`],
        ['POST', '/admin/principals/x/api-keys', `{"name":${deep}}`],
        ['POST', '/auth/login', `{"username":${deep},"password":"x"}`],
        ['POST', '/auth/me/has-permission', `{"method":"GET","path":${deep}}`],
      ];
      for (const [method, path, body] of routes) expectTooDeep(await send(method, path, body));
    });

    it('refuses record bodies past the records bound (16) with 400 naming it', async function () {
      const answer = await send('POST', '/accounts', `{"name":"Deep","notes":${objects(17)}}`);
      expect(answer.status).to.equal(400);
      expect(answer.type).to.match(/^application\/problem\+json/);
      const problems = answer.body.errors as { code: string; message: string }[];
      expect(problems.map((problem) => problem.code)).to.include('validation.too_deep');
      expect(problems.find((problem) => problem.code === 'validation.too_deep')?.message).to.contain('16 levels');
    });

    it('answers a body over BODY_LIMIT with 413 problem+json', async function () {
      const answer = await send('PUT', '/admin/principals/big', JSON.stringify({ name: 'x'.repeat(200_000) }));
      expect(answer.status).to.equal(413);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.body.code).to.equal('payload_too_large');
    });
  });

  describe('with BODY_MAX_DEPTH=4', function () {
    before(async function () {
      await start({ BODY_MAX_DEPTH: '4' });
    });
    after(stop);

    it('accepts 4 levels and refuses 5', async function () {
      const accepted = await send('PUT', '/admin/principals/four', `{"attributes":${objects(3)}}`);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
      expectTooDeep(await send('PUT', '/admin/principals/four', `{"attributes":${objects(4)}}`), 4);
    });
  });
});
