// requestContext(): a supplied request id is echoed and kept only when it carries no PII, since it is
// stored unmasked in audit events and logs (it is their lookup key and sits inside the hash chain).
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { requestContext } from '../../../middleware/request-context.js';
import { contextOf } from '../../../middleware/context.js';
import { createMasker } from '../../../src/pii/engine.js';
import { ConfigError } from '../../../src/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function app(options: Parameters<typeof requestContext>[0]) {
  const server = express();
  server.use(requestContext(options));
  server.get('/', (req, res) => {
    res.json({ requestId: contextOf(req).requestId });
  });
  return server;
}

describe('requestContext() request ids', function () {
  const masker = createMasker({ recognizers: 'all' });

  // Values of the id's safe shape ([A-Za-z0-9._:-]) that the built-in recognizers find.
  const carryingPii = ['4111111111111111', '702-71-5689', 'DE89370400440532013000', '10.0.0.1', '+4915112345678'];
  // Common correlation ids from proxies and tracers, which must survive.
  const plain = [
    'req-1',
    '1-5f84c7a5-3c6b1f2e9d4a7b8c1e2f3a4b',
    '01a244bf-d6cc-7000-b123-4567890abcde',
    'f47ac10b-58cc-4372-a567-0e02b2c3d479',
    '0af7651916cd43dd8448eb211c80319c',
    'b7ad6b7169203331',
  ];

  for (const id of carryingPii) {
    it(`replaces a supplied id the masker would change (${id}) by a fresh UUID`, async function () {
      expect(masker.maskText(id)).to.not.equal(id);
      const response = await request(app({ masker })).get('/').set('x-request-id', id).expect(200);
      expect(response.headers['x-request-id']).to.match(UUID);
      expect(response.body.requestId).to.equal(response.headers['x-request-id']);
    });
  }

  for (const id of plain) {
    it(`keeps a supplied id without PII (${id})`, async function () {
      const response = await request(app({ masker })).get('/').set('x-request-id', id).expect(200);
      expect(response.headers['x-request-id']).to.equal(id);
      expect(response.body.requestId).to.equal(id);
    });
  }

  it('keeps any id of the safe shape when no masker is given', async function () {
    const response = await request(app({})).get('/').set('x-request-id', '4111111111111111').expect(200);
    expect(response.headers['x-request-id']).to.equal('4111111111111111');
  });

  it('refuses a masker option that is not a masker, naming it', function () {
    expect(() => requestContext({ masker: {} as never }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('masker');
  });
});
