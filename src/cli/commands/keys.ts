// `portcullis keys`: generate field-encryption keys and migrate stored records onto the current key.
import { randomBytes } from 'node:crypto';
import { createTotp } from '../../auth/totp.js';
import { migrateSecondFactorKeys } from '../../auth/totp-rotation.js';
import { ConfigError } from '../../errors.js';
import type { EncryptedFieldSpec, IndexNormalization } from '../../pii/field-encryption.js';
import { fieldEncryptionFromConfig } from '../../pii/from-config.js';
import { parseKeyRing } from '../../pii/key-ring.js';
import { migrateKeys, type MigrateOptions, type MigrationResult, type RotationSource } from '../../pii/key-rotation.js';
import { parseCommandArgs } from '../args.js';
import { UsageError, type CliIO, type Command } from '../command.js';
import { cliConfig, openConfiguredStores } from '../configured.js';

/** Opens the collection to migrate; returns the rotation source and how to close the connection. */
export type OpenRotationSource = (
  uri: string,
  collection: string,
  versionField: string,
) => Promise<{ source: RotationSource; close: () => Promise<void> }>;

const usage = `Usage:
  portcullis keys generate [--version N] [--raw]
      Prints a new random 32-byte key as an ENCRYPTION_KEYS entry, VERSION:BASE64 (version 1 unless --version
      says otherwise). With --raw, only the base64 key, for BLIND_INDEX_KEY and PSEUDONYM_KEY.
  portcullis keys migrate --collection NAME --fields SPEC [--batch-size N] [--limit N]
      Re-encrypts and re-indexes, in batches, every record of the MongoDB collection that is not on the
      current key (ENCRYPTION_CURRENT_KEY_VERSION, default the highest). Safe while the application serves;
      interrupted runs resume where they stopped. SPEC lists the encrypted fields:
      field[:search][:lowercase|:trim-lowercase], comma-separated, e.g. ssn:search,email:search:lowercase,notes
      Reads MONGODB_URI, ENCRYPTION_KEYS, ENCRYPTION_CURRENT_KEY_VERSION and BLIND_INDEX_KEY.
      Progress goes to stderr; stdout gets {"migrated":N,"totalLeft":N}. Exit 0 when nothing is left, 1 otherwise.
  portcullis keys migrate --second-factors [--batch-size N] [--limit N]
      The same for the TOTP secrets of the principal store (PRINCIPALS_BACKEND with MONGODB_URI): each secret
      not under the current key is encrypted anew, unless its principal enrolled again meanwhile.
      Reads MONGODB_URI, ENCRYPTION_KEYS and ENCRYPTION_CURRENT_KEY_VERSION; same output and exit status.`;

const GENERATE_OPTIONS = { version: { type: 'string' }, raw: { type: 'boolean' } } as const;
const MIGRATE_OPTIONS = {
  collection: { type: 'string' },
  fields: { type: 'string' },
  'batch-size': { type: 'string' },
  limit: { type: 'string' },
  'second-factors': { type: 'boolean' },
} as const;

function positive(raw: string | undefined, name: string, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** Parses `ssn:search,email:search:lowercase,notes`. */
export function parseFieldSpecs(spec: string): EncryptedFieldSpec[] {
  return spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [path, ...options] = item.split(':') as [string, ...string[]];
      const field: EncryptedFieldSpec = { path };
      for (const option of options) {
        if (option === 'search') field.searchable = true;
        else if (option === 'lowercase' || option === 'trim-lowercase') field.normalize = option as IndexNormalization;
        else throw new UsageError(`--fields: "${option}" is not a field option (search, lowercase, trim-lowercase)`);
      }
      return field;
    });
}

/** The command, with the way to reach MongoDB injectable (tests, other backends). */
export function createKeysCommand(openSource: OpenRotationSource = openMongoSource): Command {
  return {
    name: 'keys',
    summary: 'Generate field-encryption keys; migrate stored records to the current key',
    usage,
    async run(args: string[], io: CliIO): Promise<number> {
      const [sub, ...rest] = args;
      if (sub === 'generate') {
        const { values } = parseCommandArgs(rest, GENERATE_OPTIONS);
        const version = positive(values.version, 'version', 1_000_000);
        const raw = values.raw === true;
        if (raw && version !== undefined) throw new UsageError('--raw prints a key without a version: drop --version');
        const key = randomBytes(32).toString('base64');
        io.stdout(raw ? key : `${version ?? 1}:${key}`);
        return 0;
      }
      if (sub === 'migrate') return migrate(rest, io, openSource);
      throw new UsageError(
        sub === undefined
          ? 'missing sub-command: generate or migrate'
          : `unknown sub-command "${sub}" (generate or migrate)`,
      );
    },
  };
}

async function migrate(args: string[], io: CliIO, openSource: OpenRotationSource): Promise<number> {
  const { values } = parseCommandArgs(args, MIGRATE_OPTIONS);
  const batchSize = positive(values['batch-size'], 'batch-size', 10_000) ?? 100;
  const limit = positive(values.limit, 'limit', Number.MAX_SAFE_INTEGER);
  if (values['second-factors'] === true) {
    if (values.collection !== undefined || values.fields !== undefined) {
      throw new UsageError('--second-factors migrates the principal store: drop --collection and --fields');
    }
    return migrateSecondFactors(io, batchSize, limit);
  }
  const collection = values.collection;
  if (!collection || !/^[A-Za-z0-9_.-]{1,120}$/.test(collection)) {
    throw new UsageError('--collection NAME is required (letters, digits, _ . -)');
  }
  const fieldSpec = values.fields;
  if (!fieldSpec) throw new UsageError('--fields is required, e.g. --fields ssn:search,email:search:lowercase');
  const specs = parseFieldSpecs(fieldSpec);
  const config = cliConfig(io.env);
  let encryption;
  try {
    encryption = fieldEncryptionFromConfig(config, specs);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const uri = config.MONGODB_URI;
  if (!uri) throw new UsageError('MONGODB_URI is not set');
  const { source, close } = await openSource(uri, collection, encryption.versionField);
  try {
    return await reported(io, 'record', (options) =>
      migrateKeys(source, encryption, { batchSize, ...(limit === undefined ? {} : { limit }), ...options }),
    );
  } finally {
    await close();
  }
}

async function migrateSecondFactors(io: CliIO, batchSize: number, limit: number | undefined): Promise<number> {
  const config = cliConfig(io.env);
  if (!config.ENCRYPTION_KEYS) throw new UsageError('ENCRYPTION_KEYS is not set: the key ring the secrets are under');
  const totp = createTotp({ keys: parseKeyRing(config.ENCRYPTION_KEYS, config.ENCRYPTION_CURRENT_KEY_VERSION) });
  const stores = await openConfiguredStores(config);
  try {
    if (stores.backends.principals === 'memory') {
      throw new UsageError('no principal store configured: set MONGODB_URI (and PRINCIPALS_BACKEND)');
    }
    return await reported(io, 'second factor of', (options) =>
      migrateSecondFactorKeys(stores.principals, totp, {
        batchSize,
        ...(limit === undefined ? {} : { limit }),
        ...options,
      }),
    );
  } finally {
    await stores.close();
  }
}

/** Runs a migration that Ctrl-C stops between batches, with progress on stderr and the totals on stdout. */
async function reported(
  io: CliIO,
  what: string,
  run: (options: Pick<MigrateOptions, 'signal' | 'onProgress'>) => Promise<MigrationResult>,
): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    const result = await run({
      signal: controller.signal,
      onProgress: (p) =>
        io.stderr(`migrated ${p.migrated} (batches ${p.batches}, conflicts ${p.conflicts}, failed ${p.failed})`),
    });
    for (const problem of result.errors) io.stderr(`cannot decrypt ${what} ${String(problem.id)}: ${problem.message}`);
    io.stdout(JSON.stringify({ migrated: result.migrated, totalLeft: result.totalLeft }));
    return result.totalLeft === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
  }
}

// The CLI is the layer on top, like the demo app: it loads the MongoDB backend only when this command runs,
// so `keys generate` works without mongoose.
const openMongoSource: OpenRotationSource = async (uri, collection, versionField) => {
  const { connectMongo, mongoRotationSource } = await import('../../../stores/mongodb/index.js');
  const connection = await connectMongo(uri, { connectTimeoutMs: 5000 });
  // A misspelt name would otherwise "migrate" an empty collection and report success.
  const found = await connection.db!.listCollections({ name: collection }, { nameOnly: true }).toArray();
  if (found.length === 0) {
    await connection.close();
    throw new UsageError(`--collection: no collection "${collection}" in the database of MONGODB_URI`);
  }
  return {
    source: mongoRotationSource(connection, collection, versionField),
    close: () => connection.close(),
  };
};

export const keysCommand = createKeysCommand();
