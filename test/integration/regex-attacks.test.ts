// The regex attacks of a policy author and a grant holder, against the running demo: every request answers,
// and /health answers meanwhile, within the test's own timeout of a second.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startDemo, type DemoProcess } from '../support/demo-process.js';

describe('regexes from policies and grants cannot stall the demo', function () {
  this.timeout(90_000);
  let demo: DemoProcess;
  const adminKey = `regex.${randomBytes(24).toString('base64url')}`;

  const call = (path: string, init: { method?: string; key?: string; body?: unknown } = {}) =>
    fetch(`${demo.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'X-API-Key': init.key ?? adminKey,
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  /** Sends `attack`, then /health while it is in flight; both must answer before the test's timeout. */
  async function answersWithHealth(attack: () => Promise<Response>): Promise<Response> {
    const attacked = attack();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const health = await fetch(`${demo.baseUrl}/health`);
    expect(health.status).to.equal(200);
    return attacked;
  }

  before(async function () {
    demo = await startDemo({ ADMIN_API_KEY: adminKey });
  });

  after(async function () {
    await demo?.stop();
  });

  it('a deny rule Not(RegexMatch "^acc_([a-z0-9]+){1,16}$") against a 45-character id', async function () {
    const policy = {
      uid: 'ids-have-the-account-shape',
      effect: 'deny',
      subjects: [{ type: 'Any' }],
      actions: [{ type: 'Any' }],
      resources: [{ id: { type: 'Not', rule: { type: 'RegexMatch', pattern: '^acc_([a-z0-9]+){1,16}$' } } }],
    };
    const stored = await call(`/admin/policies/${policy.uid}`, { method: 'PUT', body: policy });
    expect(stored.status).to.equal(201);
    // A first request of the route is compiled by the JIT; the bound is for the attack, not for a cold start.
    expect((await call('/accounts/acc_1')).status).to.be.oneOf([403, 404]);
    this.timeout(1000);
    const id = `acc_${'a'.repeat(40)}!`;
    expect(id).to.have.length(45);
    const response = await answersWithHealth(() => call(`/accounts/${encodeURIComponent(id)}`));
    expect(response.status).to.equal(403);
  });

  it('a permitted endpoint /accounts/(\\w|\\d)+ checked on a 43-character path', async function () {
    const principal = await call('/admin/principals/mallory', {
      method: 'PUT',
      body: { type: 'user', name: 'Mallory', permittedEndpoints: [{ method: '*', path: '/accounts/(\\w|\\d)+' }] },
    });
    expect(principal.status).to.be.oneOf([200, 201]);
    const issued = await call('/admin/principals/mallory/api-keys', { method: 'POST', body: {} });
    expect(issued.status).to.equal(201);
    const { key } = (await issued.json()) as { key: string };
    await call('/auth/me/has-permission', { method: 'POST', key, body: { method: 'GET', path: '/accounts/1' } });
    this.timeout(1000);
    const path = `/accounts/${'1'.repeat(32)}!`;
    expect(path).to.have.length(43);
    const response = await answersWithHealth(() =>
      call('/auth/me/has-permission', { method: 'POST', key, body: { method: 'GET', path } }),
    );
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { allowed: boolean }).allowed).to.equal(false);
  });

  it('a policy with a backreference is a 400 problem naming the pattern', async function () {
    const response = await call('/admin/policies/backref', {
      method: 'PUT',
      body: { effect: 'allow', subjects: [{ name: { type: 'RegexMatch', pattern: '^(a+)\\1$' } }] },
    });
    expect(response.status).to.equal(400);
    expect(response.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(await response.text()).to.match(/unsupported regular expression .*\^\(a\+\)\\\\1\$.*backreference/);
  });

  it('a grant with lookahead is a 400 problem naming the pattern', async function () {
    const response = await call('/admin/principals/eve', {
      method: 'PUT',
      body: { type: 'user', name: 'Eve', permittedEndpoints: [{ method: 'GET', path: '/accounts/(?!admin).*' }] },
    });
    expect(response.status).to.equal(400);
    expect(response.headers.get('content-type')).to.match(/application\/problem\+json/);
    expect(await response.text()).to.match(/permittedEndpoints.*lookahead/);
  });
});
