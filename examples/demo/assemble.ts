// Builds the demo from the configuration: createPortcullis (stores, auth, guard, audit, masking, metrics) with
// the demo's policies and PII fields, the encrypted accounts, and the seed data.
import { readFile } from 'node:fs/promises';
import mongoose from 'mongoose';
import {
  ConfigError,
  ConflictError,
  EncryptedRecordStore,
  createFieldEncryption,
  createLogger,
  createPortcullis,
  maskerFromConfig,
  parsePolicies,
  type AuditPipeline,
  type Config,
  type FieldEncryption,
  type PiiField,
  type PiiMasker,
  type Logger,
  type Portcullis,
  type RecordStore,
} from 'portcullis';
import { type Stores } from 'portcullis/stores';
import { MemoryRecordStore } from 'portcullis/memory';
import { matchAll } from '../../src/filter/ast.js';
import { MongoRecordStore, mongooseSchemaFor } from 'portcullis/mongodb';
import { accountFields, seedAccounts } from './accounts.js';
import { seedPrincipals } from './principals.js';

export interface AssembleOptions {
  config: Config;
  /** Default: `createStores(config)`, closed by `close()`. */
  stores?: Stores;
  logger: Logger;
  /** Makes a random 32-byte key (base64) for demo runs without configured keys. */
  randomKey: () => string;
}

/** The demo's Portcullis (createPortcullis) and what it adds: the encrypted accounts and their masker. */
export interface DemoParts {
  portcullis: Portcullis;
  pipeline: AuditPipeline;
  /** Masks account responses: the PII fields' rules, recognizers in `notes` only. */
  accountsMasker: PiiMasker;
  /** The accounts collection (memory or MongoDB), with the national id encrypted. */
  accounts: RecordStore;
  /** Flushes audit events and closes what createPortcullis built (the stores, when it built them). */
  close(): Promise<void>;
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
 * The account PII fields with their labels and strategies: masked at any depth in audit events and logs (an
 * account's fields sit in `body`, `changes.before`, `queryParams`…; a national id that no recognizer knows must
 * still be masked there), shown in clear to whom the guard allows `read:pii` on the field. `notes` is free text:
 * recognizers mask what they find in it.
 */
const PII_FIELDS: PiiField[] = [
  { field: 'email', label: 'email', strategy: { kind: 'partial', keepLast: 12 } },
  { field: 'phone', label: 'phone', strategy: { kind: 'partial', keepLast: 2 } },
  { field: 'nationalId', label: 'nationalId', strategy: { kind: 'partial', keepLast: 4 } },
  { field: 'notes', freeText: true },
];

/** The rules of the PII fields, at the top level of a record or (`anywhere`) at any depth. */
function piiPaths(anywhere: boolean) {
  return PII_FIELDS.filter((spec) => !spec.freeText).map(({ field, label, strategy }) => ({
    path: anywhere ? `**.${field}` : field,
    label: label ?? field,
    ...(strategy ? { strategy } : {}),
  }));
}

/** The masker of account responses: the fields' rules at the top level, recognizers in `notes` only. */
function accountsMaskerFor(config: Config): PiiMasker {
  return maskerFromConfig(config, { paths: piiPaths(false), scanPaths: ['notes'] });
}

/**
 * The demo's logger: every object, child binding and message passes the masker createPortcullis gives audit
 * events (before createPortcullis exists: it logs the start-up and the connections).
 */
export function createDemoLogger(config: Config, destination?: NodeJS.WritableStream): Logger {
  const masker = maskerFromConfig(config, { paths: piiPaths(true) });
  return createLogger({ level: config.LOG_LEVEL, masker, ...(destination ? { destination } : {}) });
}

export async function assembleDemo(options: AssembleOptions): Promise<DemoParts> {
  const { config, logger } = options;
  // Before anything connects: a demo that cannot encrypt stops at once.
  const encryption = encryptionFor(config, logger, options.randomKey);
  if (!config.CURSOR_SECRET) {
    logger.warn(
      { code: 'demo.ephemeral_cursor_secret' },
      'CURSOR_SECRET is not set: list cursors are encrypted with a random per-process secret (one process only; they die on restart)',
    );
  }
  // The example's YAML file seeds the policy store; decisions run on an in-memory mirror that follows the
  // store's change feed, so a change made through any process applies everywhere.
  const policies = parsePolicies(await readFile(new URL('./policies.yaml', import.meta.url), 'utf8'), {
    format: 'yaml',
    source: 'examples/demo/policies.yaml',
  });
  const portcullis = await createPortcullis(config, {
    ...(options.stores ? { stores: options.stores } : {}),
    logger,
    policies,
    piiFields: PII_FIELDS,
    metrics: true,
  });
  try {
    const accounts = await accountsStore(portcullis.stores, encryption, logger);
    await seedPrincipals(portcullis.stores.principals);
    if ((await accounts.count(matchAll)) === 0) {
      for (const account of seedAccounts()) {
        const { id, ...fields } = account;
        const now = new Date();
        await seedOnce(() => accounts.insert(id, { ...fields, createdAt: now, updatedAt: now }));
      }
    }
    return {
      portcullis,
      pipeline: portcullis.pipeline,
      accountsMasker: accountsMaskerFor(config),
      accounts,
      close: () => portcullis.close(),
    };
  } catch (error) {
    await portcullis.close();
    throw error;
  }
}

/** The accounts collection (memory or MongoDB by RECORDS_BACKEND), the national id encrypted. */
async function accountsStore(stores: Stores, encryption: FieldEncryption, logger: Logger): Promise<RecordStore> {
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
  return accounts;
}

/** Seeds one item; a ConflictError means another process starting at the same time seeded it first. */
async function seedOnce(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
