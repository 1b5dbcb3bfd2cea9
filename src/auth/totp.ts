// TOTP second factor (RFC 6238): enrolment secrets encrypted with the field key ring, code checks, recovery codes.
import { createHash } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { systemClock, type Clock } from '../clock.js';
import type { SecondFactorRecord } from '../contracts/principals.js';
import { ConfigError } from '../errors.js';
import { checkOptions, integerOption } from '../options.js';
import { decryptField, encryptField, keyVersionOf } from '../pii/field-cipher.js';
import type { KeyRing } from '../pii/key-ring.js';

export interface TotpOptions {
  /** The field-encryption key ring (`ENCRYPTION_KEYS`) the secrets are encrypted with. Required. */
  keys: KeyRing;
  /** The issuer authenticator apps show beside the account (`TOTP_ISSUER`). Default `Portcullis`. */
  issuer?: string;
  /** Steps accepted either side of the current one, for clock drift (`TOTP_WINDOW`). Default 1. */
  window?: number;
  /** How many recovery codes an enrolment gets. Default 10. */
  recoveryCodes?: number;
  now?: Clock;
}

/** What an enrolment shows once: the secret, as text, as an `otpauth://` URI and as a QR code of that URI. */
export interface TotpEnrolment {
  /** To store (`saveSecondFactor`): the secret encrypted, unconfirmed, no recovery codes yet. */
  record: SecondFactorRecord;
  /** The secret in base32, for typing into an app that cannot scan. */
  secret: string;
  /** `otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30`. */
  uri: string;
  /** The URI as a QR code, an SVG document. */
  qrCodeSvg: string;
}

export interface Totp {
  readonly issuer: string;
  readonly window: number;
  /** A new secret for `principalId`, labelled `account` in the app. */
  enrol(principalId: string, account: string): Promise<TotpEnrolment>;
  /**
   * The time step `code` is valid for (the current one, or up to `window` before or after), or `undefined`.
   * The caller must still claim the step (`PrincipalStore.claimTotpStep`) so that no code works twice.
   */
  stepOf(record: SecondFactorRecord, code: string): number | undefined;
  /** The secret encrypted with the ring's current key, when it is under an older one (else undefined). */
  reencrypted(record: SecondFactorRecord): string | undefined;
  /** True when the secret is under the ring's current key (read from the ciphertext, nothing decrypted). */
  onCurrentKey(record: SecondFactorRecord): boolean;
  /** Fresh recovery codes, to show once, and their hashes, to store. */
  recoveryCodes(principalId: string): { codes: string[]; hashes: string[] };
  /** The stored form of a typed recovery code (case, spaces and dashes ignored); undefined when malformed. */
  recoveryHash(principalId: string, code: string): string | undefined;
}

/** `meta.stage` of the session that stands for a login waiting for its code (apicrud's `pendingtotp` role). */
export const PENDING_TOTP_STAGE = 'pendingtotp';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const CODE = /^\d{6}$/;
// 80 bits: the hashes are unsalted (so a code can be looked up and consumed atomically), and 2^80 guesses per
// code is out of reach even offline.
const RECOVERY_BYTES = 10;
const RECOVERY = /^[A-Z2-7]{16}$/;

/** Validates options once; the result runs the TOTP parts that need no store. */
export function createTotp(options: TotpOptions): Totp {
  checkOptions('createTotp()', options, ['keys', 'issuer', 'window', 'recoveryCodes', 'now']);
  if (typeof options?.keys?.key !== 'function') throw new ConfigError('keys', 'must be a key ring (ENCRYPTION_KEYS)');
  const issuer = options.issuer ?? 'Portcullis';
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 64 || issuer.includes(':')) {
    throw new ConfigError('issuer', 'must be 1-64 characters without a colon');
  }
  const window = integerOption('window', options.window, { fallback: 1, min: 0, max: 10 });
  const count = integerOption('recoveryCodes', options.recoveryCodes, { fallback: 10, min: 1, max: 64 });
  const now = options.now ?? systemClock;
  const ring = options.keys;
  // Binding the principal into the ciphertext's authenticated data stops a secret being copied to another principal.
  const field = (principalId: string) => `totp.secret:${principalId}`;
  const totpFor = (secret: Secret, account: string) =>
    new TOTP({ issuer, label: account, secret, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS });

  return {
    issuer,
    window,

    async enrol(principalId, account) {
      const secret = new Secret({ size: 20 });
      const uri = totpFor(secret, account).toString();
      return {
        record: {
          principalId,
          secret: encryptField(ring, field(principalId), secret.base32),
          confirmed: false,
          recoveryCodes: [],
          createdAt: new Date(now()),
        },
        secret: secret.base32,
        uri,
        qrCodeSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      };
    },

    stepOf(record, code) {
      const token = typeof code === 'string' ? code.replace(/\s+/g, '') : '';
      if (!CODE.test(token)) return undefined;
      const secret = Secret.fromBase32(decryptField(ring, field(record.principalId), record.secret) as string);
      const totp = totpFor(secret, record.principalId);
      const timestamp = now();
      const delta = totp.validate({ token, timestamp, window });
      return delta === null ? undefined : totp.counter({ timestamp }) + delta;
    },

    onCurrentKey(record) {
      return keyVersionOf(record.secret) === ring.current;
    },

    reencrypted(record) {
      if (this.onCurrentKey(record)) return undefined;
      return encryptField(
        ring,
        field(record.principalId),
        decryptField(ring, field(record.principalId), record.secret),
      );
    },

    recoveryCodes(principalId) {
      const codes = Array.from({ length: count }, () =>
        new Secret({ size: RECOVERY_BYTES }).base32.toLowerCase().replace(/(.{4})(?!$)/g, '$1-'),
      );
      return { codes, hashes: codes.map((code) => this.recoveryHash(principalId, code)!) };
    },

    recoveryHash(principalId, code) {
      const normal = typeof code === 'string' ? code.replace(/[\s-]+/g, '').toUpperCase() : '';
      if (!RECOVERY.test(normal)) return undefined;
      return createHash('sha256').update(`${principalId}\n${normal}`).digest('base64url');
    },
  };
}
