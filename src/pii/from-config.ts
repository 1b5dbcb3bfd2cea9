// Builds the masking engine and field encryption from the validated configuration (environment variables).
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createMasker, type MaskerOptions, type PiiMasker } from './engine.js';
import { createFieldEncryption, type EncryptedFieldSpec, type FieldEncryption } from './field-encryption.js';
import type { BuiltinLabel } from './recognizers.js';

/** The masker the configuration describes (`PII_MASK_KEYS`, `PII_MASK_PATHS`, `PII_RECOGNIZERS`, ...). */
export function maskerFromConfig(config: Config, overrides: MaskerOptions = {}): PiiMasker {
  return createMasker({
    keys: config.PII_MASK_KEYS,
    paths: config.PII_MASK_PATHS,
    caseInsensitive: true,
    recognizers: config.PII_RECOGNIZERS as BuiltinLabel[],
    strategy: config.PII_MASK_STRATEGY,
    ...(config.PSEUDONYM_KEY ? { pseudonymKey: config.PSEUDONYM_KEY } : {}),
    ...overrides,
  });
}

/** Field encryption for `fields` with the configured key ring and blind-index key. */
export function fieldEncryptionFromConfig(config: Config, fields: (string | EncryptedFieldSpec)[]): FieldEncryption {
  if (!config.ENCRYPTION_KEYS) {
    throw new ConfigError(
      'ENCRYPTION_KEYS',
      'is required to encrypt fields (generate one with `portcullis keys generate`)',
      {
        code: 'config.missing',
      },
    );
  }
  return createFieldEncryption({
    keys: config.ENCRYPTION_KEYS,
    ...(config.ENCRYPTION_CURRENT_KEY_VERSION === undefined
      ? {}
      : { currentVersion: config.ENCRYPTION_CURRENT_KEY_VERSION }),
    ...(config.BLIND_INDEX_KEY ? { blindIndexKey: config.BLIND_INDEX_KEY } : {}),
    fields,
  });
}
