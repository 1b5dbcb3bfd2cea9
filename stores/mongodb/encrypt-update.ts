// Encrypts the encrypted fields inside a MongoDB update document; refuses operators that need the plaintext.
import { ValidationError } from '../../src/errors.js';
import type { FieldEncryption } from '../../src/pii/field-encryption.js';

type Doc = Record<string, unknown>;
const SETTERS = ['$set', '$setOnInsert'];

function refuse(path: string, operator: string): never {
  throw new ValidationError(`Field "${path}" is encrypted: ${operator} cannot change it; set a new value instead.`, {
    code: 'update.encrypted_field',
    errors: [{ field: path, message: `${operator} needs the plaintext`, code: 'update.encrypted_field' }],
  });
}

/** Encrypts `path` (relative to `object`) in a copy of `object`, writing its index beside it. */
function encryptInside(encryption: FieldEncryption, fullPath: string, object: Doc, relative: string[]): Doc {
  const [head, ...rest] = relative as [string, ...string[]];
  if (!Object.hasOwn(object, head)) return object;
  const copy = { ...object };
  if (rest.length === 0) {
    const value = copy[head];
    const indexName = encryption.isSearchable(fullPath) ? encryption.indexField(fullPath).split('.').pop()! : undefined;
    if (value === null || value === undefined) {
      if (indexName) copy[indexName] = null;
      return copy;
    }
    const encrypted = encryption.encryptValue(fullPath, value);
    copy[head] = encrypted.value;
    if (indexName) copy[indexName] = encrypted.index;
    return copy;
  }
  const child = copy[head];
  if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
    copy[head] = encryptInside(encryption, fullPath, child as Doc, rest);
  }
  return copy;
}

/** Returns the update with encrypted fields encrypted; a replacement document is encrypted whole. */
export function encryptUpdate(encryption: FieldEncryption, update: Doc | Doc[], replacement: boolean): Doc | Doc[] {
  if (Array.isArray(update)) {
    const text = JSON.stringify(update);
    for (const path of encryption.paths) if (text.includes(path)) refuse(path, 'an aggregation pipeline');
    return update;
  }
  if (replacement) return encryption.encryptRecord(update);
  let out: Doc = update;
  const operators = Object.keys(update);
  const plainFields = operators.filter((key) => !key.startsWith('$'));
  if (plainFields.length > 0) {
    // Mongoose treats top-level fields of an update as $set.
    const $set = { ...((update.$set as Doc | undefined) ?? {}) };
    for (const key of plainFields) $set[key] = update[key];
    out = { $set };
    for (const key of operators) if (key.startsWith('$') && key !== '$set') out[key] = update[key];
  }
  for (const operator of Object.keys(out)) {
    const body = out[operator];
    if (typeof body !== 'object' || body === null) continue;
    for (const path of encryption.paths) {
      for (const key of Object.keys(body as Doc)) {
        const exact = key === path;
        const parent = path.startsWith(`${key}.`);
        if (!exact && !parent) continue;
        if (SETTERS.includes(operator)) {
          const relative = exact ? [key] : [key, ...path.slice(key.length + 1).split('.')];
          out = { ...out, [operator]: encryptInside(encryption, path, out[operator] as Doc, relative) };
        } else if (operator === '$unset' && encryption.isSearchable(path)) {
          out = { ...out, $unset: { ...(out.$unset as Doc), [encryption.indexField(path)]: '' } };
        } else if (operator !== '$unset') {
          refuse(path, operator);
        }
      }
    }
  }
  return out;
}
