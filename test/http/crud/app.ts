// Test apps: a crudRouter for a people resource on memory or MongoDB, with permissions set per test.
import express, { type Express } from 'express';
import type { EffectivePermissions } from '../../../src/auth/principal.js';
import type { SchemaInput } from '../../../src/filter/index.js';
import { contextOf } from '../../../middleware/context.js';
import { crudRouter, type CrudRouter, type CrudRouterOptions } from '../../../middleware/crud-router.js';
import { errorHandler } from '../../../middleware/error-handler.js';
import type { RecordStore } from '../../../src/contracts/records.js';
import { mongooseSchemaFor } from '../../../stores/mongodb/records-schema.js';
import { MongoRecordStore } from '../../../stores/mongodb/records.js';
import { MemoryRecordStore } from '../../../stores/memory/records.js';
import { EncryptedRecordStore } from '../../../stores/encrypted-records.js';
import type { FieldEncryption } from '../../../src/pii/field-encryption.js';
import { sharedMongo, uniqueName } from '../../support/connections.js';

export const schema: SchemaInput = {
  name: { type: 'string', required: true, maxLength: 40 },
  email: 'string',
  age: { type: 'number', min: 0, max: 150 },
  status: { type: 'string', enum: ['new', 'active', 'closed'] },
  tags: 'string[]',
  country: 'string',
  balance: 'number',
  secret: 'string',
  'address.city': 'string',
};

export function permissions(overrides: Partial<EffectivePermissions> = {}): EffectivePermissions {
  return {
    endpoints: [],
    allEndpoints: true,
    filters: [],
    excludeFields: [],
    updateFieldsPermitted: [],
    updateFieldsRestricted: [],
    ...overrides,
  };
}

export interface TestApp {
  app: Express;
  router: CrudRouter;
  /** Sets the permissions the next requests run with (undefined: no authenticate mounted). */
  as(permissions: EffectivePermissions | undefined): void;
  cleanup(): Promise<void>;
}

export type Backend = 'memory' | 'mongodb';

export async function buildApp(
  backend: Backend,
  {
    idPrefix,
    encryption,
    fields = schema,
    ...options
  }: Partial<CrudRouterOptions> & { idPrefix?: string; encryption?: FieldEncryption; fields?: SchemaInput } = {},
  configure?: (app: Express) => void,
): Promise<TestApp> {
  let current: EffectivePermissions | undefined;
  const app = express();
  configure?.(app);
  app.use((req, _res, next) => {
    if (current) contextOf(req).permissions = current;
    next();
  });
  let cleanup = async () => undefined;
  // The options a store takes, not the router: an id prefix, and encryption (with its blind-index paths).
  const common = {
    ...(idPrefix ? { idPrefix } : {}),
    ...(encryption ? { extraPaths: encryption.derivedFields } : {}),
  };
  let store: RecordStore;
  if (backend === 'mongodb') {
    const connection = await sharedMongo();
    const name = uniqueName('crud_http');
    const model = connection.model(name, mongooseSchemaFor(fields), name);
    store = new MongoRecordStore({ model, ...common });
    cleanup = async () => {
      await connection.dropCollection(name).catch(() => false);
      connection.deleteModel(name);
      return undefined;
    };
  } else {
    store = new MemoryRecordStore({ schema: fields, ...common });
  }
  const router = crudRouter({
    resource: 'people',
    cursorSecret: 'http-tests'.repeat(4),
    store: encryption ? new EncryptedRecordStore({ store, encryption }) : store,
    ...options,
  });
  app.use('/people', router);
  app.use(errorHandler());
  return {
    app,
    router,
    as(permissions) {
      current = permissions;
    },
    cleanup,
  };
}

export const backends: Backend[] = ['memory', 'mongodb'];
