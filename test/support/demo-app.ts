// The demo app in this process, on memory stores or on the run's MongoDB, with its users logged in.
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { createLogger, loadConfig } from 'portcullis';
import { createStores, type Stores } from 'portcullis/stores';
import { assembleDemo } from '../../examples/demo/assemble.js';
import { buildDemoApp } from '../../examples/demo/app.js';
import { DEMO_USERS } from '../../examples/demo/principals.js';
import { mongoUriFor, uniqueName } from './connections.js';

export type DemoBackend = 'memory' | 'mongodb';
export type DemoRole = 'admin' | 'analyst' | 'support';

export interface DemoApp {
  app: Express;
  parts: Awaited<ReturnType<typeof assembleDemo>>;
  stores: Stores;
  /** Request headers that authenticate as each demo role. */
  headers: Record<DemoRole, Record<string, string>>;
  close(): Promise<void>;
}

export async function startDemoApp(backend: DemoBackend, extraEnv: Record<string, string> = {}): Promise<DemoApp> {
  const adminKey = `demo.${randomBytes(24).toString('base64url')}`;
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent',
    ADMIN_API_KEY: adminKey,
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_LOGIN_MAX: '1000000',
    ...extraEnv,
  };
  if (backend === 'mongodb') {
    env.MONGODB_URI = mongoUriFor(uniqueName('demo'));
    env.ENCRYPTION_KEYS = `1:${randomBytes(32).toString('base64')}`;
    env.BLIND_INDEX_KEY = randomBytes(32).toString('base64');
  }
  const config = loadConfig(env);
  const stores = await createStores(config);
  const parts = await assembleDemo({
    config,
    stores,
    logger: createLogger({ level: 'silent' }),
    randomKey: () => randomBytes(32).toString('base64'),
  });
  const app = buildDemoApp(parts);
  const token = async (username: keyof typeof DEMO_USERS) => {
    const response = await request(app)
      .post('/auth/login')
      .send({ username, password: DEMO_USERS[username].password })
      .expect(201);
    return `Bearer ${(response.body as { token: string }).token}`;
  };
  return {
    app,
    parts,
    stores,
    headers: {
      admin: { 'X-API-Key': adminKey },
      analyst: { Authorization: await token('ana') },
      support: { Authorization: await token('sam') },
    },
    async close() {
      await parts.close();
      await stores.close();
    },
  };
}
