// Input checks for API-key and second-factor records, shared by every principal store.
import type { ApiKeyRecord, SecondFactorChange, SecondFactorRecord } from '../src/contracts/principals.js';
import { ValidationError, type FieldProblem } from '../src/errors.js';
import { ID_PATTERN } from '../src/auth/validate.js';

export { validateGroup, validatePrincipal } from '../src/auth/validate.js';

export function validateApiKey(record: ApiKeyRecord): void {
  const problems: FieldProblem[] = [];
  if (typeof record?.id !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(record.id)) {
    problems.push({ field: 'id', message: 'must be 8-64 URL-safe characters' });
  }
  if (typeof record?.principalId !== 'string' || !ID_PATTERN.test(record.principalId)) {
    problems.push({ field: 'principalId', message: 'is not a valid principal id' });
  }
  if (typeof record?.secretHash !== 'string' || !/^(scrypt|hmac-sha256)\$/.test(record.secretHash)) {
    problems.push({ field: 'secretHash', message: 'must be an scrypt or hmac-sha256 hash' });
  }
  if (!Array.isArray(record?.scopes) || !record.scopes.every((s) => typeof s === 'string' && s.length <= 128)) {
    problems.push({ field: 'scopes', message: 'must be a list of strings' });
  }
  if (record?.name !== undefined && (typeof record.name !== 'string' || record.name.length > 256)) {
    problems.push({ field: 'name', message: 'must be a string of at most 256 characters' });
  }
  for (const key of ['createdAt', 'expiresAt'] as const) {
    const value = record?.[key];
    if ((key === 'createdAt' || value !== undefined) && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      problems.push({ field: key, message: 'must be a valid date' });
    }
  }
  if (problems.length > 0) throw new ValidationError('Invalid API key.', { errors: problems });
}

function isCiphertext(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('pc1:') && value.length <= 1024;
}

const RECOVERY_HASH = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_RECOVERY_CODES = 64;

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function checkSecondFactorFields(problems: FieldProblem[], record: Partial<SecondFactorRecord>): void {
  if (record.secret !== undefined && !isCiphertext(record.secret)) {
    problems.push({ field: 'secret', message: 'must be field-encryption ciphertext' });
  }
  if (record.confirmed !== undefined && typeof record.confirmed !== 'boolean') {
    problems.push({ field: 'confirmed', message: 'must be a boolean' });
  }
  const codes = record.recoveryCodes;
  if (
    codes !== undefined &&
    (!Array.isArray(codes) || codes.length > MAX_RECOVERY_CODES || !codes.every((c) => RECOVERY_HASH.test(c)))
  ) {
    problems.push({ field: 'recoveryCodes', message: `must be a list of at most ${MAX_RECOVERY_CODES} hashes` });
  }
  if (record.bypassUntil !== undefined && record.bypassUntil !== null && !isDate(record.bypassUntil)) {
    problems.push({ field: 'bypassUntil', message: 'must be a valid date' });
  }
  const by = record.bypassGrantedBy;
  if (by !== undefined && by !== null && (typeof by !== 'string' || !ID_PATTERN.test(by))) {
    problems.push({ field: 'bypassGrantedBy', message: 'is not a valid principal id' });
  }
}

export function validateSecondFactor(record: SecondFactorRecord): void {
  const problems: FieldProblem[] = [];
  if (typeof record?.principalId !== 'string' || !ID_PATTERN.test(record.principalId)) {
    problems.push({ field: 'principalId', message: 'is not a valid principal id' });
  }
  // Only ciphertext is stored: a plain secret handed in by mistake is refused, not kept readable.
  if (record?.secret === undefined) problems.push({ field: 'secret', message: 'must be field-encryption ciphertext' });
  if (typeof record?.confirmed !== 'boolean') problems.push({ field: 'confirmed', message: 'must be a boolean' });
  if (!Array.isArray(record?.recoveryCodes)) problems.push({ field: 'recoveryCodes', message: 'must be a list' });
  if (record?.lastStep !== undefined && (!Number.isSafeInteger(record.lastStep) || record.lastStep < 0)) {
    problems.push({ field: 'lastStep', message: 'must be a non-negative integer' });
  }
  if (!isDate(record?.createdAt)) problems.push({ field: 'createdAt', message: 'must be a valid date' });
  if (record) checkSecondFactorFields(problems, record);
  if (problems.length > 0) throw new ValidationError('Invalid second factor.', { errors: problems });
}

export function validateSecondFactorChange(change: SecondFactorChange): void {
  const problems: FieldProblem[] = [];
  if (typeof change !== 'object' || change === null) {
    problems.push({ field: 'change', message: 'must be an object' });
  } else {
    checkSecondFactorFields(problems, change as Partial<SecondFactorRecord>);
  }
  if (problems.length > 0) throw new ValidationError('Invalid second factor change.', { errors: problems });
}

/** The page options of `listSecondFactors`, checked: a limit of 1 to 10 000 and an optional string cursor. */
export function secondFactorPage(options: { after?: string; limit: number }): { after?: string; limit: number } {
  const problems: FieldProblem[] = [];
  const { after, limit } = options ?? {};
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    problems.push({ field: 'limit', message: 'must be an integer from 1 to 10000' });
  }
  if (after !== undefined && typeof after !== 'string') problems.push({ field: 'after', message: 'must be a string' });
  if (problems.length > 0) throw new ValidationError('Invalid second factor page.', { errors: problems });
  return after === undefined ? { limit } : { after, limit };
}

/** A step is a whole number of periods since the epoch. */
export function isTotpStep(step: unknown): step is number {
  return Number.isSafeInteger(step) && (step as number) >= 0;
}
