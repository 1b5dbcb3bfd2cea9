// Builds the demo's parts from the configuration and stores: guard, audit pipeline, auth, masking,
// encrypted accounts, metrics, and the seed data.
import { readFile } from 'node:fs/promises';
import mongoose from 'mongoose';
import {
  ConfigError,
  ConflictError,
  EncryptedRecordStore,
  Guard,
  PolicyMirror,
  auditPipelineFromConfig,
  createAuth,
  createFieldEncryption,
  createLogger,
  maskerFromConfig,
  unmaskGroupsGrant,
  createMetrics,
  parsePolicies,
  type Config,
  type MaskerOptions,
  type PiiMasker,
  type Logger,
} from 'portcullis';
import { type Stores } from 'portcullis/stores';
import { MemoryRecordStore } from 'portcullis/memory';
import { matchAll } from '../../src/filter/ast.js';
import { MongoRecordStore, mongooseSchemaFor } from 'portcullis/mongodb';
import { accountFields, seedAccounts } from './accounts.js';
import type { DemoParts } from './app.js';
import { seedPrincipals } from './principals.js';

export interface AssembleOptions {
  config: Config;
  stores: Stores;
  logger: Logger;
  /** Makes a random 32-byte key (base64) for demo runs without configured keys. */
  randomKey: () => string;
}

const ENCRYPTED_FIELDS = [{ path: 'nationalId', searchable: true }];

/** Field encryption from ENCRYPTION_KEYS / BLIND_INDEX_KEY, or throwaway keys for a memory-only demo. */
function encryptionFor(config: Config, logger: Logger, randomKey: () => string) {
  if (config.ENCRYPTION_KEYS) {
    if (!config.BLIND_INDEX_KEY) {
      throw new ConfigError('BLIND_INDEX_KEY', 'is required with ENCRYPTION_KEYS (the national id is searchable)');
    }
    return createFieldEncryption({
      keys: config.ENCRYPTION_KEYS,
      ...(config.ENCRYPTION_CURRENT_KEY_VERSION ? { currentVersion: config.ENCRYPTION_CURRENT_KEY_VERSION } : {}),
      blindIndexKey: config.BLIND_INDEX_KEY,
      fields: ENCRYPTED_FIELDS,
    });
  }
  if (config.RECORDS_BACKEND === 'mongodb' || (config.RECORDS_BACKEND === 'auto' && config.MONGODB_URI)) {
    // Data outlives the process in MongoDB: throwaway keys would make it unreadable after a restart.
    throw new ConfigError('ENCRYPTION_KEYS', 'is required when accounts are stored in MongoDB', {
      hint: 'generate one with `portcullis keys generate`',
    });
  }
  logger.warn(
    { code: 'demo.ephemeral_keys' },
    'ENCRYPTION_KEYS is not set: national ids are encrypted with throwaway keys (memory records only)',
  );
  return createFieldEncryption({ keys: `1:${randomKey()}`, blindIndexKey: randomKey(), fields: ENCRYPTED_FIELDS });
}

/**
 * Masking of the demo: the configured keys, paths, recognizers and strategy (PII_MASK_*, PSEUDONYM_KEY) plus
 * the account PII fields' own rules. `anywhere`: the fields' rules hold at any depth, as audit events and logs
 * need (an account's fields sit in `body`, `changes.before`, `queryParams`…; a national id that no recognizer
 * knows must still be masked there).
 */
function demoMasker(config: Config, anywhere: boolean, options: MaskerOptions = {}): PiiMasker {
  const at = (field: string) => (anywhere ? `**.${field}` : field);
  return maskerFromConfig(config, {
    paths: [
      { path: at('email'), label: 'email', strategy: { kind: 'partial', keepLast: 12 } },
      { path: at('phone'), label: 'phone', strategy: { kind: 'partial', keepLast: 2 } },
      { path: at('nationalId'), label: 'nationalId', strategy: { kind: 'partial', keepLast: 4 } },
    ],
    ...options,
  });
}

/** The demo's logger: every object, child binding and message passes the masker audit events pass. */
export function createDemoLogger(config: Config, destination?: NodeJS.WritableStream): Logger {
  return createLogger({
    level: config.LOG_LEVEL,
    masker: demoMasker(config, true),
    ...(destination ? { destination } : {}),
  });
}

export async function assembleDemo(options: AssembleOptions): Promise<DemoParts & { close(): Promise<void> }> {
  const { config, stores, logger } = options;

  // Audit events and logs may carry free text and account fields anywhere: recognizers scan every string in
  // them, and the fields' rules hold at any depth.
  const masker = demoMasker(config, true);
  // An account keeps its free text in `notes`; its other PII fields have rules of their own.
  const accountsMasker = demoMasker(config, false, { scanPaths: ['notes'] });

  const encryption = encryptionFor(config, logger, options.randomKey);
  if (!config.CURSOR_SECRET) {
    logger.warn(
      { code: 'demo.ephemeral_cursor_secret' },
      'CURSOR_SECRET is not set: list cursors are encrypted with a random per-process secret (one process only; they die on restart)',
    );
  }
  const extraPaths = encryption.derivedFields;
  const inner =
    stores.backends.records === 'mongodb'
      ? new MongoRecordStore({
          model: stores.connections.mongodb!.model(
            'DemoAccount',
            mongooseSchemaFor(accountFields).add(
              Object.fromEntries(extraPaths.map((path: string) => [path, mongoose.Schema.Types.Mixed])),
            ),
            'demo_accounts',
          ),
          schema: accountFields,
          idPrefix: 'acc_',
          extraPaths,
          // The declared plan minus encrypted fields: their ciphertext is never filtered or sorted (their
          // blind indexes, among the extra paths, are).
          indexes: [
            ...Object.keys(accountFields).filter(
              (path) => path !== 'notes' && !ENCRYPTED_FIELDS.some((field) => field.path === path),
            ),
            ...extraPaths,
          ],
        })
      : new MemoryRecordStore({ schema: accountFields, idPrefix: 'acc_', extraPaths });
  const accounts = new EncryptedRecordStore({ store: inner, encryption, logger });
  await accounts.init();

  // Policies: the example's YAML file seeds the policy store; decisions run on an in-memory mirror that
  // follows the store's change feed, so a change made through any process applies everywhere.
  const mirror = new PolicyMirror({ store: stores.policies, logger });
  await mirror.init();
  const yamlPolicies = parsePolicies(await readFile(new URL('./policies.yaml', import.meta.url), 'utf8'), {
    format: 'yaml',
    source: 'examples/demo/policies.yaml',
  });
  for (const policy of yamlPolicies) if (!(await mirror.get(policy.uid))) await seedOnce(() => mirror.add(policy));
  // No decision cache: with a handful of policies a decision (about 2 µs) is cheaper than building its
  // cache key (about 4 µs). Turn it on (`cache: true`) for thousands of policies.
  const guard = new Guard({ policies: mirror, cache: false, logger });

  const pipeline = await auditPipelineFromConfig(config, stores, { masker, logger });
  const metrics = createMetrics({ auditQueueDepth: () => pipeline.queueDepth() });
  guard.onDecision((decision) => metrics.recordDecision(decision));

  const auth = createAuth({ config, stores, logger });

  await seedPrincipals(stores.principals);
  if (config.ADMIN_API_KEY) await auth.bootstrapAdmin(config.ADMIN_API_KEY);
  if ((await accounts.count(matchAll)) === 0) {
    for (const account of seedAccounts()) {
      const { id, ...fields } = account;
      const now = new Date();
      await seedOnce(() => accounts.insert(id, { ...fields, createdAt: now, updatedAt: now }));
    }
  }

  return {
    config,
    stores,
    logger,
    auth,
    guard,
    policies: mirror,
    pipeline,
    masker,
    accountsMasker,
    metrics,
    accounts,
    unmaskGroups: unmaskGroupsGrant(config, [masker, accountsMasker]),
    blindIndex: encryption,
    async close() {
      await pipeline.close();
      await mirror.close?.();
    },
  };
}

/** Seeds one item; a ConflictError means another process starting at the same time seeded it first. */
async function seedOnce(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
