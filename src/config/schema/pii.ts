// Variables of PII protection: field-encryption keys, the blind-index and pseudonym keys, masking defaults.
import { builtinLabels } from '../../pii/recognizers.js';
import { checkKeyRingSyntax } from '../../pii/key-ring.js';
import { parsePath } from '../../pii/paths.js';
import { defineVariables, enumVar, integerVar, listVar, stringVar, type VariableSpec } from '../variables.js';

function keyRingVar(): VariableSpec<string> {
  const base = stringVar({
    secret: true,
    maxLength: 16_384,
    description:
      'Field-encryption key ring: comma-separated `VERSION:BASE64KEY` (32 bytes, see `portcullis keys generate`) or `VERSION:secret:PASSPHRASE` entries; older versions still decrypt.',
  });
  return {
    ...base,
    parse(raw) {
      const value = base.parse(raw);
      checkKeyRingSyntax(value);
      return value;
    },
  };
}

export const piiVariables = defineVariables({
  ENCRYPTION_KEYS: keyRingVar(),
  ENCRYPTION_CURRENT_KEY_VERSION: integerVar({
    min: 1,
    description: 'Key version new values are encrypted with; default the highest version in `ENCRYPTION_KEYS`.',
  }),
  BLIND_INDEX_KEY: stringVar({
    secret: true,
    pattern: /^.{32,}$/s,
    description:
      'HMAC key of the blind indexes that make encrypted fields searchable by equality (≥ 32 bytes, or base64 of them).',
  }),
  PSEUDONYM_KEY: stringVar({
    secret: true,
    pattern: /^.{16,}$/s,
    description:
      'HMAC key of the `pseudonym` masking strategy (≥ 16 characters); pseudonyms stay stable while it does.',
  }),
  PII_MASK_KEYS: listVar({
    default: ['password', 'passwd', 'secret', 'token', 'apiKey', 'authorization', 'cookie', 'ssn', 'cardNumber', 'cvv'],
    description: 'Key names masked at any depth in responses, audit events and logs (case-insensitive).',
  }),
  PII_MASK_PATHS: listVar({
    default: [],
    item(item) {
      try {
        parsePath(item, 'PII_MASK_PATHS');
      } catch (error) {
        // The loader names the variable; keep only what is wrong with the path.
        throw new Error((error as Error).message.replace(/^PII_MASK_PATHS: /, ''), { cause: error });
      }
    },
    description: 'Extra sensitive paths (`customer.email`, `items[*].card`, `**.iban`).',
  }),
  PII_RECOGNIZERS: listVar({
    default: ['email', 'phone', 'card', 'iban', 'ssn', 'jwt', 'secret'],
    item(item) {
      if (!(builtinLabels as readonly string[]).includes(item)) {
        throw new Error(`"${item}" is not a recognizer (${builtinLabels.join(', ')})`);
      }
    },
    description: 'Recognizers that mask PII found in free text.',
  }),
  PII_MASK_STRATEGY: enumVar({
    values: ['redact', 'partial', 'pseudonym', 'remove'],
    default: 'redact',
    description:
      'How masked values look: `X`s keeping the length, last 4 kept (an e-mail address: `jXXX@gmx.de`), a keyed pseudonym (needs `PSEUDONYM_KEY`), or removed.',
  }),
  PII_UNMASK_GROUPS: listVar({
    default: [],
    description:
      'Principals in any of these groups see responses and audit events unmasked (`unmaskGroupsGrant(config)`, used by `createPortcullis`).',
  }),
});
