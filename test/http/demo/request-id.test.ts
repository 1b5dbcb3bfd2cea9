// The demo vets supplied request ids with its audit masker: an id carrying PII is never echoed nor stored.
import { expect } from 'chai';
import request from 'supertest';
import { startDemoApp, type DemoApp } from '../../support/demo-app.js';

describe('demo: request ids carrying PII', function () {
  this.timeout(30_000);
  let demo: DemoApp;

  before(async function () {
    demo = await startDemoApp('memory');
  });
  after(async function () {
    await demo?.close();
  });

  it('replaces a card number sent as X-Request-Id, in the answer and in the stored event', async function () {
    const card = '4111111111111111';
    const response = await request(demo.app)
      .get('/accounts')
      .set(demo.headers.support)
      .set('x-request-id', card)
      .expect(200);
    const replaced = response.headers['x-request-id'] as string;
    expect(replaced).to.not.equal(card);
    await demo.parts.pipeline.flush();
    const { events } = await demo.parts.pipeline.store.list({ limit: 1000 });
    expect(events.map((event) => event.requestId)).to.include(replaced);
    expect(JSON.stringify(events)).to.not.include(card);
  });

  it('keeps a plain correlation id', async function () {
    const response = await request(demo.app)
      .get('/accounts')
      .set(demo.headers.support)
      .set('x-request-id', 'trace-7f3a')
      .expect(200);
    expect(response.headers['x-request-id']).to.equal('trace-7f3a');
  });
});
