// The demo app: composes the Portcullis middlewares in the order of DESIGN.md over the given stores.
import express, { type Express } from 'express';
import {
  errorHandler,
  healthHandler,
  notFound,
  requestContext,
  version,
  type Config,
  type Logger,
  type Stores,
} from 'portcullis';

export interface DemoOptions {
  config: Config;
  stores: Stores;
  logger: Logger;
}

export function buildDemoApp({ config, stores, logger }: DemoOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', parseTrustProxy(config.TRUST_PROXY));
  app.use(requestContext());
  app.use(express.json({ limit: config.BODY_LIMIT }));

  app.get('/health', healthHandler({ stores, version }));

  app.use(notFound());
  app.use(errorHandler({ logger }));
  return app;
}

/** Express accepts booleans, hop counts or address lists for `trust proxy`. */
export function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((item) => item.trim());
}
