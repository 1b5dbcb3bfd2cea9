// Builds the masking engine and field encryption from the validated configuration (environment variables).
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createMasker, type MaskerOptions, type PiiMasker } from './engine.js';
import { createFieldEncryption, type EncryptedFieldSpec, type FieldEncryption } from './field-encryption.js';
import type { UnmaskGrant } from './masker.js';
import type { BuiltinLabel } from './recognizers.js';

/**
 * The masker the configuration describes: `PII_MASK_KEYS` and `PII_MASK_PATHS` plus the `keys` and `paths` of
 * `overrides` (your resource's own fields), `PII_RECOGNIZERS`, `PII_MASK_STRATEGY` and `PSEUDONYM_KEY`. Every
 * other option of `overrides` replaces the configured one.
 */
export function maskerFromConfig(config: Config, overrides: MaskerOptions = {}): PiiMasker {
  const { paths = [], keys = [], ...rest } = overrides;
  return createMasker({
    keys: [...config.PII_MASK_KEYS, ...keys],
    paths: [...config.PII_MASK_PATHS, ...paths],
    caseInsensitive: true,
    recognizers: config.PII_RECOGNIZERS as BuiltinLabel[],
    strategy: config.PII_MASK_STRATEGY,
    ...(config.PSEUDONYM_KEY ? { pseudonymKey: config.PSEUDONYM_KEY } : {}),
    ...rest,
  });
}

/**
 * `PII_UNMASK_GROUPS` as a grant: a principal in any of those groups gets one grant naming every field and
 * label of `maskers` (so it sees what they would mask), anyone else `undefined`. Combine it with finer grants
 * (an ABAC `read:pii` check) in a router's `unmask` option.
 */
export function unmaskGroupsGrant(
  config: Pick<Config, 'PII_UNMASK_GROUPS'>,
  maskers: readonly PiiMasker[],
): (principal: { groups: readonly string[] } | undefined) => UnmaskGrant | undefined {
  const groups = new Set(config.PII_UNMASK_GROUPS);
  // One object for every request: maskers compile a grant once per object.
  const everything: UnmaskGrant = Object.freeze({
    fields: [...new Set(maskers.flatMap((masker) => masker.fields))],
    labels: [...new Set(maskers.flatMap((masker) => masker.labels))],
  });
  if (groups.size === 0) return () => undefined;
  return (principal) => (principal?.groups.some((group) => groups.has(group)) ? everything : undefined);
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
