// authorize() over HTTP: inquiry building, 401 without a principal, 403 problem+json on deny, decision on context.
import { expect } from 'chai';
import express, { type Express, type RequestHandler } from 'express';
import request from 'supertest';
import { authorize, type AuthorizeOptions } from '../../../middleware/authorize.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { allow, deny } from '../../../src/abac/policy.js';
import { ConfigError, Guard, PolicySet, rules, type Decision, type Inquiry, type Principal } from 'portcullis';

const { Eq, Any, In, CIDR, ResourceMatch, SubjectMatch, AnyIn, StartsWith } = rules;

const alice: Principal = {
  id: 'alice',
  kind: 'user',
  groups: ['editors'],
  attributes: { team: 'blue', id: 'spoofed' },
};

function withPrincipal(principal: Principal | null): RequestHandler {
  return (req, _res, next) => {
    if (principal) contextOf(req).principal = principal;
    next();
  };
}

function app(options: AuthorizeOptions, principal: Principal | null = alice, seen?: Decision[]): Express {
  const application = express();
  application.set('trust proxy', false);
  application.use(withPrincipal(principal));
  application.get('/accounts/:id', authorize(options), (req, res) => {
    seen?.push(contextOf(req).decision!);
    res.json({ ok: true });
  });
  application.put(
    '/accounts/:id',
    authorize({ ...options, action: 'accounts:update', resource: 'accounts' }),
    (_req, res) => {
      res.json({ updated: true });
    },
  );
  application.use(errorHandler());
  return application;
}

describe('authorize() middleware', function () {
  const policies = new PolicySet([
    allow({
      uid: 'read-own-team',
      subjects: [{ groups: AnyIn('editors'), team: Eq('blue') }],
      actions: [Eq('get')],
      resources: [{ name: Eq('/accounts/:id'), id: StartsWith('blue-') }],
      context: { ip: CIDR('127.0.0.0/8') },
    }),
    allow({
      uid: 'update-self',
      subjects: [Any()],
      actions: [Eq('accounts:update')],
      resources: [{ name: Eq('accounts'), id: SubjectMatch('id') }],
    }),
    deny({ uid: 'frozen', subjects: [Any()], actions: [Any()], resources: [{ id: In('blue-frozen') }] }),
  ]);
  const guard = new Guard({ policies });

  it('allows from the principal, method, route and params, and puts the decision on the context', async function () {
    const seen: Decision[] = [];
    await request(app({ guard }, alice, seen))
      .get('/accounts/blue-1')
      .expect(200);
    expect(seen[0]).to.deep.include({ allowed: true, deciders: ['read-own-team'] });
    const inquiry = seen[0]!.inquiry;
    expect(inquiry.action).to.equal('get');
    expect(inquiry.resource).to.deep.equal({ id: 'blue-1', name: '/accounts/:id' });
    expect(inquiry.subject).to.deep.include({ id: 'alice', kind: 'user', groups: ['editors'], team: 'blue' });
    expect(inquiry.context)
      .to.have.property('ip')
      .that.matches(/127\.0\.0\.1/);
    expect(inquiry.context.time).to.be.a('number');
  });

  it('answers a deny with 403 problem+json and a short reason, without policy internals', async function () {
    const response = await request(app({ guard })).get('/accounts/red-1').expect(403);
    expect(response.headers['content-type']).to.match(/application\/problem\+json/);
    expect(response.body).to.include({
      status: 403,
      code: 'forbidden.policy',
      detail: 'No policy allows this request.',
    });
    const frozen = await request(app({ guard })).get('/accounts/blue-frozen').expect(403);
    expect(frozen.body.detail).to.equal('A policy denies this request.');
    expect(JSON.stringify(frozen.body)).to.not.include('frozen"');
  });

  it('answers 401 without a principal or with the anonymous one', async function () {
    const response = await request(app({ guard }, null)).get('/accounts/blue-1').expect(401);
    expect(response.headers['www-authenticate']).to.be.a('string');
    await request(app({ guard }, { id: 'anon', kind: 'anonymous', groups: [], attributes: {} }))
      .get('/accounts/blue-1')
      .expect(401);
  });

  it('uses a declared action and resource name per route (the CRUD router form)', async function () {
    await request(app({ guard })).put('/accounts/alice').expect(200);
    await request(app({ guard })).put('/accounts/bob').expect(403);
  });

  it('principal attributes cannot override the authenticated id', async function () {
    // alice's attributes carry id "spoofed"; the subject id stays "alice".
    await request(app({ guard }, { ...alice, attributes: { id: 'bob' } }))
      .put('/accounts/bob')
      .expect(403);
  });

  it('takes functions for action, resource, subject and context, and an allowlist of headers', async function () {
    const seen: Inquiry[] = [];
    const spy = { decide: async (inquiry: Inquiry) => (seen.push(inquiry), guard.decide(inquiry)) };
    await request(
      app({
        guard: spy,
        headers: ['X-Tenant'],
        now: () => 1_700_000_000_000,
        action: (req) => ({ method: req.method, id: req.params.id }),
        resource: (req) => `account:${req.params.id}`,
        subject: (principal) => principal.id,
      }),
    )
      .get('/accounts/7')
      .set('X-Tenant', 'acme')
      .set('X-Secret', 'nope')
      .expect(403);
    expect(seen[0]).to.deep.equal({
      subject: 'alice',
      action: { method: 'GET', id: '7' },
      resource: 'account:7',
      context: { ip: seen[0]!.context!.ip, time: 1_700_000_000_000, 'x-tenant': 'acme' },
    });
    const withContext = [] as Inquiry[];
    await request(
      app({
        guard: { decide: async (inquiry) => (withContext.push(inquiry), guard.decide(inquiry)) },
        context: (_req, defaults) => ({ ...defaults, region: 'eu' }),
      }),
    )
      .get('/accounts/7')
      .expect(403);
    expect(withContext[0]!.context).to.include({ region: 'eu' });
  });

  it('builds a guard from policies, and its resource rules can match route params', async function () {
    const ownAccount = [
      allow({ uid: 'own', subjects: [{ id: ResourceMatch('id') }], actions: [Any()], resources: [Any()] }),
    ];
    await request(app({ policies: ownAccount }))
      .get('/accounts/alice')
      .expect(200);
    await request(app({ policies: ownAccount }))
      .get('/accounts/bob')
      .expect(403);
  });

  it('inquiry parts from hostile requests stay inert', async function () {
    const seen: Decision[] = [];
    const response = await request(app({ guard }, alice, seen))
      .get('/accounts/__proto__')
      .expect(403);
    expect(response.body.code).to.equal('forbidden.policy');
    expect(({} as Record<string, unknown>).id).to.equal(undefined);
  });

  it('validates options at creation', function () {
    expect(() => authorize({ gaurd: guard } as never)).to.throw(
      ConfigError,
      /authorize\.gaurd: is not an authorize\(\) option \(did you mean guard\?\)/,
    );
    expect(() => authorize({})).to.throw(ConfigError, /authorize\.guard: is required/);
    expect(() => authorize({ guard: {} as never })).to.throw(ConfigError, /decide/);
    expect(() => authorize({ guard, headers: ['bad header'] })).to.throw(ConfigError, /not a header name/);
    expect(() => authorize({ guard, action: 5 as never })).to.throw(ConfigError, /authorize\.action/);
    expect(() => authorize({ policies: 'x' as never })).to.throw(ConfigError, /authorize\.policies/);
    const misuse = authorize as unknown as (...args: unknown[]) => unknown;
    expect(() => misuse({ method: 'GET', headers: {} }, {}, () => undefined)).to.throw(
      TypeError,
      /called with options/,
    );
  });
});
