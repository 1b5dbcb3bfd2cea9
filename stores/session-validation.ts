// Input checks shared by every session store, so all backends reject the same bad input the same way.
import type { NewSession } from '../src/contracts/sessions.js';
import { ValidationError } from '../src/errors.js';

const ID = /^[A-Za-z0-9_-]{8,128}$/;

export function validateNewSession(session: NewSession): void {
  const problems = [];
  if (typeof session.id !== 'string' || !ID.test(session.id)) {
    problems.push({ field: 'id', message: 'must be 8-128 URL-safe characters' });
  }
  if (typeof session.userId !== 'string' || session.userId.length === 0 || session.userId.length > 256) {
    problems.push({ field: 'userId', message: 'must be a non-empty string of at most 256 characters' });
  }
  if (!Number.isSafeInteger(session.ttlMs) || session.ttlMs <= 0) {
    problems.push({ field: 'ttlMs', message: 'must be a positive integer' });
  }
  for (const [key, value] of Object.entries(session.meta ?? {})) {
    if (typeof value !== 'string' || value.length > 1024) {
      problems.push({ field: `meta.${key}`, message: 'must be a string of at most 1024 characters' });
    }
  }
  if (problems.length > 0) throw new ValidationError('Invalid session.', { errors: problems });
}
