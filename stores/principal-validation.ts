// Input checks for API-key records, shared by every principal store.
import type { ApiKeyRecord } from '../src/contracts/principals.js';
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
