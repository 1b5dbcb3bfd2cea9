// Prometheus metrics: request counts by route pattern, decisions, rate-limit hits and audit queue depth.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../../middleware/error-handler.js';
import { createMetrics } from '../../../middleware/metrics.js';
import { NotFoundError } from '../../../src/errors.js';

describe('createMetrics', function () {
  it('counts requests by route pattern, decisions, limit hits and reads the audit queue depth', async function () {
    let depth = 7;
    const metrics = createMetrics({ defaultMetrics: false, auditQueueDepth: () => depth });
    const app = express();
    app.use(metrics.middleware);
    app.get('/records/:id', (_req, res) => res.json({}));
    app.get('/metrics', metrics.handler);
    await request(app).get('/records/1');
    await request(app).get('/records/2');
    await request(app).get('/missing');
    metrics.recordDecision({ allowed: true });
    metrics.recordDecision({ allowed: false });
    metrics.recordDecision({ allowed: false });
    metrics.recordRateLimitHit('global');
    depth = 3;

    const text = (await request(app).get('/metrics')).text;
    expect(text).to.include('portcullis_http_requests_total{method="GET",route="/records/:id",status="200"} 2');
    expect(text).to.include('portcullis_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).to.not.include('/records/1');
    expect(text).to.include('portcullis_abac_decisions_total{effect="allow"} 1');
    expect(text).to.include('portcullis_abac_decisions_total{effect="deny"} 2');
    expect(text).to.include('portcullis_rate_limit_hits_total{scope="global"} 1');
    expect(text).to.include('portcullis_audit_queue_depth 3');
  });

  it("labels a mounted router's routes with the mount path, errors passed on to the app's handler too", async function () {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = express();
    app.use(metrics.middleware);
    const records = express.Router();
    records.get('/:id', (req, res, next) =>
      req.params.id === 'missing' ? next(new NotFoundError('no such record')) : res.json({}),
    );
    app.use('/records', records);
    app.get('/metrics', metrics.handler);
    app.use(errorHandler());
    await request(app).get('/records/1').expect(200);
    await request(app).get('/records/missing').expect(404);

    const text = (await request(app).get('/metrics')).text;
    expect(text).to.include('portcullis_http_requests_total{method="GET",route="/records/:id",status="200"} 1');
    expect(text).to.include('portcullis_http_requests_total{method="GET",route="/records/:id",status="404"} 1');
    expect(text).to.not.include('route="/:id"');
  });

  it('refuses an invalid prefix at creation', function () {
    expect(() => createMetrics({ prefix: 'bad-prefix' })).to.throw(TypeError, /prefix/);
  });
});
