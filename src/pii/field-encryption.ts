// Field encryption for records: encrypt/decrypt codecs, blind indexes for equality search, filter rewriting.
import { checkOptions } from '../options.js';
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { setOwn } from '../own.js';
import { ConfigError, ValidationError } from '../errors.js';
import type { BlindIndexer } from './blind-index.js';
import { DecryptionError, decryptField, encryptField, isCiphertext, keyVersionOf } from './field-cipher.js';
import { parseKeyRing, type KeyRing } from './key-ring.js';

/** How a searchable value is normalised before indexing: e.g. `lowercase` makes email search case-blind. */
export type IndexNormalization = 'none' | 'lowercase' | 'trim-lowercase';

export interface EncryptedFieldSpec {
  /** Dotted path of the field, e.g. `ssn` or `contact.email`. */
  path: string;
  /** Keep a blind index so `field=value` and `field in [...]` work. Default false. */
  searchable?: boolean;
  /** Applied to values before indexing (and to searched values). Default `none`. */
  normalize?: IndexNormalization;
}

export interface FieldEncryptionOptions {
  /** The key ring, or its `ENCRYPTION_KEYS` text (`1:BASE64KEY,2:secret:TEXT`). */
  keys: KeyRing | string;
  /** With a text `keys`: the version new values use. Default: the highest. */
  currentVersion?: number;
  /** Encrypted fields. */
  fields: (string | EncryptedFieldSpec)[];
  /** HMAC key of the blind indexes (≥ 32 bytes, or its base64); required when a field is searchable. */
  blindIndexKey?: string | Buffer;
  /** Suffix of the stored blind-index field. Default `_bidx` (so `ssn` is indexed in `ssn_bidx`). */
  indexSuffix?: string;
  /** Stored field holding the key version the whole record is encrypted with. Default `_encVersion`. */
  versionField?: string;
}

/** A record that could not be decrypted; it names the record and field, never a value or a key. */
export interface DecryptionProblem {
  id?: unknown;
  field: string;
  code: string;
  message: string;
}

export interface DecryptedList<T> {
  data: T[];
  errors: DecryptionProblem[];
}

type Doc = Record<string, unknown>;
const FIELD_OPTIONS = ['path', 'searchable', 'normalize'];
const OPTIONS = ['keys', 'currentVersion', 'fields', 'blindIndexKey', 'indexSuffix', 'versionField'];
const SAFE_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const FORBIDDEN = /(^|\.)(__proto__|prototype|constructor)(\.|$)/;

interface CompiledField {
  path: string;
  parts: string[];
  searchable: boolean;
  indexField: string;
  indexParts: string[];
  normalize: (text: string) => string;
  indexKey: KeyObject | undefined;
}

/** Reads a dotted path from a plain record. */
export function getPath(record: Doc, parts: readonly string[]): unknown {
  let value: unknown = record;
  for (const part of parts) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Doc)[part];
  }
  return value;
}

/** Writes a dotted path into a copy-on-write record; returns the new root. */
function setPath(record: Doc, parts: readonly string[], value: unknown): Doc {
  const [head, ...rest] = parts as [string, ...string[]];
  const copy: Doc = { ...record };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = copy[head];
  copy[head] = setPath(
    typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Doc) : {},
    rest,
    value,
  );
  return copy;
}

function indexText(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Validates options once; the result encrypts, decrypts and answers blind-index questions. */
export function createFieldEncryption(options: FieldEncryptionOptions): FieldEncryption {
  return new FieldEncryption(options);
}

export class FieldEncryption implements BlindIndexer {
  readonly ring: KeyRing;
  readonly versionField: string;
  private readonly fields: CompiledField[];
  private readonly byPath = new Map<string, CompiledField>();
  private readonly byIndexField = new Map<string, CompiledField>();
  /** Blind-index field names at the top level of a record (the common case, stripped in one pass). */
  private readonly topIndexFields = new Set<string>();

  constructor(options: FieldEncryptionOptions) {
    checkOptions('createFieldEncryption()', options, OPTIONS);
    this.ring = typeof options.keys === 'string' ? parseKeyRing(options.keys, options.currentVersion) : options.keys;
    if (!this.ring || typeof this.ring.key !== 'function')
      throw new ConfigError('keys', 'must be a key ring or its text');
    const suffix = options.indexSuffix ?? '_bidx';
    if (!/^[A-Za-z0-9_]{1,32}$/.test(suffix)) throw new ConfigError('indexSuffix', 'must be 1–32 letters, digits or _');
    this.versionField = options.versionField ?? '_encVersion';
    if (!SAFE_PATH.test(this.versionField)) throw new ConfigError('versionField', 'must be a field name');
    const indexKey = options.blindIndexKey === undefined ? undefined : blindKey(options.blindIndexKey);
    if (!Array.isArray(options.fields) || options.fields.length === 0) {
      throw new ConfigError('fields', 'must list at least one field to encrypt');
    }
    this.fields = options.fields.map((item, index) => {
      const spec: EncryptedFieldSpec = typeof item === 'string' ? { path: item } : item;
      const option = `fields[${index}]`;
      checkOptions('field', spec, FIELD_OPTIONS, { path: option });
      if (typeof spec.path !== 'string' || !SAFE_PATH.test(spec.path) || FORBIDDEN.test(spec.path)) {
        throw new ConfigError(option, 'must be a dotted field path like "ssn" or "contact.email"', {
          code: 'pii.invalid_path',
        });
      }
      if (this.byPath.has(spec.path)) throw new ConfigError(option, `"${spec.path}" is listed twice`);
      const searchable = spec.searchable ?? false;
      if (searchable && !indexKey) {
        throw new ConfigError(
          'blindIndexKey',
          `is required: field "${spec.path}" is searchable (set BLIND_INDEX_KEY)`,
          {
            code: 'pii.missing_key',
          },
        );
      }
      const normalize = spec.normalize ?? 'none';
      const normalizer =
        normalize === 'none'
          ? (text: string) => text
          : normalize === 'lowercase'
            ? (text: string) => text.toLowerCase()
            : normalize === 'trim-lowercase'
              ? (text: string) => text.trim().toLowerCase()
              : undefined;
      if (!normalizer) throw new ConfigError(`${option}.normalize`, 'must be none, lowercase or trim-lowercase');
      const compiled: CompiledField = {
        path: spec.path,
        parts: spec.path.split('.'),
        searchable,
        indexField: `${spec.path}${suffix}`,
        indexParts: `${spec.path}${suffix}`.split('.'),
        normalize: normalizer,
        // A key per field: equal values in two fields get unrelated indexes, so fields cannot be joined.
        indexKey:
          searchable && indexKey
            ? createSecretKey(
                Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), `portcullis blind index ${spec.path}`, 32)),
              )
            : undefined,
      };
      this.byPath.set(spec.path, compiled);
      this.byIndexField.set(compiled.indexField, compiled);
      if (searchable && compiled.indexParts.length === 1) this.topIndexFields.add(compiled.indexField);
      return compiled;
    });
  }

  /** The encrypted field paths. */
  get paths(): string[] {
    return this.fields.map((field) => field.path);
  }

  isEncrypted(field: string): boolean {
    return this.byPath.has(field);
  }

  isSearchable(field: string): boolean {
    return this.byPath.get(field)?.searchable ?? false;
  }

  indexField(field: string): string {
    const compiled = this.byPath.get(field);
    if (!compiled) throw new ValidationError(`Field "${field}" is not encrypted.`, { code: 'filter.not_encrypted' });
    return compiled.indexField;
  }

  index(field: string, plaintext: string): string {
    const compiled = this.byPath.get(field);
    if (!compiled?.indexKey) {
      throw new ValidationError(`Field "${field}" is encrypted without a blind index: it cannot be searched.`, {
        code: 'filter.encrypted_field',
        errors: [{ field, message: 'encrypted and not searchable', code: 'filter.encrypted_field' }],
      });
    }
    return this.indexOf(compiled, plaintext);
  }

  private indexOf(field: CompiledField, value: unknown): string {
    return createHmac('sha256', field.indexKey!)
      .update(field.normalize(indexText(value)), 'utf8')
      .digest('base64url');
  }

  /** The stored fields derived from encrypted ones (blind indexes and the version), which responses should drop. */
  get derivedFields(): string[] {
    return [...this.byIndexField.keys(), this.versionField];
  }

  /**
   * A copy of `record` with every present encrypted field encrypted under the current key, its blind index
   * beside it, and the version field set. Values are always encrypted, even ones that look like ciphertext,
   * so a client cannot plant a forged ciphertext.
   */
  encryptRecord<T extends Doc>(record: T): T {
    let out: Doc = record;
    for (const field of this.fields) {
      const value = getPath(out, field.parts);
      if (value === undefined) continue;
      if (value === null) {
        if (field.searchable) out = setPath(out, field.indexField.split('.'), null);
        continue;
      }
      out = setPath(out, field.parts, encryptField(this.ring, field.path, value));
      if (field.searchable) out = setPath(out, field.indexField.split('.'), this.indexOf(field, value));
    }
    return { ...out, [this.versionField]: this.ring.current } as T;
  }

  /** The encrypted value and blind index of one field, for update operators (`$set`). */
  encryptValue(path: string, value: unknown): { value: string; index?: string } {
    const field = this.byPath.get(path);
    if (!field) throw new Error(`field "${path}" is not encrypted`);
    const encrypted = encryptField(this.ring, field.path, value);
    return field.searchable ? { value: encrypted, index: this.indexOf(field, value) } : { value: encrypted };
  }

  /** Decrypts one stored field value (plaintext values from before encryption pass through). */
  decryptValue(path: string, stored: unknown): unknown {
    if (!isCiphertext(stored)) return stored;
    return decryptField(this.ring, path, stored);
  }

  /**
   * A copy of a stored record with its encrypted fields decrypted and derived fields dropped. Values stored
   * before encryption was enabled (not ciphertext) pass through. Throws `DecryptionError`.
   */
  decryptRecord<T extends Doc>(stored: T, omit?: ReadonlySet<string>): T {
    let out = this.stripDerived(stored, omit);
    for (const field of this.fields) {
      if (omit?.has(field.path)) {
        if (field.parts.length > 1 && getPath(out, field.parts) !== undefined)
          out = setPath(out, field.parts, undefined);
        continue;
      }
      const value = getPath(out, field.parts);
      if (!isCiphertext(value)) continue;
      const plain = decryptField(this.ring, field.path, value);
      if (field.parts.length === 1 && out !== stored) out[field.path] = plain;
      else out = setPath(out, field.parts, plain);
    }
    return out as T;
  }

  /**
   * A copy without blind indexes and the version field (the record itself when it has none), and without
   * the top-level fields in `omit`.
   */
  stripDerived(record: Doc, omit?: ReadonlySet<string>): Doc {
    // Built key by key rather than copied and then `delete`d: deleting turns an object into a slow
    // dictionary, and every later read, mask and serialization of the record would pay for it.
    let derivedAtTop = Object.hasOwn(record, this.versionField);
    for (const name of this.topIndexFields) if (Object.hasOwn(record, name)) derivedAtTop = true;
    if (omit) for (const name of omit) if (Object.hasOwn(record, name)) derivedAtTop = true;
    let out = record;
    if (derivedAtTop) {
      out = {};
      for (const key of Object.keys(record)) {
        if (key === this.versionField || this.topIndexFields.has(key) || omit?.has(key)) continue;
        setOwn(out, key, record[key]);
      }
    }
    for (const field of this.fields) {
      if (field.searchable && field.indexParts.length > 1 && getPath(out, field.indexParts) !== undefined) {
        out = setPath(out, field.indexParts, undefined);
      }
    }
    return out;
  }

  /** Decrypts a list; a record that fails goes to `errors` (InCountry-style) instead of failing the list. */
  decryptMany<T extends Doc>(stored: readonly T[], idField = '_id'): DecryptedList<T> {
    const data: T[] = [];
    const errors: DecryptionProblem[] = [];
    for (const record of stored) {
      try {
        data.push(this.decryptRecord(record));
      } catch (error) {
        errors.push(problemOf(error, record[idField]));
      }
    }
    return { data, errors };
  }

  /** True when the record is not entirely on the current key (or holds plaintext from before encryption). */
  needsMigration(stored: Doc): boolean {
    if (stored[this.versionField] !== this.ring.current) return true;
    return this.fields.some((field) => {
      const value = getPath(stored, field.parts);
      return value !== undefined && value !== null && keyVersionOf(value) !== this.ring.current;
    });
  }

  /**
   * The `$set`/`$unset` that move a stored record onto the current key: every encrypted field re-encrypted
   * and re-indexed. Throws `DecryptionError` when a field cannot be decrypted.
   */
  migrationUpdate(stored: Doc): { $set: Doc; $unset: Doc } {
    const $set: Doc = { [this.versionField]: this.ring.current };
    const $unset: Doc = {};
    for (const field of this.fields) {
      const value = getPath(stored, field.parts);
      if (value === undefined) continue;
      if (value === null) {
        if (field.searchable) $set[field.indexField] = null;
        continue;
      }
      const plaintext = this.decryptValue(field.path, value);
      $set[field.path] = encryptField(this.ring, field.path, plaintext);
      if (field.searchable) $set[field.indexField] = this.indexOf(field, plaintext);
    }
    return { $set, $unset };
  }

  /**
   * Rewrites a MongoDB-style filter so encrypted fields are searched through their blind index: a value or
   * `$eq` becomes an index match, `$in` a list of indexes; `$exists` passes through, and so do conditions already on an index field (the filter language
   * writes those itself). Any other operator on an
   * encrypted field is a 400 that says why. `$and`, `$or` and `$nor` are rewritten recursively.
   */
  rewriteFilter<F extends Doc>(filter: F): F {
    let out: Doc | undefined;
    for (const key of Object.keys(filter)) {
      const value = filter[key];
      let replacement: Doc | undefined;
      if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
        const rewritten = value.map((item) =>
          typeof item === 'object' && item !== null ? this.rewriteFilter(item as Doc) : item,
        );
        if (rewritten.some((item, index) => item !== value[index])) replacement = { [key]: rewritten };
      } else if (this.byPath.has(key)) {
        replacement = this.rewriteCondition(this.byPath.get(key)!, value);
      }
      if (replacement) {
        out ??= { ...filter };
        delete out[key];
        Object.assign(out, replacement);
      }
    }
    return (out ?? filter) as F;
  }

  private rewriteCondition(field: CompiledField, condition: unknown): Doc {
    const refuse = (why: string): never => {
      throw new ValidationError(`Field "${field.path}" is encrypted: ${why}`, {
        code: 'filter.encrypted_field',
        errors: [{ field: field.path, message: why, code: 'filter.encrypted_field' }],
      });
    };
    if (condition === null) return { [field.path]: null };
    const plain = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
    if (plain(condition)) {
      if (!field.searchable) refuse('it has no blind index, so it cannot be searched.');
      return { [field.indexField]: this.indexOf(field, condition) };
    }
    if (typeof condition !== 'object' || condition instanceof RegExp || Array.isArray(condition)) {
      return refuse('only equality and "in" can search it.');
    }
    const operators = Object.keys(condition as Doc);
    if (operators.length === 1 && operators[0] === '$exists') return { [field.path]: condition };
    const out: Doc = {};
    for (const operator of operators) {
      const operand = (condition as Doc)[operator];
      if (operator === '$eq' && plain(operand)) {
        if (!field.searchable) refuse('it has no blind index, so it cannot be searched.');
        out.$eq = this.indexOf(field, operand);
      } else if (operator === '$in' && Array.isArray(operand) && operand.every(plain)) {
        if (!field.searchable) refuse('it has no blind index, so it cannot be searched.');
        out.$in = operand.map((item) => this.indexOf(field, item));
      } else {
        refuse(
          `only equality and "in" can search it (got ${operator}); ordering, ranges and patterns would need the plaintext.`,
        );
      }
    }
    return { [field.indexField]: out };
  }
}

function blindKey(key: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(key)
    ? key
    : /^[A-Za-z0-9+/_-]{43,}={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 32
      ? Buffer.from(key, 'base64')
      : Buffer.from(key, 'utf8');
  if (bytes.length < 32) throw new ConfigError('blindIndexKey', 'must be at least 32 bytes', { code: 'pii.weak_key' });
  return bytes;
}

/** A decryption failure as reported beside a list. */
export function problemOf(error: unknown, id?: unknown): DecryptionProblem {
  if (error instanceof DecryptionError) {
    return { ...(id === undefined ? {} : { id }), field: error.field, code: error.code, message: error.message };
  }
  return {
    ...(id === undefined ? {} : { id }),
    field: '',
    code: 'pii.decrypt_failed',
    message: 'The record could not be decrypted.',
  };
}
