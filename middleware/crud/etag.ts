// Strong ETags from record versions, and If-Match checks (412 on a stale write).
import type { Request } from 'express';
import { PreconditionFailedError, ValidationError } from '../../src/errors.js';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * The version `If-Match` demands: undefined without the header, `'*'` for any, else the listed versions.
 * Weak tags never match (RFC 9110 uses strong comparison for If-Match).
 */
export function requiredVersions(req: Request): '*' | number[] | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  if (header.length > 512)
    throw new ValidationError('The If-Match header is too long.', { code: 'validation.if_match' });
  if (header.trim() === '*') return '*';
  const versions: number[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*"(\d{1,15})"\s*$/.exec(part);
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

/** Throws 412 when `If-Match` names other versions than the record's. */
export function checkIfMatch(req: Request, version: number): boolean {
  const wanted = requiredVersions(req);
  if (wanted === undefined) return false;
  if (wanted !== '*' && !wanted.includes(version)) {
    throw new PreconditionFailedError('The record has changed since you read it; fetch it again.', {
      headers: { ETag: etagOf(version) },
    });
  }
  return true;
}
