// PII protection: the masking engine, recognizers, field encryption, blind indexes and key rotation.
export {
  createMasker,
  type MaskerOptions,
  type PathRuleSpec,
  type PiiMasker,
  type Annotation,
  type Annotations,
} from './engine.js';
export {
  builtinLabels,
  compileRecognizers,
  scanText,
  type BuiltinLabel,
  type RecognizerSpec,
  type Recognizer,
  type Detection,
} from './recognizers.js';
export type { StrategySpec, CustomStrategy, StrategyContext } from './strategies.js';
export { isSecretLabel, SECRET_MASK_LENGTH } from './strategies.js';
export { luhnValid, cardValid, ibanValid, ssnValid } from './validators.js';
export { createKeyRing, parseKeyRing, type KeyRing, type KeyRingEntry } from './key-ring.js';
export {
  DecryptionError,
  isCiphertext,
  keyVersionOf,
  encryptField,
  decryptField,
  type DecryptionFailure,
} from './field-cipher.js';
export {
  createFieldEncryption,
  FieldEncryption,
  problemOf,
  type FieldEncryptionOptions,
  type EncryptedFieldSpec,
  type IndexNormalization,
  type DecryptionProblem,
  type DecryptedList,
} from './field-encryption.js';
export {
  migrateKeys,
  type RotationSource,
  type RecordChange,
  type RotationRecord,
  type MigrateOptions,
  type MigrationProgress,
  type MigrationResult,
} from './key-rotation.js';
export { maskerFromConfig, fieldEncryptionFromConfig, unmaskGroupsGrant } from './from-config.js';
export { maskingLogger, pinoMaskingOptions } from './logging.js';
