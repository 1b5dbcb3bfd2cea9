// Prometheus metrics (prom-client): requests, ABAC decisions, rate-limit hits and audit queue depth.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision } from '../src/abac/decision.js';
import { routingOf } from './routing.js';

export interface MetricsOptions {
  /** Registry to register on. Default: a new one (so several apps in one process do not collide). */
  registry?: Registry;
  /** Metric name prefix. Default `portcullis_`. */
  prefix?: string;
  /** Also collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Reads the audit pipeline's queue depth at scrape time. */
  auditQueueDepth?: () => number;
}

export interface Metrics {
  registry: Registry;
  /** Counts requests and their latency by method, route pattern and status. Mount early. */
  middleware: RequestHandler;
  /** Serves the registry in the Prometheus text format. */
  handler: RequestHandler;
  /** Call from the ABAC guard's decision hook. */
  recordDecision(decision: Pick<Decision, 'allowed'>): void;
  /** Call from the rate limiter's limit-reached hook. */
  recordRateLimitHit(scope: string): void;
}

// prom-client is loaded by the first createMetrics(), not with the package: an application without metrics
// never pays for it.
const require = createRequire(import.meta.url);

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = require('prom-client') as typeof PromClient;
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'portcullis_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new TypeError('createMetrics: options.prefix is not a metric name');
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP request latency by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const decisions = new Counter({
    name: `${prefix}abac_decisions_total`,
    help: 'ABAC decisions by effect.',
    labelNames: ['effect'],
    registers: [registry],
  });
  const rateLimitHits = new Counter({
    name: `${prefix}rate_limit_hits_total`,
    help: 'Requests refused by a rate limit or quota.',
    labelNames: ['scope'],
    registers: [registry],
  });
  const auditQueueDepth = options.auditQueueDepth;
  new Gauge({
    name: `${prefix}audit_queue_depth`,
    help: 'Audit events buffered or queued for delivery.',
    registers: [registry],
    collect() {
      this.set(auditQueueDepth ? auditQueueDepth() : 0);
    },
  });

  // Both series exist from the start, at 0, so a rate of denials is defined before the first one.
  const decisionCounts = { allow: decisions.labels({ effect: 'allow' }), deny: decisions.labels({ effect: 'deny' }) };

  return {
    registry,
    middleware: function portcullisMetrics(req: Request, res: Response, next: NextFunction) {
      const started = process.hrtime.bigint();
      // Label by route pattern, never by raw path: ids in paths would explode the series count.
      const routing = routingOf(req);
      res.once('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const matched = routing.route;
        const route = matched ? `${matched.baseUrl}${String(matched.path)}` : 'unmatched';
        requests.inc({ method: req.method, route, status: String(res.statusCode) });
        duration.observe({ method: req.method, route }, seconds);
      });
      next();
    },
    handler: async function portcullisMetricsHandler(_req: Request, res: Response, next: NextFunction) {
      try {
        res.type(registry.contentType).send(await registry.metrics());
      } catch (error) {
        next(error);
      }
    },
    recordDecision(decision) {
      (decision.allowed ? decisionCounts.allow : decisionCounts.deny).inc();
    },
    recordRateLimitHit(scope) {
      rateLimitHits.inc({ scope });
    },
  };
}
