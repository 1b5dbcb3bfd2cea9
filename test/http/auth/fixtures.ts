// A Portcullis app with the whole auth area on real MongoDB and Redis, under a unique prefix (shared by a worker process).
import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import { loadConfig } from '../../../src/config/index.js';
import type { Logger } from '../../../src/logger.js';
import { silentLogger } from '../../../src/logger.js';
import { createAuth, type Auth } from '../../../middleware/auth-setup.js';
import { contextOf } from '../../../middleware/context.js';
import { errorHandler, notFoundHandler } from '../../../middleware/error-handler.js';
import { quota } from '../../../middleware/quota.js';
import { requestContext } from '../../../middleware/request-context.js';
import { requirePermittedEndpoint } from '../../../middleware/authorize-endpoint.js';
import { securityHeaders } from '../../../middleware/security-headers.js';
import { MongoPrincipalStore } from '../../../stores/mongodb/principals.js';
import { RedisPrincipalCache } from '../../../stores/redis/principal-cache.js';
import { RedisQuotaStore, RedisRateLimitStore } from '../../../stores/redis/rate-limit.js';
import { RedisSessionStore } from '../../../stores/redis/sessions.js';
import type { RedisClient } from '../../../stores/redis/client.js';
import { deleteKeys } from '../../support/connections.js';

export const TEST_JWT_SECRET = 'http-test-secret-with-at-least-32-characters';
export const ADMIN_KEY = 'admin-key-for-the-http-tests-0123456789';

export interface AuthApp {
  app: Express;
  auth: Auth;
  stores: {
    principals: RedisPrincipalCache;
    sessions: RedisSessionStore;
    rateLimit: RedisRateLimitStore;
    quotas: RedisQuotaStore;
  };
  cleanup(): Promise<void>;
}

export async function buildAuthApp(options: {
  prefix: string;
  mongo: Connection;
  /** One Redis server or the test Redis Cluster. */
  redis: RedisClient;
  env?: Record<string, string>;
  logger?: Logger;
}): Promise<AuthApp> {
  const { prefix, mongo, redis } = options;
  const config = loadConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    AUTH_STRATEGIES: 'apiKey,jwt,proxy',
    TRUSTED_PROXIES: '127.0.0.1,::1',
    RATE_LIMIT_MAX: '1000',
    ...options.env,
  });
  const inner = new MongoPrincipalStore({ connection: mongo, prefix: `${prefix}_` });
  await inner.init();
  const stores = {
    principals: new RedisPrincipalCache({ store: inner, client: redis, prefix: `${prefix}:` }),
    sessions: new RedisSessionStore({ client: redis, prefix: `${prefix}:` }),
    rateLimit: new RedisRateLimitStore({ client: redis, prefix: `${prefix}:` }),
    quotas: new RedisQuotaStore({ client: redis, prefix: `${prefix}:` }),
  };
  const logger = options.logger ?? silentLogger;
  const auth = createAuth({ config, stores, logger });
  await auth.bootstrapAdmin(ADMIN_KEY);

  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(requestContext());
  app.use(securityHeaders());
  app.use(express.json({ limit: '10kb' }));
  app.use('/auth', auth.authRouter());
  app.use('/admin', auth.principalAdminRouter());
  const api = express.Router();
  // After authenticate, so the limit is counted per API key or user (an IP limiter before it stops brute force).
  api.use(auth.authenticate(), auth.rateLimit({ name: 'api' }));
  api.get('/whoami', (req, res) => res.json(contextOf(req)));
  api.get('/records', requirePermittedEndpoint(), (_req, res) => res.json({ items: [] }));
  api.post(
    '/uploads',
    requirePermittedEndpoint(),
    quota({ store: stores.quotas, action: 'upload', limit: 2, periodMs: 60_000 }),
    (_req, res) => res.status(201).json({ ok: true }),
  );
  app.use('/api', api);
  app.get('/public', auth.authenticate({ allowAnonymous: true }), (req, res) => res.json(contextOf(req).principal));
  app.use(notFoundHandler());
  app.use(errorHandler());

  return {
    app,
    auth,
    stores,
    async cleanup() {
      for (const suffix of ['principals', 'groups', 'api_keys', 'second_factors', 'second_factor_claims']) {
        await mongo.dropCollection(`${prefix}_${suffix}`).catch(() => false);
      }
      await deleteKeys(redis, `${prefix}:*`);
    },
  };
}
