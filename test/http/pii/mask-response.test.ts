// maskResponse() over HTTP: the same record seen by different principals, configuration and ABAC grants.
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { Guard } from '../../../src/abac/guard.js';
import { allow } from '../../../src/abac/policy.js';
import type { Principal } from '../../../src/auth/principal.js';
import { ConfigError } from '../../../src/errors.js';
import { createMasker } from '../../../src/pii/engine.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import { maskResponse, type MaskResponseOptions } from '../../../middleware/mask-response.js';

const record = {
  id: 'c1',
  name: 'Ada Lovelace',
  ssn: '123-45-6789',
  contact: { email: 'ada@example.org', phone: '+44 20 7946 0958' },
  note: 'Call +44 20 7946 0958 or write to ada@example.org',
  cards: [{ number: '4111111111111111', expiry: '12/29' }],
};

const principals: Record<string, Principal> = {
  clerk: { id: 'clerk', kind: 'user', groups: ['staff'], attributes: {} },
  auditor: { id: 'auditor', kind: 'user', groups: ['staff', 'compliance'], attributes: {} },
  service: { id: 'svc', kind: 'apiKey', groups: [], attributes: {} },
  admin: { id: 'root', kind: 'user', groups: ['pii-admins'], attributes: {} },
};

const masker = createMasker({
  paths: ['ssn', 'cards[*].number', { path: 'contact.email', label: 'email' }],
  recognizers: ['email', 'phone'],
  strategies: { 'cards[*].number': { kind: 'partial', keepLast: 4 } },
});

function app(options: Omit<MaskResponseOptions, 'masker'>) {
  const server = express();
  // Stands in for authenticate(): the caller names a principal in a header.
  server.use((req: Request, _res: Response, next: NextFunction) => {
    const who = req.get('x-test-principal');
    if (who) contextOf(req).principal = principals[who];
    next();
  });
  server.use(maskResponse({ masker, ...options }));
  server.get('/customers/c1', (_req, res) => void res.json(record));
  server.get('/customers', (_req, res) => void res.json({ data: [record, record], errors: [] }));
  server.get('/text', (_req, res) => void res.send('ada@example.org'));
  server.use(errorHandler());
  return server;
}

describe('maskResponse() over HTTP', () => {
  const configured = app({
    unmaskGroups: ['pii-admins'],
    groupGrants: { compliance: { fields: ['ssn'], labels: ['email'] } },
    kindGrants: { apiKey: { fields: ['cards'] } },
  });

  it('masks everything configured for a principal without grants (and for anonymous callers)', async () => {
    for (const who of ['clerk', undefined]) {
      const res = await request(configured)
        .get('/customers/c1')
        .set(who ? { 'x-test-principal': who } : {})
        .expect(200);
      expect(res.body).to.deep.equal({
        id: 'c1',
        name: 'Ada Lovelace',
        ssn: 'XXXXXXXXXXX',
        contact: { email: 'XXXXXXXXXXXXXXX', phone: 'XXXXXXXXXXXXXXXX' },
        note: 'Call XXXXXXXXXXXXXXXX or write to XXXXXXXXXXXXXXX',
        cards: [{ number: 'XXXXXXXXXXXX1111', expiry: '12/29' }],
      });
    }
    expect(record.ssn).to.equal('123-45-6789', 'the handler’s object is not mutated');
  });

  it('two principals, the same record, different views (group grants)', async () => {
    const clerk = await request(configured).get('/customers/c1').set('x-test-principal', 'clerk').expect(200);
    const auditor = await request(configured).get('/customers/c1').set('x-test-principal', 'auditor').expect(200);
    expect(clerk.body.ssn).to.equal('XXXXXXXXXXX');
    expect(auditor.body.ssn).to.equal('123-45-6789');
    expect(auditor.body.contact).to.deep.equal({ email: 'ada@example.org', phone: 'XXXXXXXXXXXXXXXX' });
    expect(auditor.body.note).to.equal('Call XXXXXXXXXXXXXXXX or write to ada@example.org');
    expect(auditor.body.cards[0].number).to.equal('XXXXXXXXXXXX1111');
  });

  it('kind grants, unmask groups, lists and non-JSON bodies', async () => {
    const service = await request(configured).get('/customers/c1').set('x-test-principal', 'service').expect(200);
    expect(service.body.cards[0].number).to.equal('4111111111111111');
    expect(service.body.ssn).to.equal('XXXXXXXXXXX');
    const admin = await request(configured).get('/customers/c1').set('x-test-principal', 'admin').expect(200);
    expect(admin.body).to.deep.equal(record);
    const list = await request(configured).get('/customers').set('x-test-principal', 'clerk').expect(200);
    expect(list.body.data.map((item: { ssn: string }) => item.ssn)).to.deep.equal(['XXXXXXXXXXX', 'XXXXXXXXXXX']);
    expect(list.body.errors).to.deep.equal([]);
  });

  it('asks an ABAC guard (read:pii on each field and label), synchronously or not', async () => {
    const guard = new Guard({
      checker: 'exact',
      policies: [
        allow({
          uid: 'auditor-pii',
          subjects: ['auditor'],
          actions: ['read:pii'],
          resources: ['pii:field:ssn', 'pii:label:phone'],
        }),
        allow({
          uid: 'clerk-cards',
          subjects: ['clerk'],
          actions: ['read:pii'],
          resources: ['pii:field:cards[*].number'],
        }),
      ],
    });
    const asked: string[] = [];
    for (const isAllowed of [
      (p: Principal, action: string, resource: string) => guard.isAllowed({ subject: p.id, action, resource }),
      async (p: Principal, action: string, resource: string) => {
        asked.push(resource);
        return guard.isAllowed({ subject: p.id, action, resource });
      },
    ]) {
      const server = app({ isAllowed });
      const auditor = await request(server).get('/customers/c1').set('x-test-principal', 'auditor').expect(200);
      const clerk = await request(server).get('/customers/c1').set('x-test-principal', 'clerk').expect(200);
      expect(auditor.body.ssn).to.equal('123-45-6789');
      expect(auditor.body.contact.phone).to.equal('+44 20 7946 0958');
      expect(auditor.body.contact.email).to.equal('XXXXXXXXXXXXXXX');
      expect(auditor.body.cards[0].number).to.equal('XXXXXXXXXXXX1111');
      expect(clerk.body.ssn).to.equal('XXXXXXXXXXX');
      expect(clerk.body.cards[0].number).to.equal('4111111111111111');
    }
    expect(asked).to.include.members([
      'pii:field:ssn',
      'pii:field:contact.email',
      'pii:label:email',
      'pii:label:phone',
    ]);
  });

  it('a failing ABAC check fails the request (500 problem) instead of answering unmasked', async () => {
    const server = app({
      isAllowed: async () => {
        throw new Error('policy store down');
      },
    });
    const res = await request(server).get('/customers/c1').set('x-test-principal', 'auditor').expect(500);
    expect(res.type).to.equal('application/problem+json');
    expect(res.text).to.not.include('123-45-6789').and.not.include('policy store down');
  });

  it('validates options at creation', () => {
    expect(() => maskResponse({ masker, unmaskGroup: ['x'] } as never))
      .to.throw(ConfigError)
      .with.property('hint', 'did you mean unmaskGroups?');
    expect(() => maskResponse({} as never)).to.throw(ConfigError, /masker/);
    expect(() => maskResponse(undefined as never)).to.throw(/app.use\(maskResponse\)/);
    expect(() => maskResponse({ masker: { mask: (v) => v }, isAllowed: () => true })).to.throw(/fields or labels/);
  });
});
