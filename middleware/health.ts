// GET /health: the process and each store's state; 503 while a configured server is down.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface HealthSource {
  health(): Promise<{ status: 'up' | 'down' }>;
}

export interface HealthHandlerOptions {
  /** Anything with `health()`, usually the result of `createStores`. */
  stores: HealthSource;
  /** Version reported in the body. */
  version?: string;
}

export function healthHandler(options: HealthHandlerOptions): RequestHandler {
  if (typeof options?.stores?.health !== 'function') {
    throw new TypeError('healthHandler: options.stores must have a health() method');
  }
  const startedAt = Date.now();
  return async function portcullisHealth(_req: Request, res: Response, next: NextFunction) {
    try {
      const report = await options.stores.health();
      res.status(report.status === 'up' ? 200 : 503).json({
        ...report,
        process: {
          pid: process.pid,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          memoryRssBytes: process.memoryUsage.rss(),
          version: options.version,
        },
      });
    } catch (error) {
      next(error);
    }
  };
}
